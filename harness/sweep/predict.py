"""Before anything is measured: which flows each failure should affect. A flow is predicted
affected when some path it may take (any of its ECMP paths, read hop by hop from the nodes'
forwarding tables; from the topology's shortest paths where the tables cannot be read)
crosses what the failure takes out of forwarding (its declared scope), and certainly affected
when every one of those paths does. A failure that cuts the last path of a critical flow
(through any link of the topology) is a single point of failure.

Where the topology has switches (bridges), a hop out of an interface crosses its whole
layer-2 domain (`harness.layer2`): every link and port of the domain is on some path (STP
decides which forward, and may change its mind), and the next node is the destination when it
is in the domain, else every router there (a host's VRRP gateway may be any member: those are
the flow's first-hop gateways, which a gateway failure affects)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness import layer2
from harness.faults import Scope
from harness.layer2 import Layer2, Port
from harness.scenario.gate import paths_cut
from harness.scenario.load import FlowUnderTest
from harness.sweep.elements import Failure
from harness.topology import Link, Topology

# node -> its IPv4 routes: (prefix, outgoing interfaces; several for ECMP)
Forwarding = Mapping[str, Sequence[tuple[ipaddress.IPv4Network, tuple[str, ...]]]]


Hop = tuple[str, Link, str]  # from a node, over a link, to the next node


@dataclass(frozen=True)
class Paths:
    """Every hop some path of a flow direction may take, and where that was read."""

    src: str
    dst: str
    hops: frozenset[Hop]
    source: str  # "forwarding tables" or "topology"
    ports: frozenset[Port] = frozenset()  # in the layer-2 domains crossed (bridges included)
    gateways: frozenset[str] = frozenset()  # routers a host may enter through over layer 2

    @property
    def nodes(self) -> frozenset[str]:
        return frozenset(n for a, _, b in self.hops for n in (a, b))

    @property
    def links(self) -> frozenset[Link]:
        return frozenset(lk for _, lk, _ in self.hops)

    def crossed_by(self, scope: Scope) -> bool:
        """Some path crosses what the failure takes out."""
        return bool(self.nodes & scope.nodes or self.links & scope.links
                    or self.ports & scope.ports or self.gateways & scope.gateways)

    def all_cross(self, scope: Scope) -> bool:
        """Every path crosses it: none reaches dst around it."""
        seen, todo = {self.src}, [self.src]
        while todo:
            node = todo.pop()
            if node == self.dst:
                return False
            for a, lk, b in self.hops:
                if a == node and lk not in scope.links and b not in scope.nodes \
                        and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return bool(self.hops)


def _lookup(routes: Sequence[tuple[ipaddress.IPv4Network, tuple[str, ...]]],
            address: ipaddress.IPv4Address) -> tuple[str, ...]:
    """Longest-prefix match: the outgoing interfaces toward `address` ((): no route)."""
    best = max((r for r in routes if address in r[0]), key=lambda r: r[0].prefixlen,
               default=None)
    return best[1] if best else ()


@dataclass
class _Walk:
    """What a hop-by-hop walk has found so far."""

    hops: set[Hop]
    ports: set[Port]
    gateways: set[str]


def _across_layer2(topology: Topology, graph: Layer2, node: str, dev: str, dst: str,
                   walk: _Walk) -> set[str]:
    """Out of `node`'s `dev` into its layer-2 domain, to the next nodes: `dst` when it is
    there, else every router there; the domain's links and ports on the ways to them join the
    walk."""
    reach = graph.reach((node, dev))
    exits = {p for p in reach if p[0] != node and p in graph.l3_ports(p[0])}
    nexts = {dst} if dst in {p[0] for p in exits} else \
        {p[0] for p in exits if topology.nodes[p[0]].is_router}
    used = graph.between((node, dev), {p for p in exits if p[0] in nexts})
    walk.ports |= used
    for lk in topology.links:
        if (lk.a.node, lk.a.interface) in used and (lk.b.node, lk.b.interface) in used:
            walk.hops |= {(lk.a.node, lk, lk.b.node), (lk.b.node, lk, lk.a.node)}
    if not topology.nodes[node].is_router and dst not in nexts:
        walk.gateways |= nexts
    return nexts


def _from_tables(topology: Topology, fwd: Forwarding, src: str, dst: str,
                 address: ipaddress.IPv4Address) -> Paths | None:
    """Hop by hop through every ECMP next hop; None when a node on the way has no table."""
    graph = layer2.of(topology).layer2 if any(n.is_switch for n in topology.nodes.values()) \
        else None
    walk = _Walk(set(), set(), set())
    seen, todo = {src}, [src]
    while todo:
        node = todo.pop()
        if node == dst:
            continue
        if node not in fwd:
            return None
        ends = {lk.end(node).interface: lk for lk in topology.links_of(node)}
        for dev in _lookup(fwd[node], address):
            if graph is not None:
                nexts = _across_layer2(topology, graph, node, dev, dst, walk)
            elif dev in ends:
                nxt = ends[dev].other(node).node
                walk.hops.add((node, ends[dev], nxt))
                nexts = {nxt}
            else:
                continue
            for nxt in nexts - seen:
                seen.add(nxt)
                todo.append(nxt)
    return Paths(src, dst, frozenset(walk.hops), "forwarding tables", frozenset(walk.ports),
                 frozenset(walk.gateways))


def topology_paths(topology: Topology, src: str, dst: str) -> Paths:
    """Every node and link on some shortest path (by hops) from src to dst, through routers
    and switches."""
    forwarders = {n.name for n in topology.nodes.values() if n.is_router or n.is_switch}
    there, back = topology.hops_from(src), topology.hops_from(dst)
    total = there.get(dst)
    hops = frozenset() if total is None else frozenset(
        (u, lk, v) for lk in topology.links for u, v in ((lk.a.node, lk.b.node),
                                                        (lk.b.node, lk.a.node))
        if u in there and v in back and there[u] + 1 + back[v] == total
        and (u == src or u in forwarders) and (v == dst or v in forwarders))
    return Paths(src, dst, hops, "topology")


def flow_paths(topology: Topology, fwd: Forwarding, src: str, dst: str,
               address: ipaddress.IPv4Address) -> Paths:
    return _from_tables(topology, fwd, src, dst, address) or topology_paths(topology, src, dst)


@dataclass(frozen=True)
class Prediction:
    failure: Failure
    affected: frozenset[str]  # flow directions some path of which crosses the failure
    certain: frozenset[str]  # ...every path of which crosses it
    cuts: tuple[str, ...]  # critical flows left without a path: a single point of failure


def predict(topology: Topology, flows: Sequence[FlowUnderTest], failures: Sequence[Failure],
            paths: Mapping[str, Paths]) -> list[Prediction]:
    """Each failure's prediction from each direction's `paths` (by label); a failure whose
    data plane keeps forwarding (a control-plane crash) is predicted to affect none but the
    directions entering through a gateway whose role it stops (a VRRP master's vrrpd)."""
    out = []
    for failure in failures:
        scope = failure.fault.scope(topology)
        live = {label: p for label, p in paths.items() if p.gateways & scope.gateways} \
            if scope.keeps_forwarding else paths  # a gateway's role can stop while it forwards
        out.append(Prediction(
            failure, frozenset(label for label, p in live.items() if p.crossed_by(scope)),
            frozenset(label for label, p in live.items() if p.all_cross(scope)),
            tuple(paths_cut(topology, list(flows), [failure.fault]))))
    return out
