"""What the harness knows of each vendor, one profile per NAPALM driver: the configuration
syntax of its faults, whether its commit can be confirmed, its configuration sessions, how its
OSPF neighbours are read (TextFSM) and how it spells their states, how it reaches the
built-in lab. Adding a vendor is one entry in `PROFILES`. A driver without a profile can
still be connected to; whatever needs knowledge it lacks refuses it, naming the drivers that
have it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")  # the harness's own, indexed as ntc-templates'
SHOW_IP_OSPF_NEIGHBOR = "show ip ospf neighbor"


@dataclass(frozen=True)
class Change:
    """A configuration change and what undoes it, in the driver's syntax."""

    apply: str
    undo: str


@dataclass(frozen=True)
class TextFsm:
    """A TextFSM template, as `ntc_templates.parse.parse_output` finds it."""

    platform: str  # as the index names it
    command: str  # the CLI command whose output it reads
    folder: str | None = None  # None: ntc-templates' own


@dataclass(frozen=True)
class BuiltInLab:
    """How a driver reaches a router of the built-in lab on this machine."""

    namespace_arg: str  # the optional argument that names the router's namespace
    elsewhere_args: frozenset[str]  # optional arguments that point at another instance


@dataclass(frozen=True)
class VendorProfile:
    """One NAPALM driver's vendor knowledge; None where nothing is known."""

    driver: str  # as `napalm.get_network_driver` names it
    shutdown: Change | None = None  # for one interface, `{i}`
    drain: Change | None = None  # the default planned drain; None: the scenario gives it
    vrrp_priority: str | None = None  # sets a VRRP group's priority: `{i}`, `{vrid}`, `{priority}`
    commit_confirm: bool = False  # commit_config(revert_in=...) and has_pending_commit()
    session_attr: str | None = None  # the driver attribute naming its configuration session
    ospf_neighbors: TextFsm | None = None
    state_spellings: Mapping[str, str] = field(default_factory=dict)  # see neighbour_state
    built_in_lab: BuiltInLab | None = None

    def neighbour_state(self, shown: str) -> str:
        """An OSPF neighbour state as RFC 2328 names it, lower case and without hyphens: the
        DR role dropped ("FULL/DR", "Full/-" read as full, "2-Way/DROther" as 2way), then
        the vendor's own spellings mapped ("TWOWAY" on NX-OS); anything else as shown."""
        state = shown.split("/")[0].strip().lower().replace("-", "")
        return self.state_spellings.get(state, state)


FRR = VendorProfile(
    driver="frr",
    shutdown=Change("interface {i}\n shutdown\nexit\n", "interface {i}\n no shutdown\nexit\n"),
    drain=Change("router ospf\n max-metric router-lsa administrative\nexit\n",
                 "router ospf\n no max-metric router-lsa administrative\nexit\n"),
    vrrp_priority="interface {i}\n vrrp {vrid} priority {priority}\nexit\n",
    commit_confirm=True,
    ospf_neighbors=TextFsm("frr", SHOW_IP_OSPF_NEIGHBOR, str(TEMPLATES)),
    built_in_lab=BuiltInLab("pathspace", frozenset({"transport", "pathspace", "state_dir"})),
)
EOS = VendorProfile(
    driver="eos",
    shutdown=Change("interface {i}\n shutdown\n", "interface {i}\n no shutdown\n"),
    commit_confirm=True,
    # napalm.eos commits in a configuration session and aborts a pending one only by name
    session_attr="config_session",
    ospf_neighbors=TextFsm("arista_eos", SHOW_IP_OSPF_NEIGHBOR),
)
JUNOS = VendorProfile(
    driver="junos",
    shutdown=Change("set interfaces {i} disable\n", "delete interfaces {i} disable\n"),
    commit_confirm=True,
    ospf_neighbors=TextFsm("juniper_junos", "show ospf neighbor"),
)
# NAPALM's ios, nxos and iosxr drivers refuse revert_in: no fault through them, state only
IOS = VendorProfile(driver="ios", ospf_neighbors=TextFsm("cisco_ios", SHOW_IP_OSPF_NEIGHBOR))
NXOS = VendorProfile(driver="nxos", ospf_neighbors=TextFsm("cisco_nxos", SHOW_IP_OSPF_NEIGHBOR),
                     state_spellings={"twoway": "2way"})
IOSXR = VendorProfile(driver="iosxr", ospf_neighbors=TextFsm("cisco_xr", "show ospf neighbor"))

PROFILES: dict[str, VendorProfile] = {p.driver: p for p in (
    FRR, EOS, JUNOS, IOS, NXOS, replace(NXOS, driver="nxos_ssh"), IOSXR)}


def profile(driver: str) -> VendorProfile:
    """The driver's profile; for a driver without one, a profile that knows nothing."""
    return PROFILES.get(driver) or VendorProfile(driver)


def drivers_with(known: Callable[[VendorProfile], object]) -> str:
    """The drivers whose profile has `known`, for a message naming the alternatives."""
    return ", ".join(sorted(name for name, p in PROFILES.items() if known(p)))
