"""Inject faults so that none outlives the run: journal first, restore on every way out."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType, TracebackType

from harness.faults.base import Fault, FaultError, Stamp
from harness.faults.journal import Journal
from harness.faults.target import Target
from harness.lab import Lab

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Restoration:
    """What a restore did: its Stamps, the faults restored, and those that could not be
    (one line each, saying why)."""

    stamps: list[Stamp] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Guard:
    """`with Guard(lab or target) as g: g.inject(fault)`: each fault is journaled before it is
    injected and restored (newest first) when the block ends, normally or by any exception.

    Inside the block, SIGINT raises KeyboardInterrupt and SIGTERM/SIGHUP raise SystemExit(128+n)
    at once, so the stack unwinds straight to the restore; a signal arriving while faults
    are being restored waits until they are. Signal handlers are installed only from the main
    thread. After a kill -9, `recover()` undoes what the journal holds.
    """

    def __init__(self, on: Lab | Target, journal: Journal | None = None) -> None:
        self.target = on if isinstance(on, Target) else Target(on)
        self.journal = journal or Journal()
        self._active: list[tuple[str, Fault]] = []
        self._previous: dict[int, object] = {}
        self._shield = 0
        self._deferred: int | None = None
        self._journaled = False

    def __enter__(self) -> Guard:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._on_signal) for s in SIGNALS}
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.restore_all()
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)  # type: ignore[arg-type]
            self.target.close()
            self.journal.close()

    def inject(self, fault: Fault) -> list[Stamp]:
        """Check, journal, inject; the Stamps of the effective calls."""
        fault.check(self.target)  # unknown node or link: FaultError, nothing written or changed
        entry = self.journal.record(self.target.name, fault)
        self._journaled = True
        self._active.append((entry, fault))  # before inject: a half-done inject is undone too
        return fault.inject(self.target)

    def restore(self, fault: Fault) -> list[Stamp]:
        """Restore one fault injected through this guard (e.g. at the end of its hold)."""
        found = [item for item in self._active if item[1] is fault]
        if not found:
            raise FaultError(f"not injected through this guard: {fault.describe()}")
        with self._shielded():
            return self._restore(*found[0])

    @property
    def injected(self) -> bool:
        """Whether any fault was journaled through this guard (and so may have changed the
        network)."""
        return self._journaled

    def restore_all(self) -> list[Stamp]:
        """Restore every fault still in place, newest first; FaultError if any could not be."""
        done = self.restore_remaining()
        if done.failed:
            raise FaultError(f"could not restore {'; '.join(done.failed)}")
        return done.stamps

    def restore_remaining(self) -> Restoration:
        """Restore every fault still in place, newest first, each whatever happens to the
        others. One that cannot be restored stays journaled (for `failover recover`) and is
        no longer this guard's to restore."""
        done = Restoration()
        with self._shielded():
            for entry, fault in reversed(list(self._active)):
                try:
                    done.stamps += self._restore(entry, fault)
                    done.restored.append(fault.describe())
                except Exception as exc:  # noqa: BLE001 - every other fault is still restored
                    done.failed.append(f"{fault.describe()}: {exc} (journal "
                                       f"{self.journal.path}: run `failover recover`)")
                    self._active.remove((entry, fault))
        return done

    def _restore(self, entry: str, fault: Fault) -> list[Stamp]:
        stamps = fault.restore(self.target)
        self.journal.restored(entry)
        self._active.remove((entry, fault))
        return stamps

    @contextmanager
    def _shielded(self) -> Iterator[None]:
        """Signals wait while restoring; the last one is raised once restoring is done."""
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1
        if self._shield == 0 and self._deferred is not None:
            signum, self._deferred = self._deferred, None
            _raise_for(signum)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._shield:
            self._deferred = signum
        else:
            _raise_for(signum)


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)
