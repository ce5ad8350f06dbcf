"""Whether a flow direction keeps a path once a fault is in place, reasoned in layers: the
source's traffic enters the routed network at its gateway, crosses routers, and leaves it at
a router on the destination's layer-2 domain.

- The gateway: a router is its own. A host's is the next hop of its routes (its exec): when
  that address is a VRRP group's virtual address, the group's master among the members still
  able to serve (not taken out by the fault, VRRP running and not shut down, healthy by the
  network's live reading, reachable from the host over layer 2); else the router holding the
  address, if reachable over layer 2. A host whose gateway cannot be told enters at any router
  on its layer-2 domain.
- The routed part: routers whose L3 interfaces share a layer-2 domain are neighbours (not
  over an interface their OSPF makes passive).
- The way out: any router on the destination's layer-2 domain (no VRRP needed to deliver).

A VRRP master that cannot route on still holds the gateway (FRR 8's vrrpd tracks nothing):
the flow is cut then, which the reason says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from harness.layer2.graph import Layer2, Out, Port
from harness.layer2.vrrp import Group, Health, Member, addresses, groups, router_interfaces
from harness.topology import Topology


@dataclass
class Ingress:
    """Where a node's traffic enters the routed network, or why nowhere."""

    routers: set[str] = field(default_factory=set)
    why: str = ""  # when `routers` is empty
    group: Group | None = None


