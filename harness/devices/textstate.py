"""Device state that a driver gives only as text (NAPALM has no OSPF getter), read through
TextFSM: ntc-templates for the vendor drivers, the harness's own templates for FRR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ntc_templates.parse import ParsingException, parse_output
from textfsm import TextFSMError

from harness.errors import HarnessError

TEMPLATES = Path(__file__).with_name("templates")  # indexed like ntc-templates' own


class CliDevice(Protocol):
    """What is needed of an open NAPALM driver: text output per command."""

    def cli(self, commands: list[str]) -> dict[str, Any]: ...


class _Template(NamedTuple):
    platform: str  # TextFSM platform, as the index names it
    command: str
    folder: str | None = None  # None: ntc-templates' own


_OSPF_NEIGHBORS = {  # NAPALM driver -> template
    "eos": _Template("arista_eos", "show ip ospf neighbor"),
    "ios": _Template("cisco_ios", "show ip ospf neighbor"),
    "nxos": _Template("cisco_nxos", "show ip ospf neighbor"),
    "nxos_ssh": _Template("cisco_nxos", "show ip ospf neighbor"),
    "iosxr": _Template("cisco_xr", "show ospf neighbor"),
    "junos": _Template("juniper_junos", "show ospf neighbor"),
    "frr": _Template("frr", "show ip ospf neighbor", str(TEMPLATES)),
}


@dataclass(frozen=True)
class OspfNeighbor:
    """One OSPF adjacency. `state` is the same on every platform: lower case, without the
    DR role and hyphens ("full" from "FULL/DR" or "Full/-", "2way" from "2-Way/DROther")."""

    router_id: str
    address: str  # the neighbour's address on the link
    interface: str  # the local interface
    state: str


def ospf_neighbors(device: CliDevice, driver: str) -> list[OspfNeighbor]:
    """OSPF neighbours of an open NAPALM `device` whose driver is named `driver`."""
    template = _OSPF_NEIGHBORS.get(driver)
    if template is None:
        raise HarnessError(f"no TextFSM template for OSPF neighbours on driver {driver} "
                           f"(templates for: {', '.join(sorted(_OSPF_NEIGHBORS))})")
    text = device.cli([template.command])[template.command]
    try:
        rows = parse_output(platform=template.platform, command=template.command, data=text,
                            template_dir=template.folder)
    except (ParsingException, TextFSMError) as exc:
        raise HarnessError(f"driver {driver}: `{template.command}` does not read as the "
                           f"{template.platform} template expects: {exc}") from None
    return [OspfNeighbor(router_id=row["neighbor_id"], address=row["ip_address"],
                         interface=row["interface"], state=_state(row["state"]))
            for row in rows]


_SPELLINGS = {"twoway": "2way", "2ways": "2way"}  # NX-OS, IOS-XR and others


def _state(shown: str) -> str:
    """The OSPF state as RFC 2328 names it, lower case: full, 2way, init, ... ("FULL/DR",
    "2WAY/DROTHER", "TWOWAY/DROTHER", "Full" all read as their state)."""
    state = shown.split("/")[0].strip().lower().replace("-", "")
    return _SPELLINGS.get(state, state)
