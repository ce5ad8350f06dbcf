"""Device state that a driver gives only as text (NAPALM has no OSPF getter), read through
TextFSM, with the template and state spellings of the driver's vendor profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ntc_templates.parse import ParsingException, parse_output
from textfsm import TextFSMError

from harness.devices.vendors import drivers_with, profile
from harness.errors import HarnessError


class CliDevice(Protocol):
    """What is needed of an open NAPALM driver: text output per command."""

    def cli(self, commands: list[str]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class OspfNeighbor:
    """One OSPF adjacency. `state` is the same on every platform, as RFC 2328 names it in
    lower case ("full", "2way", "init", ...: see `VendorProfile.neighbour_state`)."""

    router_id: str
    address: str  # the neighbour's address on the link
    interface: str  # the local interface
    state: str


def ospf_neighbors(device: CliDevice, driver: str) -> list[OspfNeighbor]:
    """OSPF neighbours of an open NAPALM `device` whose driver is named `driver`."""
    vendor = profile(driver)
    template = vendor.ospf_neighbors
    if template is None:
        raise HarnessError(f"no TextFSM template for OSPF neighbours on driver {driver} "
                           f"(templates for: {drivers_with(lambda p: p.ospf_neighbors)})")
    text = device.cli([template.command])[template.command]
    try:
        rows = parse_output(platform=template.platform, command=template.command, data=text,
                            template_dir=template.folder)
    except (ParsingException, TextFSMError) as exc:
        raise HarnessError(f"driver {driver}: `{template.command}` does not read as the "
                           f"{template.platform} template expects: {exc}") from None
    return [OspfNeighbor(router_id=row["neighbor_id"], address=row["ip_address"],
                         interface=row["interface"], state=vendor.neighbour_state(row["state"]))
            for row in rows]
