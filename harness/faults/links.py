"""Where an interface fault applies: a link's two ends, one end, or every link of a node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.faults.base import param, require
from harness.faults.target import Target
from harness.topology import Endpoint, Link, Topology


@dataclass(kw_only=True)
class OnLinks:
    """`link` as `node:ifname` or `nodeA,nodeB` (both ends, or only the named end with
    `one_end`), or `node` for every interface of that node."""

    kind: ClassVar[str]
    link: str | None = param("the link, by one end (node:interface) or by its two nodes "
                             "(nodeA,nodeB)", "core1:eth2", default=None)
    node: str | None = param("instead of a link: every link of this node", "core1",
                             default=None)
    one_end: bool = param("only the end named in `link` (the other end still sends)", True,
                          default=False)

    def __post_init__(self) -> None:
        require((self.link is None) != (self.node is None),
                f"{self.kind}: give either link or node, not both or neither")
        require(not self.one_end or ":" in (self.link or ""),
                f"{self.kind}: one_end needs the link named by its end, as node:interface")

    def ends(self, target: Target) -> list[Endpoint]:
        return target.endpoints(self.link, self.node, self.one_end)

    def check(self, target: Target) -> None:
        for end in self.ends(target):
            target.kernel.ifindex(end)

    def links(self, topology: Topology) -> frozenset[Link]:
        """The links the fault acts on (one end given: that end's link)."""
        if self.node is not None:
            return frozenset(topology.links_of(self.node))
        assert self.link is not None
        return frozenset({topology.find_link(self.link)})

    def where(self) -> str:
        if self.node is not None:
            return f"every link of {self.node}"
        return f"{self.link} ({'this end only' if self.one_end else 'both ends'})"
