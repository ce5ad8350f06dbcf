"""flapping-link: `count` down/up cycles of `period` seconds (down for the first half).

`inject` blocks until the last flap is over and returns a Stamp per transition, on a fixed
schedule from the first one (a late wake-up shortens the next half, it never drifts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from harness.faults.base import Fault, Scope, Stamp, param, require
from harness.faults.links import OnLinks
from harness.faults.target import Target
from harness.topology import Topology


@dataclass(kw_only=True)
class FlappingLink(OnLinks, Fault):
    kind: ClassVar[str] = "flapping-link"
    count: int = param("down/up cycles", 5, default=3)
    period: float = param("seconds per cycle (down for its first half)", 0.5, default=1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.count >= 1, f"{self.kind}: count must be >= 1")
        require(self.period > 0, f"{self.kind}: period must be > 0 seconds")

    def scope(self, topology: Topology) -> Scope:
        return Scope(links=self.links(topology))

    def inject(self, target: Target) -> list[Stamp]:
        ends, stamps = self.ends(target), []
        start = time.monotonic()
        for half in range(2 * self.count):
            time.sleep(max(0.0, start + half * self.period / 2 - time.monotonic()))
            stamps.append(target.kernel.set_links(ends, up=half % 2 == 1))
        return stamps

    def restore(self, target: Target) -> list[Stamp]:
        return [target.kernel.set_links(self.ends(target), up=True)]

    def describe(self) -> str:
        return f"flapping-link {self.where()}: {self.count} x (down {self.period / 2:g} s, " \
               f"up {self.period / 2:g} s)"
