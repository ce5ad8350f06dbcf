"""silent-blackhole: a `pfifo limit 0` root qdisc drops every packet leaving the interfaces,
while the links stay up: only BFD or routing-protocol timers can notice."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from harness.faults import qdisc
from harness.faults.base import Fault, Scope, Stamp
from harness.faults.links import OnLinks
from harness.faults.target import Target
from harness.topology import Topology


@dataclass(kw_only=True)
class SilentBlackhole(OnLinks, Fault):
    kind: ClassVar[str] = "silent-blackhole"

    def scope(self, topology: Topology) -> Scope:
        return Scope(links=self.links(topology), silent=True)

    def inject(self, target: Target) -> list[Stamp]:
        limit0 = struct.pack("=I", 0)  # struct tc_fifo_qopt
        return [qdisc.add(target, self.ends(target), qdisc.BLACKHOLE, "pfifo", limit0)]

    def restore(self, target: Target) -> list[Stamp]:
        return [qdisc.remove(target, self.ends(target), qdisc.BLACKHOLE)]

    def describe(self) -> str:
        return f"silent-blackhole {self.where()}: every outgoing packet dropped, links up"
