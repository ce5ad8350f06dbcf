"""What happens during a run, as events for whoever watches (nornir's `Processor` pattern):
the terminal's live table, plain progress lines, later a web page. The engine and the runner
call `RunObserver` methods; an observer overrides only those it cares about."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.faults import Fault, Stamp
    from harness.faults.guard import Restoration
    from harness.runbook.results import RunbookResult
    from harness.scenario.results import RunResult
    from harness.sweep.results import SweepResult
    from harness.watch.results import WatchResult

    AnyResult = RunResult | SweepResult | RunbookResult | WatchResult


@dataclass(frozen=True)
class FlowNow:
    """One flow direction during a watch: probes received so far, current outage (0: none)."""

    received: int
    outage_ms: float


class RunObserver:
    """Every hook is a no-op here; subclasses override what they show."""

    def run_started(self, scenario: str, network: str) -> None:
        """A run is about to touch `network` (lab or devices)."""

    def phase(self, name: str, detail: str) -> None:
        """The run moved on (preflight, baseline, hold, restore, failback, postflight,
        report, ...) or has news within a phase: `detail` is one line for a person."""

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        """About ten times a second while a fault holds or the failback is watched."""

    def fault_injected(self, fault: Fault, stamps: list[Stamp]) -> None: ...

    def faults_restored(self, done: Restoration) -> None: ...

    def steps_planned(self, steps: list[str]) -> None:
        """A runbook's steps, one line each, before the first runs."""

    def step_started(self, index: int) -> None:
        """Step `index` (0-based, into `steps_planned`'s list) began."""

    def mark(self, name: str, wall_ns: int) -> None:
        """A named instant: a runbook's mark step, or a person's mark during a watch."""

    def run_finished(self, result: AnyResult, pack: Path | None) -> None:
        """The run is over (complete or not) and its pack written (None: refused)."""


class Observers(RunObserver):
    """Several observers as one: each event goes to each, in order."""

    def __init__(self, observers: Iterable[RunObserver] = ()) -> None:
        self.observers = list(observers)

    def run_started(self, scenario: str, network: str) -> None:
        for o in self.observers:
            o.run_started(scenario, network)

    def phase(self, name: str, detail: str) -> None:
        for o in self.observers:
            o.phase(name, detail)

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        for o in self.observers:
            o.tick(phase, seconds_left, flows)

    def fault_injected(self, fault: Fault, stamps: list[Stamp]) -> None:
        for o in self.observers:
            o.fault_injected(fault, stamps)

    def faults_restored(self, done: Restoration) -> None:
        for o in self.observers:
            o.faults_restored(done)

    def steps_planned(self, steps: list[str]) -> None:
        for o in self.observers:
            o.steps_planned(steps)

    def step_started(self, index: int) -> None:
        for o in self.observers:
            o.step_started(index)

    def mark(self, name: str, wall_ns: int) -> None:
        for o in self.observers:
            o.mark(name, wall_ns)

    def run_finished(self, result: AnyResult, pack: Path | None) -> None:
        for o in self.observers:
            o.run_finished(result, pack)


class LineProgress(RunObserver):
    """Plain lines for logs and pipes: each phase's news, and while a fault holds or the
    failback is watched, who is losing, once every `every_s`."""

    def __init__(self, write: Callable[[str], None], every_s: float = 1.0) -> None:
        self.write = write
        self.every_s = every_s
        self._next_line = 0.0

    def phase(self, name: str, detail: str) -> None:
        self.write(detail)

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        if time.monotonic() < self._next_line:
            return
        self._next_line = time.monotonic() + self.every_s
        losing = sorted((k, v.outage_ms) for k, v in flows.items() if v.outage_ms)
        who = ", ".join(f"{k} {ms / 1e3:.1f} s" for k, ms in losing[:4])
        self.write(f"{phase}: {max(0.0, seconds_left):.0f} s left; "
                   + (f"losing: {who}" if losing else "all flows delivering"))

    def faults_restored(self, done: Restoration) -> None:
        for line in done.failed:
            self.write(f"NOT restored: {line}")
