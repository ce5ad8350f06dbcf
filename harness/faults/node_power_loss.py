"""node-power-loss: every interface of the node down (one timed netlink change), then its
whole FRR killed; restore starts FRR again, then brings the interfaces up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.faults.base import Fault, Scope, Stamp, param
from harness.faults.target import Target
from harness.topology import Endpoint, Topology


@dataclass(kw_only=True)
class NodePowerLoss(Fault):
    kind: ClassVar[str] = "node-power-loss"
    node: str = param("the node that loses power (a router or a host)", "core1")

    def scope(self, topology: Topology) -> Scope:
        return Scope(nodes=frozenset({self.node}))

    def _ends(self, target: Target) -> list[Endpoint]:
        return target.endpoints(None, self.node, one_end=False)

    def _router(self, target: Target) -> bool:
        return target.topology.nodes[self.node].is_router

    def check(self, target: Target) -> None:
        for end in self._ends(target):
            target.kernel.ifindex(end)

    def inject(self, target: Target) -> list[Stamp]:
        stamps = [target.kernel.set_links(self._ends(target), up=False)]
        if self._router(target):
            stamps += target.kernel.kill_frr(self.node, target.router(self.node).daemons)
        return stamps

    def restore(self, target: Target) -> list[Stamp]:
        stamps: list[Stamp] = []
        try:
            if self._router(target):
                stamps += target.kernel.start_frr(self.node, target.router(self.node).daemons)
        finally:  # links come back even if FRR does not start
            stamps.append(target.kernel.set_links(self._ends(target), up=True))
        return stamps

    def describe(self) -> str:
        return f"node-power-loss {self.node}: every interface down, FRR killed"
