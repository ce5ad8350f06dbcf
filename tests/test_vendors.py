"""Vendor profiles: a vendor added as one entry of `PROFILES` is what every consumer reads.
The vendor, its driver, its CLI output and its TextFSM template are fakes made up here
(`fakeos`): a driver name no consumer could know but through its profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.devices import DeviceSpec, connect, vendors
from harness.devices.state import UP_STATES
from harness.devices.textstate import OspfNeighbor, ospf_neighbors
from harness.devices.vendors import BuiltInLab, Change, TextFsm, VendorProfile
from harness.errors import HarnessError
from harness.faults import FaultError, Target, build
from harness.faults.napalm_change import NapalmChange

DEVICE = {"driver": "fakeos", "host": "core1.example", "username": "netops"}
PEERS = """\
Peer       Address        Port     State
10.0.0.2   198.18.0.2     et-1     ADJACENT/primary
10.0.0.3   198.18.0.6     et-2     TALKING/-
10.0.0.4   198.18.0.10    et-3     Hello-Seen
"""
TEMPLATE = """\
Value NEIGHBOR_ID (\\d+\\.\\d+\\.\\d+\\.\\d+)
Value IP_ADDRESS (\\d+\\.\\d+\\.\\d+\\.\\d+)
Value INTERFACE (\\S+)
Value STATE (\\S+)

Start
  ^${NEIGHBOR_ID}\\s+${IP_ADDRESS}\\s+${INTERFACE}\\s+${STATE}\\s*$$ -> Record
  ^Peer\\s+Address
  ^. -> Error
"""


@pytest.fixture
def fakeos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VendorProfile:
    """The fake vendor, added as one entry; its TextFSM template indexed in tmp_path."""
    (tmp_path / "fakeos_show_peers.textfsm").write_text(TEMPLATE)
    (tmp_path / "index").write_text("Template, Hostname, Platform, Command\n\n"
                                    "fakeos_show_peers.textfsm, .*, fakeos, sh[[ow]] peers\n")
    profile = VendorProfile(
        driver="fakeos",
        shutdown=Change("port {i} state disabled\n", "port {i} state enabled\n"),
        drain=Change("igp overload on\n", "igp overload off\n"),
        commit_confirm=True,
        session_attr="workspace",
        ospf_neighbors=TextFsm("fakeos", "show peers", str(tmp_path)),
        state_spellings={"adjacent": "full", "talking": "2way", "helloseen": "init"},
        built_in_lab=BuiltInLab("netns", frozenset({"netns", "remote"})),
    )
    monkeypatch.setitem(vendors.PROFILES, profile.driver, profile)
    return profile


def napalm_fault(kind: str, **params: Any) -> NapalmChange:
    fault = build(kind, {"node": "core1", "device": DEVICE, **params})
    assert isinstance(fault, NapalmChange)
    return fault


class FakeDevice:
    """A fake open NAPALM driver of fakeos: prints PEERS, records what the fault does."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.loaded: list[tuple[str | None, str]] = []  # (its workspace then, config)
        self.pending = False

    def cli(self, commands: list[str]) -> dict[str, str]:
        self.commands += commands
        return {command: PEERS for command in commands}

    def load_merge_candidate(self, config: str) -> None:
        self.loaded.append((getattr(self, "workspace", None), config))

    def compare_config(self) -> str:
        return self.loaded[-1][1]

    def commit_config(self, revert_in: int | None = None) -> None:
        self.pending = revert_in is not None

    def has_pending_commit(self) -> bool:
        return self.pending

    def close(self) -> None:
        pass


def test_interface_shutdown_commits_in_the_profiles_syntax_and_session(
        fakeos: VendorProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    device = FakeDevice()
    monkeypatch.setattr("harness.faults.target.connect", lambda *_: device)
    fault = napalm_fault("interface-shutdown", interfaces=["et-1", "et-2"])
    assert fault.undo() == "port et-1 state enabled\nport et-2 state enabled\n"
    fault.inject(Target(None, "fake"))
    assert device.loaded == [(fault.commit_session,
                              "port et-1 state disabled\nport et-2 state disabled\n")]


def test_planned_drain_defaults_to_the_profiles_drain(fakeos: VendorProfile) -> None:
    fault = napalm_fault("planned-drain")
    assert (fault.config(), fault.undo()) == ("igp overload on\n", "igp overload off\n")
    own = napalm_fault("planned-drain", drain="x\n", undrain="y\n")
    assert (own.config(), own.undo()) == ("x\n", "y\n")


def test_the_parser_reads_the_profiles_template_and_spellings(fakeos: VendorProfile) -> None:
    device = FakeDevice()
    found = ospf_neighbors(device, "fakeos")
    assert device.commands == ["show peers"]
    assert found == [OspfNeighbor("10.0.0.2", "198.18.0.2", "et-1", "full"),
                     OspfNeighbor("10.0.0.3", "198.18.0.6", "et-2", "2way"),
                     OspfNeighbor("10.0.0.4", "198.18.0.10", "et-3", "init")]
    assert [n.state in UP_STATES for n in found] == [True, True, False]


def test_the_profile_says_how_the_built_in_lab_is_reached(
        fakeos: VendorProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[dict[str, Any]] = []

    class FakeDriver:  # a fake NAPALM driver class: records its optional_args
        def __init__(self, *_: object, optional_args: dict[str, Any]) -> None:
            opened.append(optional_args)

        def open(self) -> None:
            pass

    class FakeLab:
        def ns(self, node: str) -> str:
            return f"fo-lab-{node}"

    monkeypatch.setattr("napalm.get_network_driver", lambda name: FakeDriver)
    connect("r1", {"driver": "fakeos"}, FakeLab())  # type: ignore[arg-type]
    assert opened == [{"netns": "fo-lab-r1"}]
    assert not DeviceSpec(driver="fakeos", optional_args={"remote": "x"}).is_lab
    assert not DeviceSpec(driver="fakeos", host="core1.example").is_lab


def test_without_its_entry_a_driver_is_refused_naming_those_that_can() -> None:
    with pytest.raises(FaultError, match=r"NAPALM driver 'fakeos' cannot commit with "
                                         r"commit-confirm .* drivers that can: eos, frr, junos$"):
        napalm_fault("interface-shutdown", interfaces=["et-1"])
    with pytest.raises(HarnessError, match="no TextFSM template for OSPF neighbours on driver "
                                           "fakeos"):
        ospf_neighbors(FakeDevice(), "fakeos")
    assert not DeviceSpec(driver="fakeos").is_lab


def test_a_profile_without_shutdown_syntax_refuses_interface_shutdown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(vendors.PROFILES, "fakeos", VendorProfile("fakeos", commit_confirm=True))
    with pytest.raises(FaultError, match="no shutdown syntax known for NAPALM driver 'fakeos' "
                                         r"\(known for: eos, frr, junos\)"):
        napalm_fault("interface-shutdown", interfaces=["et-1"])
    with pytest.raises(FaultError, match="planned-drain on NAPALM driver 'fakeos': give "
                                         r"`drain` .* \(drivers with a default drain: frr\)"):
        napalm_fault("planned-drain")
