"""What a topology is, once read: nodes, point-to-point links, FRR routers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

ALWAYS_DAEMONS = ("zebra", "staticd")
BRIDGE_KINDS = {"bridge"}  # containerlab's Linux bridge node (in the host; here, a namespace)


@dataclass(frozen=True)
class Endpoint:
    node: str
    interface: str
    mac: str | None = None

    def __str__(self) -> str:
        return f"{self.node}:{self.interface}"


@dataclass(frozen=True)
class Link:
    a: Endpoint
    b: Endpoint
    mtu: int | None = None

    def __str__(self) -> str:
        return f"{self.a} -- {self.b}"

    def other(self, node: str) -> Endpoint:
        return self.b if self.a.node == node else self.a

    def end(self, node: str) -> Endpoint:
        return self.a if self.a.node == node else self.b


@dataclass(frozen=True)
class FrrSpec:
    """An FRR router: its startup configuration and the daemons it runs (zebra/staticd included)."""

    config: Path
    daemons: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    image: str | None = None
    group: str | None = None
    exec: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    frr: FrrSpec | None = None
    exec_lines: tuple[int, ...] = ()  # each exec command's line in the topology file
    bridges: tuple[str, ...] = ()  # its Linux bridges: made by its exec, or itself (kind bridge)

    @property
    def is_router(self) -> bool:
        return self.frr is not None

    @property
    def is_switch(self) -> bool:
        """A layer-2 switch: a `kind: bridge` node, or a node whose exec builds a bridge (an
        access switch, or a core layer-3 switch, which is also a router)."""
        return bool(self.bridges)


@dataclass(frozen=True)
class Topology:
    name: str
    path: Path
    nodes: dict[str, Node]
    links: tuple[Link, ...]
    notes: tuple[str, ...] = ()

    @property
    def routers(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.is_router]

    def links_of(self, node: str) -> list[Link]:
        return [lk for lk in self.links if node in (lk.a.node, lk.b.node)]

    def link_between(self, a: str, b: str) -> list[Link]:
        return [lk for lk in self.links if {lk.a.node, lk.b.node} == {a, b}]

    def hops_from(self, start: str) -> dict[str, int]:
        """Hop counts from `start` to every node it reaches; only routers and switches forward
        (a host is an end, never a transit)."""
        dist, todo = {start: 0}, deque([start])
        while todo:
            node = todo.popleft()
            if node != start and not (self.nodes[node].is_router or self.nodes[node].is_switch):
                continue
            for lk in self.links_of(node):
                nxt = lk.other(node).node
                if nxt not in dist:
                    dist[nxt] = dist[node] + 1
                    todo.append(nxt)
        return dist

    def find_link(self, spec: str) -> Link:
        """A link named by one end (`core1:eth1`) or by its two nodes (`core1,dist1`)."""
        if ":" in spec:
            node, iface = spec.split(":", 1)
            for lk in self.links_of(node):
                if lk.end(node).interface == iface:
                    return lk
            raise KeyError(f"no link at {spec} in topology {self.name}")
        a, _, b = spec.partition(",")
        found = self.link_between(a.strip(), b.strip())
        if len(found) != 1:
            raise KeyError(f"{len(found)} links between {a} and {b} in topology {self.name}; "
                           "name one end as node:interface")
        return found[0]
