"""vrrp-priority-drop: a planned gateway move. The master's VRRP priority is lowered below its
backup's, committed through NAPALM with commit-confirm (`revert_in`: the device puts it back
by itself should the harness die); the backup preempts and takes the gateway over while the
old master still forwards (no probe lost expected). The restore rolls the commit back and the
gateway returns the same way. On a driver without the syntax or without commit-confirm, make
the move an operator step of a runbook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness import layer2
from harness.devices.vendors import drivers_with
from harness.faults.base import FaultError, Scope, param, require
from harness.faults.napalm_change import NapalmChange
from harness.faults.target import Target
from harness.topology import Topology


@dataclass(kw_only=True)
class VrrpPriorityDrop(NapalmChange):
    kind: ClassVar[str] = "vrrp-priority-drop"
    interface: str = param("the interface the VRRP group runs on", "br-ed")
    vrid: int = param("the VRRP group's VRID (1-255)", 20)
    priority: int = param("the lowered priority (1-254), below the backup's", 1, default=1)
    restore_priority: int | None = param("the priority the undo puts back should no revert be "
                                         "pending (default: the node's, from the topology)",
                                         200, default=None)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(1 <= self.vrid <= 255, f"{self.kind}: vrid must be in [1, 255], not {self.vrid}")
        for name in ("priority", "restore_priority"):
            value = getattr(self, name)
            require(value is None or 1 <= value <= 254,
                    f"{self.kind}: {name} must be in [1, 254], not {value}")
        self._template()

    def _template(self) -> str:
        if self.vendor.vrrp_priority is None:
            raise FaultError(f"{self.kind}: no VRRP priority syntax known for NAPALM driver "
                             f"{self.driver_name!r} (known for: "
                             f"{drivers_with(lambda p: p.vrrp_priority)}): make the gateway "
                             "move an operator step of a runbook")
        return self.vendor.vrrp_priority

    def _set(self, priority: int) -> str:
        return self._template().format(i=self.interface, vrid=self.vrid, priority=priority)

    def scope(self, topology: Topology) -> Scope:
        """Nothing is taken out: the gateway moves while both members forward."""
        self._group(topology)
        return Scope(keeps_forwarding=True)

    def _group(self, topology: Topology) -> tuple[int, int]:
        """The node's priority in the topology, and the highest of the group's others."""
        found = layer2.of(topology).member(self.node, self.vrid, self.interface)
        if isinstance(found, str):
            raise FaultError(f"{self.kind}: {found}")
        member, group = found
        others = [m.priority for m in group.members if m is not member]
        require(bool(others) and self.priority < max(others),
                f"{self.kind}: priority {self.priority} is not below the backup's "
                f"({max(others, default=0)}) in {group.name()}: the gateway would not move")
        return member.priority, max(others)

    def check(self, target: Target) -> None:
        """The move is one (a backup of higher priority); the priority to put back is known
        before the fault is journaled."""
        mine, _ = self._group(target.topology)
        if self.restore_priority is None:
            self.restore_priority = mine
        super().check(target)

    def config(self) -> str:
        return self._set(self.priority)

    def undo(self) -> str:
        if self.restore_priority is None:
            raise FaultError(f"{self.kind}: the priority to put back on {self.node} is not "
                             "known (give restore_priority)")
        return self._set(self.restore_priority)

    def describe(self) -> str:
        return (f"vrrp-priority-drop {self.node} {self.interface} group {self.vrid}: priority "
                f"{self.priority} committed through NAPALM {self.driver_name}")
