"""Before anything is measured: which flows each failure should affect. A flow is predicted
affected when some path it may take (any of its ECMP paths, read hop by hop from the nodes'
forwarding tables; from the topology's shortest paths where the tables cannot be read)
crosses what the failure takes out of forwarding (its declared scope), and certainly affected
when every one of those paths does. A failure that cuts the last path of a critical flow
(through any link of the topology) is a single point of failure."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.faults import Scope
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

    @property
    def nodes(self) -> frozenset[str]:
        return frozenset(n for a, _, b in self.hops for n in (a, b))

    @property
    def links(self) -> frozenset[Link]:
        return frozenset(lk for _, lk, _ in self.hops)

    def crossed_by(self, scope: Scope) -> bool:
        """Some path crosses what the failure takes out."""
        return bool(self.nodes & scope.nodes or self.links & scope.links)

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


def _from_tables(topology: Topology, fwd: Forwarding, src: str, dst: str,
                 address: ipaddress.IPv4Address) -> Paths | None:
    """Hop by hop through every ECMP next hop; None when a node on the way has no table."""
    hops: set[Hop] = set()
    seen, todo = {src}, [src]
    while todo:
        node = todo.pop()
        if node == dst:
            continue
        if node not in fwd:
            return None
        ends = {lk.end(node).interface: lk for lk in topology.links_of(node)}
        for dev in _lookup(fwd[node], address):
            if dev in ends:
                nxt = ends[dev].other(node).node
                hops.add((node, ends[dev], nxt))
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return Paths(src, dst, frozenset(hops), "forwarding tables")


def topology_paths(topology: Topology, src: str, dst: str) -> Paths:
    """Every node and link on some shortest path (by hops) from src to dst."""
    routers = {n.name for n in topology.routers}
    there, back = topology.hops_from(src), topology.hops_from(dst)
    total = there.get(dst)
    hops = frozenset() if total is None else frozenset(
        (u, lk, v) for lk in topology.links for u, v in ((lk.a.node, lk.b.node),
                                                        (lk.b.node, lk.a.node))
        if u in there and v in back and there[u] + 1 + back[v] == total
        and (u == src or u in routers) and (v == dst or v in routers))
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
    data plane keeps forwarding (a control-plane crash) is predicted to affect none."""
    out = []
    for failure in failures:
        scope = failure.fault.scope(topology)
        live = {} if scope.keeps_forwarding else paths
        out.append(Prediction(
            failure, frozenset(label for label, p in live.items() if p.crossed_by(scope)),
            frozenset(label for label, p in live.items() if p.all_cross(scope)),
            tuple(paths_cut(topology, list(flows), [failure.fault]))))
    return out
