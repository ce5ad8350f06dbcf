"""What the live page shows, kept from the engine's events (`RunObserver`): the scenario and
its phase, every flow direction (delivering or not, its current outage), the faults in place,
the steps with the current one, the marks. `state()` is a JSON-ready copy, safe to take from
any thread while the engine ticks."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.engine.cycle import first_ns
from harness.engine.observer import FlowNow, RunObserver

if TYPE_CHECKING:
    from harness.engine.observer import AnyResult
    from harness.faults import Fault, Stamp
    from harness.faults.guard import Restoration


@dataclass
class FlowRow:
    """One flow direction as the page shows it."""

    name: str
    received: int = 0
    outage_ms: float = 0.0  # the current outage (0: delivering)
    red_since_ns: int = 0  # since when its next probe is overdue (wall clock; 0: delivering)
    outages: int = 0  # outages seen so far in this run
    last_outage_ms: float = 0.0  # the longest a finished or current outage was seen to last


@dataclass
class FaultRow:
    what: str
    injected_ns: int
    restored_ns: int = 0


@dataclass
class Mark:
    name: str
    wall_ns: int


@dataclass
class LiveState:
    scenario: str = ""
    network: str = ""
    phase: str = "starting"
    detail: str = ""
    seconds_left: float = 0.0
    flows: dict[str, FlowRow] = field(default_factory=dict)
    faults: list[FaultRow] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    current_step: int = -1
    marks: list[Mark] = field(default_factory=list)
    finished: str = ""  # the run's ending, once over
    updated_ns: int = 0


class LiveView(RunObserver):
    """The live page's state, from the engine's hooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = LiveState()

    def state(self) -> dict[str, Any]:
        """A copy for the page (JSON-ready): flows as a list, in the order first seen."""
        with self._lock:
            data = asdict(self._state)
        data["flows"] = list(data["flows"].values())
        return data

    def _changed(self) -> LiveState:
        self._state.updated_ns = time.time_ns()
        return self._state

    def run_started(self, scenario: str, network: str) -> None:
        with self._lock:
            s = self._changed()
            s.scenario, s.network = scenario, network

    def phase(self, name: str, detail: str) -> None:
        with self._lock:
            s = self._changed()
            s.phase, s.detail = name, detail

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        with self._lock:
            s = self._changed()
            s.seconds_left = max(0.0, seconds_left)
            for name, now in flows.items():
                _update(s.flows.setdefault(name, FlowRow(name)), now, s.updated_ns)

    def fault_injected(self, fault: Fault, stamps: list[Stamp]) -> None:
        with self._lock:
            s = self._changed()
            s.faults.append(FaultRow(fault.describe(), first_ns(stamps, s.updated_ns)))

    def faults_restored(self, done: Restoration) -> None:
        with self._lock:
            s = self._changed()
            at = first_ns(done.stamps, s.updated_ns)
            for what in done.restored:
                row = next((f for f in s.faults if f.what == what and not f.restored_ns), None)
                if row is not None:
                    row.restored_ns = at

    def steps_planned(self, steps: list[str]) -> None:
        with self._lock:
            self._changed().steps = list(steps)

    def step_started(self, index: int) -> None:
        with self._lock:
            self._changed().current_step = index

    def mark(self, name: str, wall_ns: int) -> None:
        with self._lock:
            self._changed().marks.append(Mark(name, wall_ns))

    def run_finished(self, result: AnyResult, pack: Path | None) -> None:
        with self._lock:
            s = self._changed()
            s.phase, s.seconds_left = "finished", 0.0
            s.finished = ("SLA met" if result.sla_met else "SLA MISSED") + (
                "" if result.complete else f"; INCOMPLETE: {result.incomplete}")


def _update(row: FlowRow, now: FlowNow, at_ns: int) -> None:
    """A direction's row after a tick at `at_ns`."""
    if now.outage_ms and not row.outage_ms:
        row.outages += 1
        row.red_since_ns = at_ns - int(now.outage_ms * 1e6)
        row.last_outage_ms = 0.0
    if now.outage_ms:
        row.last_outage_ms = max(row.last_outage_ms, now.outage_ms)
    else:
        row.red_since_ns = 0
    row.received, row.outage_ms = now.received, now.outage_ms