class Model:
    """A topology's layer-2 domains, VRRP groups and addresses (read once: `harness.layer2.of`)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.layer2 = Layer2(topology)
        configs = router_interfaces(self.layer2)
        self.groups = groups(self.layer2, configs)
        self.addresses = addresses(self.layer2, configs)
        self.passive = {(node, name) for node, ifaces in configs.items()
                        for name, conf in ifaces.items() if conf.passive}
        self._vips = {a: g for g in self.groups for a in g.addresses}
        self._domains: dict[object, tuple[dict[Port, int], dict[int, set[str]]]] = {}

    def member(self, node: str, vrid: int, interface: str | None = None
               ) -> tuple[Member, Group] | str:
        """The node's member of VRRP group `vrid` (on `interface`, where it has several) and
        its group, or why there is not one."""
        found = [(m, g) for g in self.groups for m in g.members if m.node == node
                 and m.vrid == vrid and interface in (None, m.interface)]
        if len(found) == 1:
            return found[0]
        where = f" on {interface}" if interface else ""
        if not found:
            have = sorted(f"{m.vrid} on {m.interface}" for g in self.groups for m in g.members
                          if m.node == node)
            return (f"{node} is no member of VRRP group {vrid}{where} in topology "
                    f"{self.topology.name} (its groups: {', '.join(have) or 'none'})")
        return f"{node} has VRRP group {vrid} on several interfaces: name the interface"

    def group_of(self, address: IPv4Address) -> Group | None:
        return self._vips.get(address)

    def gateways(self, node: str) -> list[IPv4Address]:
        return self.layer2.builds[node].next_hops

    def _reach(self, node: str, out: Out) -> frozenset[Port]:
        return frozenset().union(*(self.layer2.reach(p, out)
                                   for p in self.layer2.l3_ports(node)))

    def _routers_in(self, ports: frozenset[Port], out: Out) -> set[str]:
        return {p[0] for p in ports if self.topology.nodes[p[0]].is_router
                and p[0] not in out.nodes}

    def member_out(self, member: Member, out: Out, health: Health) -> str:
        """Why the member cannot serve as the gateway ('' if it can)."""
        node = self.topology.nodes[member.node]
        if member.node in out.nodes:
            return f"{member.node} is taken out by the fault"
        if not self.layer2.reach(member.port, out):
            return f"{member} is down (the fault)"
        if member.node in out.gateways:
            return f"{member.node}'s VRRP stops (the fault)"
        if member.shutdown:
            return f"{member} has the group shut down (its configuration)"
        if node.frr is None or "vrrpd" not in node.frr.daemons:
            return f"{member.node} does not run vrrpd"
        if member.key in health:
            return f"{member.node}: {health[member.key]}"
        return ""

    def ingress(self, node: str, out: Out, health: Health) -> Ingress:
        """The routers the node's traffic enters the routed network at, with the fault in."""
        if self.topology.nodes[node].is_router:
            return Ingress({node} if node not in out.nodes else set(),
                           f"{node} is taken out by the fault")
        reach = self._reach(node, out)
        gateways = self.gateways(node)
        if not gateways:
            found = self._routers_in(reach, out)
            return Ingress(found, f"no router is reachable from {node} over layer 2")
        whys = []
        for address in gateways:
            entered = self._via(node, address, reach, out, health)
            if entered.routers:
                return entered
            whys.append(entered.why)
        return Ingress(set(), "; ".join(whys), entered.group)

    def _via(self, node: str, address: IPv4Address, reach: frozenset[Port], out: Out,
             health: Health) -> Ingress:
        group = self.group_of(address)
        if group is None:
            owner = self.addresses.get(address)
            if owner is None:
                return Ingress(self._routers_in(reach, out),
                               f"no router is reachable from {node} over layer 2")
            if owner[0] in out.nodes or self.layer2.resolve(owner) not in reach:
                return Ingress(set(), f"{node}'s gateway {address} ({owner[0]}:{owner[1]}) "
                                      "is not reachable over layer 2 with the fault in place")
            return Ingress({owner[0]})
        whys = []
        for member in group.members:  # highest priority first: the first able is master
            why = self.member_out(member, out, health) or (
                "" if self.layer2.resolve(member.port) in reach else
                f"{member} is not reachable from {node} over layer 2")
            if not why:
                return Ingress({member.node}, group=group)
            whys.append(why)
        return Ingress(set(), f"{node}'s gateway {address} ({group.name()}) has no member "
                              f"left: {'; '.join(whys)}", group)

    def egress(self, node: str, out: Out) -> set[str]:
        """The routers that can deliver to the node (any on its layer-2 domain)."""
        if self.topology.nodes[node].is_router:
            return {node} - out.nodes
        return self._routers_in(self._reach(node, out), out)

    def routed(self, start: set[str], goal: set[str], out: Out) -> bool:
        """Whether a routed path joins a router of `start` to one of `goal`."""
        domains, by_domain = self._routed_domains(out)
        seen, todo = set(start - out.nodes), list(start - out.nodes)
        while todo:
            router = todo.pop()
            if router in goal:
                return True
            for port in self.layer2.l3_ports(router):
                for nxt in by_domain.get(domains.get(port, -1), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
        return False

    def _routed_domains(self, out: Out) -> tuple[dict[Port, int], dict[int, set[str]]]:
        """Each routed (not passive) interface's layer-2 domain with `out` taken out, and each
        domain's routers; kept per `out` (a check asks once per flow direction)."""
        key = (out.nodes, out.links, out.ports)
        if key not in self._domains:
            domains = {p: n for p, n in self.layer2.domains(out).items()
                       if p not in self.passive}
            by_domain: dict[int, set[str]] = {}
            for port, number in domains.items():
                if self.topology.nodes[port[0]].is_router:
                    by_domain.setdefault(number, set()).add(port[0])
            self._domains[key] = domains, by_domain
        return self._domains[key]

    def cut(self, src: str, dst: str, out: Out, health: Health) -> str:
        """Why no path is left from src to dst with the fault in place ('' if one is)."""
        entered = self.ingress(src, out, health)
        if not entered.routers:
            return entered.why
        leaving = self.egress(dst, out)
        if not leaving:
            return f"no router can reach {dst} over layer 2 with the fault in place"
        if self.routed(entered.routers, leaving, out):
            return ""
        via = ", ".join(sorted(entered.routers))
        if entered.group is not None:
            return (f"{src}'s gateway ({entered.group.name()}) stays on {via}, which has no "
                    f"routed path to {dst} with the fault in place (VRRP tracks no uplink)")
        return f"no routed path from {via} to {dst} with the fault in place"
