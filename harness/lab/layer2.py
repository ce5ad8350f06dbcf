"""A lab's layer 2 and first-hop redundancy in one reading: every VRRP group's members (on
the routers that run vrrpd) and every Linux bridge's spanning tree (on the switch nodes),
with what keeps them from having converged, and their state as snapshot lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.lab import stp, vrrp
from harness.lab.stp import Bridge
from harness.lab.vrrp import VrrpMember

if TYPE_CHECKING:
    from harness.lab.lab import Lab

Mapper = Callable[[Callable[[str], Any], Iterable[str]], Iterable[Any]]


@dataclass
class Layer2:
    members: list[VrrpMember]
    domains: list[list[Bridge]]  # STP bridges by layer-2 domain
    bridges: list[Bridge]  # every bridge, STP or not

    def waiting(self) -> list[str]:
        """What has not converged: VRRP groups without their one expected master (a split
        brain named as such), STP domains without one agreed root or with ports in
        transition."""
        return vrrp.judge(self.members) + [w for d in self.domains for w in stp.judge(d)]

    def root_of(self, bridge: Bridge) -> str:
        """The root bridge by name (`core1 br-ed`), as `bridge` sees it."""
        named = {b.bridge_id: str(b) for b in self.bridges}
        return named.get(bridge.root_id, bridge.root_id)

    def lines(self) -> dict[str, dict[str, list[str]]]:
        """node -> {"vrrp": [...], "stp": [...]}: sorted lines, stable while nothing changes
        (bridge ids and counters left out: a root is named by its node and bridge)."""
        out: dict[str, dict[str, list[str]]] = {}
        for m in self.members:
            out.setdefault(m.router, {}).setdefault("vrrp", []).append(
                f"{m.group} {m.interface} {m.status} priority {m.priority}")
        for b in self.bridges:
            part = out.setdefault(b.node, {}).setdefault("stp", [])
            part.append(f"{b.name} root {self.root_of(b)}" if b.stp else f"{b.name} stp off")
            part += [f"{b.name} {port} {state}" for port, state in b.ports.items()]
        return {node: {k: sorted(v) for k, v in parts.items()} for node, parts in out.items()}


def has_layer2(lab: Lab) -> bool:
    """Whether the topology has anything to read: switches, or routers running vrrpd."""
    return any(n.is_switch or (n.frr is not None and "vrrpd" in n.frr.daemons)
               for n in lab.topology.nodes.values())


def read_layer2(lab: Lab, shown: dict[str, Any] | None = None, mapper: Mapper = map) -> Layer2:
    """Read it all now; `shown`: routers' `show vrrp json` already read (the others are
    asked); `mapper`: a pool's map to read the nodes in parallel."""
    nodes = lab.topology.nodes.values()
    routers = [n.name for n in nodes if n.frr is not None and "vrrpd" in n.frr.daemons]
    switches = [n.name for n in nodes if n.is_switch]
    shown = shown or {}
    members = [m for ms in mapper(lambda r: vrrp.read_members(lab, r, shown.get(r)), routers)
               for m in ms]
    readings = dict(zip(switches, mapper(lambda n: stp.read_bridges(lab, n), switches),
                        strict=True))
    bridges = [b for found, _ in readings.values() for b in found]
    oper = {node: states for node, (_, states) in readings.items()}
    up = [((lk.a.node, lk.a.interface), (lk.b.node, lk.b.interface))
          for lk in lab.topology.links
          if oper.get(lk.a.node, {}).get(lk.a.interface) == "up"
          and oper.get(lk.b.node, {}).get(lk.b.interface) == "up"]
    return Layer2(members=members, domains=stp.domains(bridges, up), bridges=bridges)
