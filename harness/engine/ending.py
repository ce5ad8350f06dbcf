"""How every runner ends, whatever its windows (one scenario, an N-1 campaign): stop the
probes and read the state after beside it, and when anything fails on the way, say why in the
result instead of losing it (the pack keeps whatever the probes wrote)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from harness.engine.cycle import Cycler
from harness.engine.observer import RunObserver
from harness.errors import HarnessError
from harness.network import Network, Snapshot
from harness.probes.session import ProbeRun, ProbeSession
from harness.scenario import snapshot
from harness.scenario.context import run_context

T = TypeVar("T")
LINKS_BACK_S = 5.0


class Ended(Protocol):
    """What a run's result records of its end."""

    scenario: str
    incomplete: str | None
    probe_problems: list[str]
    started_ns: int
    ended_ns: int
    context: dict[str, Any]
    devices: dict[str, dict[str, Any]]
    state_diff: list[str]
    snapshots: dict[str, Snapshot]


def why_stopped(exc: BaseException) -> str:
    """One line for a run that ended early."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, SystemExit):
        return f"interrupted by signal {exc.code - 128}" if isinstance(exc.code, int) \
            and exc.code > 128 else f"stopped (exit {exc.code})"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, HarnessError) else str(exc)


class Ending:
    """A runner's end: `stopped` is what ended it early (re-raised by the front end after the
    pack is written, for a Ctrl-C)."""

    network: Network
    cycler: Cycler
    observer: RunObserver
    stopped: BaseException | None = None

    @property
    def record(self) -> Ended:
        raise NotImplementedError

    def stopped_early(self, exc: BaseException, doing: str = "") -> None:
        """Record why the run stops before its end (the first cause is kept)."""
        self.stopped = self.stopped or exc
        why = f"{doing}: {why_stopped(exc)}" if doing else why_stopped(exc)
        record = self.record
        record.incomplete = f"{record.incomplete}; {why}" if record.incomplete else why

    def prepare(self, probes: ProbeSession, pool: ThreadPoolExecutor,
                preflight: Callable[[], T]) -> tuple[T, Snapshot, Future[Any]]:
        """The preflight beside the probe agents' preparation (nothing sent yet), then the
        state before; the devices' facts are read in the background once the agents are
        ready (through the baseline, not competing with the preflight for the CPU): the
        preflight's answer, the state, the facts to come."""
        agents = pool.submit(probes.prepare)
        try:
            found = preflight()
            before = self.network.snapshot()
        finally:
            agents.exception()  # waits for it
        agents.result()
        facts = pool.submit(self.network.facts)  # read-only
        # with the lab's own name (each pytest-xdist worker runs on a lab of its own)
        self.record.context = {**run_context(), "network_name": self.network.name}
        self.observer.run_started(self.record.scenario, self.network.kind)
        return found, before, facts

    def start(self, probes: ProbeSession, facts: Future[Any], baseline_s: float) -> None:
        """Start the probes and wait for their clean baseline (and the facts)."""
        probes.start()
        self.record.started_ns = time.time_ns()
        self.cycler.baseline(probes, baseline_s, also=facts.done)
        self.record.devices = facts.result()

    def finish(self, probes: ProbeSession, pool: ThreadPoolExecutor,
               before: Snapshot) -> ProbeRun | None:
        """Stop the probes and read the state after, side by side; None when that failed."""
        record = self.record
        if record.incomplete:
            self._links_back()
        self.cycler.say("postflight", "stopping the probes, reading the state after the run")
        try:
            after = pool.submit(self.network.snapshot)
            run = probes.stop()
            record.snapshots = {"before": before, "after": after.result()}
        except BaseException as exc:  # noqa: BLE001 - a stop must not lose the pack
            self.stopped_early(exc, "stopping the probes")
            record.snapshots = {"before": before, "after": {}}
            return None
        record.probe_problems = run.problems
        record.ended_ns = run.stopped_ns
        record.state_diff += snapshot.diff(before, record.snapshots["after"])
        return run

    def _links_back(self) -> None:
        """After a stop that skipped the reconvergence wait: until the restored links are up
        and the daemons run again (the kernel reports a link up up to 1 s after it is set up),
        at most LINKS_BACK_S, so the state after shows what the restore left."""
        deadline = time.monotonic() + LINKS_BACK_S
        try:
            down = self.network.degraded()
            if down:
                self.cycler.say("postflight", f"waiting up to {LINKS_BACK_S:g} s for what is "
                                              f"down to come back: {'; '.join(down)}")
            while down and time.monotonic() < deadline:
                time.sleep(0.2)
                down = self.network.degraded()
        except Exception:  # noqa: BLE001 - the state after, read next, will say what is down
            return
