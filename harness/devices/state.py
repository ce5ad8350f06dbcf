"""One reading of a device's forwarding state through its NAPALM driver: interfaces, OSPF
neighbours (TextFSM: NAPALM has no OSPF getter), and the active routes to given addresses.
The same on every vendor NAPALM and the templates know."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.devices.textstate import OspfNeighbor, ospf_neighbors

if TYPE_CHECKING:
    from napalm.base import NetworkDriver

UP_STATES = ("full", "2way")  # 2-Way is the steady state between two DROthers


@dataclass(frozen=True)
class DeviceState:
    interfaces: dict[str, bool]  # name -> operationally up
    ospf: tuple[OspfNeighbor, ...]
    routes: dict[str, tuple[str, ...]]  # address -> its active routes, one line each

    def lines(self) -> dict[str, list[str]]:
        """As sorted text lines per part (a snapshot: stable across equal readings)."""
        return {
            "interfaces": sorted(f"{name} {'up' if up else 'down'}"
                                 for name, up in self.interfaces.items()),
            "ospf": sorted(f"{n.router_id} {n.interface} {n.state}" for n in self.ospf),
            "routes": sorted(f"{address}: {line}" for address, lines in self.routes.items()
                             for line in lines),
        }


def read_state(driver: NetworkDriver, driver_name: str, addresses: list[str]) -> DeviceState:
    """Read `driver` (open): get_interfaces, OSPF neighbours, get_route_to each address."""
    interfaces = {name: bool(i.get("is_up")) for name, i in driver.get_interfaces().items()}
    neighbours = tuple(ospf_neighbors(driver, driver_name))
    routes = {address: _active(driver.get_route_to(destination=address))
              for address in addresses}
    return DeviceState(interfaces, neighbours, routes)


def _active(found: dict[str, list[dict[str, object]]]) -> tuple[str, ...]:
    return tuple(sorted(f"{prefix} {r.get('protocol', '')} via {r.get('next_hop') or '-'} "
                        f"{r.get('outgoing_interface') or ''}".rstrip()
                        for prefix, routes in found.items() for r in routes
                        if r.get("current_active")))
