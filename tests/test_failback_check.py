"""The convergence check after a restore runs beside the failback watch (pure logic: a fake
network whose convergence is a timer, and the fake probes of test_live)."""

from __future__ import annotations

import threading
import time

import pytest

from harness.engine.cycle import Cycler
from harness.errors import LabError
from harness.scenario.model import Timings
from harness.scenario.results import FaultWindow
from tests.test_live import FakeProbes, Ticks


class FakeNetwork:
    """A fake network (pure logic) that converges `after_s` seconds into the wait, or never,
    and stays so; its wait returns at `through` at the earliest, and ends with an error
    once `stop` is set, as the real ones do."""

    def __init__(self, after_s: float | None) -> None:
        self.after_s = after_s
        self.calls: list[tuple[float, float | None]] = []  # (timeout, through - called)
        self.stopped = threading.Event()

    def wait_converged(self, timeout: float, stop: threading.Event | None = None,
                       through: float | None = None) -> int:
        called = time.monotonic()
        self.calls.append((timeout, None if through is None else through - called))
        assert stop is not None
        never = self.after_s is None or self.after_s > timeout
        end = called + (timeout if never else max(self.after_s or 0.0,
                                                   (through or called) - called))
        while time.monotonic() < end:
            if stop.wait(0.01):
                self.stopped.set()
                raise LabError("convergence check stopped")
        if never:
            raise LabError(f"did not converge in {timeout:g} s")
        return time.time_ns() - int(max(0.0, end - called - (self.after_s or 0.0)) * 1e9)


def _failback(network: FakeNetwork, failback_s: float, timeout_s: float = 5.0,
              probes: FakeProbes | None = None) -> tuple[FaultWindow, float, list[str]]:
    """Run the failback; the window, its seconds and what it said."""
    said: list[str] = []
    view = Ticks()
    view.phase = lambda name, detail: said.append(detail)  # type: ignore[method-assign]
    timings = Timings.model_construct(failback_s=failback_s, converge_timeout_s=timeout_s)
    cycler = Cycler([], network, timings, view)  # type: ignore[arg-type]
    cycler.periods_ms = {"a->b": 10.0}
    window = FaultWindow()
    start = time.monotonic()
    cycler.failback(probes or FakeProbes(stop_after_s=60), window)  # type: ignore[arg-type]
    return window, time.monotonic() - start, said


def test_a_network_converged_within_the_watch_adds_no_wait() -> None:
    network = FakeNetwork(after_s=0.3)
    start_ns = time.time_ns()
    window, seconds, said = _failback(network, failback_s=1.0)
    assert 1.0 <= seconds < 1.2  # the watch alone
    assert network.calls[0][0] == pytest.approx(6.0)  # the watch's and the timeout's
    assert network.calls[0][1] == pytest.approx(1.0, abs=0.05)  # held through the watch
    assert 0.25e9 < window.converged_ns - start_ns < 0.6e9  # seen while the watch ran
    assert not window.state_diff
    assert not any("waiting for the network to reconverge" in s for s in said)


def test_a_check_still_running_after_the_watch_is_waited_for_and_said() -> None:
    network = FakeNetwork(after_s=1.5)
    window, seconds, said = _failback(network, failback_s=0.5)
    assert 1.5 <= seconds < 1.8 and window.converged_ns
    assert any("waiting for the network to reconverge" in s for s in said)


def test_a_network_that_never_reconverges_is_reported_not_raised() -> None:
    window, seconds, _ = _failback(FakeNetwork(after_s=None), failback_s=0.3, timeout_s=0.4)
    assert 0.7 <= seconds < 1.0 and not window.converged_ns
    assert window.state_diff == ["not restored: did not converge in 0.7 s"]


class Interrupting(FakeProbes):
    """Fake probes whose poll raises (as Ctrl-C would in the watch) after `after_s`."""

    def __init__(self, after_s: float) -> None:
        super().__init__(stop_after_s=60)
        self.at = time.monotonic() + after_s

    def poll(self):  # type: ignore[no-untyped-def]
        if time.monotonic() >= self.at:
            raise KeyboardInterrupt
        return super().poll()


def test_an_interrupted_watch_stops_the_check_at_once() -> None:
    network = FakeNetwork(after_s=None)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _failback(network, failback_s=10.0, timeout_s=60.0, probes=Interrupting(0.3))
    assert network.stopped.is_set() and time.monotonic() - start < 1.0
