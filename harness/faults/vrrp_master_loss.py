"""vrrp-master-loss: the master of a VRRP group loses its LAN interface (the interface the
group runs on, e.g. its VLAN bridge, set down: the group's other members hear no more
advertisements and the highest takes over) or its vrrpd (kill -9, watchfrr first).

Measured with FRR 8.4: with its interface down, vrrpd still shows itself Master (the backup
takes over as it hears no more advertisements); a killed vrrpd leaves its macvlan up with the
virtual address, and the backup becomes master too: two masters, both forwarding (no probe
lost), so `daemon` is a control-plane crash, not a gateway loss. The restore brings the
interface up again or starts FRR again (watchfrr restarts vrrpd, which reads its
configuration)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness import layer2
from harness.faults.base import Fault, FaultError, Scope, Stamp, param, require
from harness.faults.target import Target
from harness.lab.vrrp import SHOW_VRRP, parse_members
from harness.layer2.vrrp import Member
from harness.topology import Endpoint, Topology

HOWS = ("interface", "daemon")


def vrrp_member(topology: Topology, node: str, vrid: int, interface: str | None) -> Member:
    """The node's member of the group, from the topology; FaultError saying why not."""
    found = layer2.of(topology).member(node, vrid, interface)
    if isinstance(found, str):
        raise FaultError(found)
    return found[0]


@dataclass(kw_only=True)
class VrrpMasterLoss(Fault):
    kind: ClassVar[str] = "vrrp-master-loss"
    node: str = param("the group's master (an FRR router with vrrpd)", "core1")
    vrid: int = param("the VRRP group's VRID (1-255)", 20)
    interface: str | None = param("the interface the group runs on (default: the node's only "
                                  "one with this VRID)", "br-ed", default=None)
    how: str = param("`interface`: the group's LAN interface down; `daemon`: vrrpd killed "
                     "(two masters: the old one keeps forwarding)", "interface",
                     default="interface")

    def __post_init__(self) -> None:
        require(1 <= self.vrid <= 255, f"{self.kind}: vrid must be in [1, 255], not {self.vrid}")
        require(self.how in HOWS, f"{self.kind}: how must be one of {', '.join(HOWS)}, "
                                  f"not {self.how!r}")

    def _member(self, topology: Topology) -> Member:
        return vrrp_member(topology, self.node, self.vrid, self.interface)

    def scope(self, topology: Topology) -> Scope:
        if self.how == "daemon":
            return Scope(gateways=frozenset({self.node}), keeps_forwarding=True)
        return Scope(ports=frozenset({self._member(topology).port}))

    def _end(self, target: Target) -> Endpoint:
        return Endpoint(self.node, self._member(target.topology).interface)

    def check(self, target: Target) -> None:
        """The node is the group's master now: losing a backup is another fault."""
        member = self._member(target.topology)
        require("vrrpd" in target.router(self.node).daemons,
                f"{self.kind}: {self.node} does not run vrrpd")
        now = next((m.status for m in parse_members(self.node, target.show(self.node, SHOW_VRRP),
                                                    {}) if (m.interface, m.vrid) ==
                    (member.interface, self.vrid)), None)
        require(now == "Master", f"{self.kind}: {self.node} is {now or 'no member'} of VRRP "
                                 f"group {self.vrid} on {member.interface}, not its master")
        if self.how == "interface":
            target.kernel.ifindex(self._end(target))

    def inject(self, target: Target) -> list[Stamp]:
        if self.how == "daemon":
            return target.kernel.kill_frr(self.node, ["vrrpd"])
        return [target.kernel.set_links([self._end(target)], up=False)]

    def restore(self, target: Target) -> list[Stamp]:
        if self.how == "daemon":
            return target.kernel.start_frr(self.node, target.router(self.node).daemons)
        return [target.kernel.set_links([self._end(target)], up=True)]

    def describe(self) -> str:
        what = "vrrpd killed" if self.how == "daemon" else \
            f"{self.interface or 'its LAN interface'} down"
        return f"vrrp-master-loss {self.node} group {self.vrid}: {what}"
