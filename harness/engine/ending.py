"""How every runner ends, whatever its windows (one scenario, an N-1 campaign): stop the
probes and read the state after beside it, and when anything fails on the way, say why in the
result instead of losing it (the pack keeps whatever the probes wrote)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from harness.engine.cycle import Cycler
from harness.errors import HarnessError
from harness.network import Network, Snapshot
from harness.probes.session import ProbeRun, ProbeSession
from harness.scenario import snapshot


class Ended(Protocol):
    """What a run's result records of its end."""

    incomplete: str | None
    probe_problems: list[str]
    ended_ns: int
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

    def finish(self, probes: ProbeSession, pool: ThreadPoolExecutor,
               before: Snapshot) -> ProbeRun | None:
        """Stop the probes and read the state after, side by side; None when that failed."""
        self.cycler.say("postflight", "stopping the probes, reading the state after the run")
        record = self.record
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
