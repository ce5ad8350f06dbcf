"""routing-daemon-crash: kill -9 of a router's FRR daemons by pid.

watchfrr is killed first, so the daemons stay dead for the whole hold (the lab's watchfrr
would restart them after 1 s and end the fault on its own); restore starts watchfrr again,
which restarts the missing daemons and adopts the live ones.

By default every daemon dies, zebra included: the kernel keeps FRR's routes, so the router
keeps forwarding while its neighbours route around it (zero loss expected). Naming daemons
without zebra (e.g. [ospfd, bfdd]) is a different fault: zebra sees its clients go and at
once withdraws their routes from the kernel (measured with FRR 8.4), so traffic through the
router is lost until its neighbours reroute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from harness.faults.base import Fault, Scope, Stamp, param, require
from harness.faults.target import Target
from harness.topology import Topology


@dataclass(kw_only=True)
class RoutingDaemonCrash(Fault):
    kind: ClassVar[str] = "routing-daemon-crash"
    node: str = param("the FRR router", "core1")
    daemons: list[str] | None = param("the daemons killed (default: every one, zebra too)",
                                      ["ospfd", "bfdd"], default=None)

    def __post_init__(self) -> None:
        require(self.daemons != [],
                f"{self.kind}: daemons must not be empty (leave it out for every daemon)")

    def scope(self, topology: Topology) -> Scope:
        """With zebra killed the kernel keeps forwarding; with zebra alive it withdraws the
        routes of the daemons that died, and the router drops out of forwarding."""
        if self.daemons is None or "zebra" in self.daemons:
            return Scope(keeps_forwarding=True)
        return Scope(nodes=frozenset({self.node}))

    def _victims(self, target: Target) -> list[str]:
        spec = target.router(self.node)
        unknown = sorted(set(self.daemons or ()) - set(spec.daemons))
        require(not unknown, f"{self.kind}: {self.node} does not run {', '.join(unknown)} "
                             f"(it runs {', '.join(spec.daemons)})")
        return self.daemons or list(spec.daemons)

    def check(self, target: Target) -> None:
        self._victims(target)

    def inject(self, target: Target) -> list[Stamp]:
        return target.kernel.kill_frr(self.node, self._victims(target))

    def restore(self, target: Target) -> list[Stamp]:
        return target.kernel.start_frr(self.node, target.router(self.node).daemons)

    def describe(self) -> str:
        which = " ".join(self.daemons) if self.daemons else "every FRR daemon (zebra too)"
        return f"routing-daemon-crash {self.node}: kill -9 of {which}, watchfrr first"
