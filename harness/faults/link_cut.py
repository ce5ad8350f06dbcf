"""link-cut: interfaces administratively down through netlink; the peer loses carrier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.faults.base import Fault, Scope, Stamp
from harness.faults.links import OnLinks
from harness.faults.target import Target
from harness.topology import Topology


@dataclass(kw_only=True)
class LinkCut(OnLinks, Fault):
    kind: ClassVar[str] = "link-cut"

    def scope(self, topology: Topology) -> Scope:
        return Scope(links=self.links(topology))

    def inject(self, target: Target) -> list[Stamp]:
        return [target.kernel.set_links(self.ends(target), up=False)]

    def restore(self, target: Target) -> list[Stamp]:
        return [target.kernel.set_links(self.ends(target), up=True)]

    def describe(self) -> str:
        return f"link-cut {self.where()}: admin down"
