"""Layer-2 reachability in a topology, with a fault's scope applied: the one place it is
computed.

A port is a node's interface, `(node, ifname)`. Ports are joined by the topology's links and,
inside a node, by a bridge (each of its ports to the bridge's own interface): a node's exec
builds bridges (`ip link add ... type bridge`, `ip link set ... master ...`, `brctl`), and a
containerlab `kind: bridge` node is one bridge joining all its interfaces. A macvlan stands on
its parent. An L3 interface is a port that is no bridge's port (a bridge, or a link end
standing alone); a router's L3 interfaces in one layer-2 domain make it a neighbour of every
other router there. STP is not modelled: once it has re-formed, every port a layer-2 path
reaches forwards, so reachability is the graph's, whatever ports it blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from harness.layer2.commands import ExecBuild, read_exec
from harness.topology import Link, Topology
from harness.topology.model import BRIDGE_KINDS

Port = tuple[str, str]  # (node, interface)


class Out(Protocol):
    """What is taken out (a fault's `Scope` is one): nodes, links, ports, and routers whose
    gateway role (VRRP) stops."""

    @property
    def nodes(self) -> frozenset[str]: ...

    @property
    def links(self) -> frozenset[Link]: ...

    @property
    def ports(self) -> frozenset[Port]: ...

    @property
    def gateways(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Nothing:
    """Nothing out: the topology as built."""

    nodes: frozenset[str] = frozenset()
    links: frozenset[Link] = frozenset()
    ports: frozenset[Port] = frozenset()
    gateways: frozenset[str] = frozenset()


NOTHING = Nothing()


@dataclass(frozen=True)
class Bridge:
    node: str
    name: str
    ports: frozenset[str]
    stp: bool = False
    priority: int = 32768  # STP bridge priority (the kernel's default)

    @property
    def port(self) -> Port:
        return (self.node, self.name)


class Layer2:
    """A topology's layer-2 graph (built once per topology: `harness.layer2.of`)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.builds: dict[str, ExecBuild] = {n: read_exec(node.exec)
                                             for n, node in topology.nodes.items()}
        self.bridges: dict[Port, Bridge] = {}
        self.master: dict[Port, Port] = {}  # a bridge's port -> the bridge
        for name, node in topology.nodes.items():
            for bridge in self._bridges_of(name, node.kind):
                self.bridges[bridge.port] = bridge
                self.master.update({(name, p): bridge.port for p in bridge.ports})
        self._links: dict[Port, list[tuple[Link, Port]]] = {}
        for lk in topology.links:
            for a, b in ((lk.a, lk.b), (lk.b, lk.a)):
                self._links.setdefault((a.node, a.interface), []).append(
                    (lk, (b.node, b.interface)))
        self._members: dict[Port, list[Port]] = {}
        for port, joined in self.master.items():
            self._members.setdefault(joined, []).append(port)
        self._l3 = {node: self._l3_of(node) for node in topology.nodes}

    def _bridges_of(self, name: str, kind: str) -> list[Bridge]:
        if kind in BRIDGE_KINDS:
            return [Bridge(name, name, frozenset(lk.end(name).interface
                                                 for lk in self.topology.links_of(name)))]
        build = self.builds[name]
        return [Bridge(name, br, frozenset(p for p, m in build.masters.items() if m == br),
                       stp=opts.get("stp_state", "0") == "1",
                       priority=int(opts.get("priority", "32768")))
                for br, opts in build.bridges.items()]

    def resolve(self, port: Port) -> Port:
        """The port a layer-2 path reaches for this interface (a macvlan: its parent)."""
        parent = self.builds[port[0]].macvlans.get(port[1]) if port[0] in self.builds else None
        return (port[0], parent) if parent else port

    def l3_ports(self, node: str) -> list[Port]:
        """The node's interfaces that can hold its addresses: bridges, and link ends that are
        no bridge's port (a `kind: bridge` node has none)."""
        return self._l3[node]

    def _l3_of(self, node: str) -> list[Port]:
        if self.topology.nodes[node].kind in BRIDGE_KINDS:
            return []
        ends = [(node, lk.end(node).interface) for lk in self.topology.links_of(node)]
        return [p for p in ends if p not in self.master] + \
            [b.port for b in self.bridges.values() if b.node == node]

    def _is_out(self, port: Port, out: Out) -> bool:
        return port[0] in out.nodes or port in out.ports or \
            port in self.master and self.master[port] in out.ports

    def _next(self, port: Port, out: Out) -> Iterable[Port]:
        for lk, other in self._links.get(port, ()):
            if lk not in out.links:
                yield other
        if port in self.master:
            yield self.master[port]
        yield from self._members.get(port, ())

    def reach(self, start: Port, out: Out = NOTHING) -> frozenset[Port]:
        """Every port a layer-2 path from `start` reaches with `out` taken out (nothing when
        `start` itself is out)."""
        start = self.resolve(start)
        if self._is_out(start, out):
            return frozenset()
        seen, todo = {start}, [start]
        while todo:
            for nxt in self._next(todo.pop(), out):
                if nxt not in seen and not self._is_out(nxt, out):
                    seen.add(nxt)
                    todo.append(nxt)
        return frozenset(seen)

    def between(self, start: Port, ends: Iterable[Port]) -> frozenset[Port]:
        """The ports of `start`'s layer-2 domain on some way from it to `ends`: the domain
        less its dead ends (a branch that leads to none of them)."""
        start = self.resolve(start)
        ports = set(self.reach(start))
        keep = {start, *ends}
        near = {p: {q for q in self._next(p, NOTHING) if q in ports} for p in ports}
        leaves = [p for p in ports if p not in keep and len(near[p]) <= 1]
        while leaves:
            port = leaves.pop()
            ports.discard(port)
            for other in near.pop(port):
                near[other].discard(port)
                if other in ports and other not in keep and len(near[other]) == 1:
                    leaves.append(other)
        return frozenset(ports)

    def domains(self, out: Out = NOTHING) -> dict[Port, int]:
        """Each L3 interface still in place -> the number of its layer-2 domain."""
        l3 = {p for ports in self._l3.values() for p in ports}
        found: dict[Port, int] = {}
        for port in sorted(l3):
            if port not in found and not self._is_out(port, out):
                number = len(set(found.values()))
                found.update({p: number for p in self.reach(port, out) if p in l3})
        return found
