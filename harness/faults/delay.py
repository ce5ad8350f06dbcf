"""delay: netem latency (and jitter) on the interfaces, where the kernel has sch_netem.

Detected by adding a netem qdisc in a throwaway namespace (`unshare --net`), which changes
nothing on the lab. Where netem exists it is added with `tc` (a subprocess: its Stamp is
3-10 ms wider than a netlink call's) and removed through netlink like every root qdisc.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from typing import ClassVar

from harness.faults import qdisc
from harness.faults.base import Fault, FaultError, Scope, Stamp, param, require, timed
from harness.faults.links import OnLinks
from harness.faults.target import Target, ends_text
from harness.topology import Topology


@functools.cache
def netem_missing() -> str:
    """Why netem cannot be used here ('' when it can)."""
    try:
        probe = subprocess.run(["unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root",
                                "netem", "delay", "1ms"], capture_output=True, text=True)
    except FileNotFoundError as exc:
        return f"{exc.filename} not found"
    if probe.returncode == 0:
        return ""
    return probe.stderr.strip().removeprefix("Error: ") or f"exit {probe.returncode}"


@dataclass(kw_only=True)
class Delay(OnLinks, Fault):
    kind: ClassVar[str] = "delay"
    ms: float = param("delay added to every outgoing packet, ms", 20)
    jitter_ms: float = param("jitter, ms (at most `ms`)", 5, default=0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.ms > 0, f"{self.kind}: ms must be > 0")
        require(0 <= self.jitter_ms <= self.ms, f"{self.kind}: jitter_ms must be in [0, ms]")

    def check(self, target: Target) -> None:
        missing = netem_missing()
        if missing:
            raise FaultError(f"delay cannot be injected on this kernel: it has no sch_netem "
                             f"(tc: {missing}); run on a host whose kernel has netem")
        super().check(target)

    def scope(self, topology: Topology) -> Scope:
        return Scope(silent=True)  # slower, not gone

    def inject(self, target: Target) -> list[Stamp]:
        self.check(target)
        ends = self.ends(target)
        jitter = [f"{self.jitter_ms:g}ms"] if self.jitter_ms else []
        argvs = [(e.node, ["tc", "qdisc", "replace", "dev", e.interface, "root", "handle",
                           qdisc.handle_text(qdisc.DELAY), "netem", "delay", f"{self.ms:g}ms",
                           *jitter]) for e in ends]
        def add() -> None:
            for node, argv in argvs:
                target.kernel.run(node, argv)
        return [timed(f"{ends_text(ends)} netem delay {self.ms:g} ms", add)]

    def restore(self, target: Target) -> list[Stamp]:
        return [qdisc.remove(target, self.ends(target), qdisc.DELAY)]

    def describe(self) -> str:
        jitter = f" +/- {self.jitter_ms:g} ms" if self.jitter_ms else ""
        return f"delay {self.where()}: {self.ms:g} ms{jitter} added to every outgoing packet"
