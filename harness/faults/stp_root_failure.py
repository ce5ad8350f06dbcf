"""stp-root-failure: the STP root bridge fails: its node loses power (every interface down,
FRR killed, as node-power-loss) or only the bridge goes down (its ports stop forwarding with
their carrier up: the other bridges notice when the root's hellos stop, after max_age). The
check reads the kernel's own STP state (sysfs: `ip -d -j link` of iproute2 6.1 prints the
bridge's own id as its root_id): the bridge must be the root now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness import layer2
from harness.faults.base import Fault, FaultError, Scope, Stamp, param, require
from harness.faults.node_power_loss import NodePowerLoss
from harness.faults.target import Target
from harness.layer2 import Bridge
from harness.topology import Endpoint, Topology

HOWS = ("power", "bridge")


@dataclass(kw_only=True)
class StpRootFailure(Fault):
    kind: ClassVar[str] = "stp-root-failure"
    node: str = param("the node holding the root bridge", "core1")
    bridge: str | None = param("the bridge (default: the node's only STP bridge)", "br-ed",
                               default=None)
    how: str = param("`power`: the node loses power; `bridge`: only the bridge goes down",
                     "power", default="power")

    def __post_init__(self) -> None:
        require(self.how in HOWS, f"{self.kind}: how must be one of {', '.join(HOWS)}, "
                                  f"not {self.how!r}")

    def _bridge(self, topology: Topology) -> Bridge:
        found = [b for b in layer2.of(topology).layer2.bridges.values()
                 if b.node == self.node and b.stp and self.bridge in (None, b.name)]
        if len(found) == 1:
            return found[0]
        if found:
            raise FaultError(f"{self.kind}: {self.node} has {len(found)} STP bridges: name one "
                             "with bridge")
        which = f" {self.bridge}" if self.bridge else ""
        raise FaultError(f"{self.kind}: {self.node} has no STP bridge{which} in topology "
                         f"{topology.name}")

    def _power(self) -> NodePowerLoss:
        return NodePowerLoss(node=self.node)

    def scope(self, topology: Topology) -> Scope:
        bridge = self._bridge(topology)
        if self.how == "power":
            return self._power().scope(topology)
        return Scope(ports=frozenset({bridge.port}))

    def check(self, target: Target) -> None:
        bridge = self._bridge(target.topology)
        sysfs = f"/sys/class/net/{bridge.name}/bridge"
        root, mine = (target.read(self.node, ["cat", f"{sysfs}/root_id", f"{sysfs}/bridge_id"])
                      .split() + ["?", "?"])[:2]
        require(root == mine, f"{self.kind}: {self.node}:{bridge.name} is not the STP root now "
                              f"(root {root}, the bridge {mine})")
        if self.how == "power":
            self._power().check(target)

    def inject(self, target: Target) -> list[Stamp]:
        if self.how == "power":
            return self._power().inject(target)
        end = Endpoint(self.node, self._bridge(target.topology).name)
        return [target.kernel.set_links([end], up=False)]

    def restore(self, target: Target) -> list[Stamp]:
        if self.how == "power":
            return self._power().restore(target)
        end = Endpoint(self.node, self._bridge(target.topology).name)
        return [target.kernel.set_links([end], up=True)]

    def describe(self) -> str:
        what = "the node loses power" if self.how == "power" else \
            f"{self.bridge or 'its bridge'} down"
        return f"stp-root-failure {self.node}: {what}"
