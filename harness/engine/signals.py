"""How a run meets signals: SIGTERM and SIGHUP unwinding the stack as Ctrl-C does, or all
three held back while something must not be torn (a pack being written, a watch's records)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def signals_unwind() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind the stack like Ctrl-C does (restoring on the way out: the
    fault guard turns them into SystemExit while faults are in place)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _exit_on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Ctrl-C, SIGTERM and SIGHUP wait while something must not be torn (a pack written, a
    watch's records): the signals that arrived, in order."""
    arrived: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield arrived
        return
    previous = {s: signal.signal(s, lambda n, _f: arrived.append(n))
                for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield arrived
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def as_exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else SystemExit(128 + signum)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise as_exception(signum)
