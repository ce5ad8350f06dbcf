"""The baseline wait before a fault: slow device reads move its deadline, dirty traffic does
not (pure logic: a fake probe session and a null observer)."""

from __future__ import annotations

import time

import pytest

from harness.engine.cycle import BaselineNotClean, Cycler
from harness.engine.observer import RunObserver
from harness.probes.session import Live


class FakeProbes:
    """One direction, received up to `stop_after_s` from now (clean since 10 s before)."""

    directions = ["a->b"]

    def __init__(self, stop_after_s: float) -> None:
        self.stop_ns = time.time_ns() + int(stop_after_s * 1e9)
        self.polls = 0

    def poll(self) -> dict[str, Live]:
        self.polls += 1
        last = min(time.time_ns(), self.stop_ns)
        return {"a->b": Live(received=self.polls, last_recv_ns=last, max_seq=self.polls,
                             clean_since_ns=last - 10**10)}


class Said(RunObserver):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def phase(self, name: str, detail: str) -> None:
        self.lines.append(detail)


def _cycler(observer: RunObserver) -> Cycler:
    cycler = Cycler([], None, None, observer)  # type: ignore[arg-type]
    cycler.periods_ms = {"a->b": 10.0}
    return cycler


def test_slow_facts_move_the_deadline_and_clean_traffic_then_passes() -> None:
    done_at = time.monotonic() + 0.8  # the facts take four times the grace
    start = time.monotonic()
    _cycler(Said()).baseline(FakeProbes(stop_after_s=60), 0.0,  # type: ignore[arg-type]
                             also=lambda: time.monotonic() >= done_at, grace_s=0.2)
    assert time.monotonic() - start >= 0.8


def test_traffic_that_stops_is_refused_after_the_grace_even_while_facts_are_read() -> None:
    done_at = time.monotonic() + 0.3
    start = time.monotonic()
    with pytest.raises(BaselineNotClean, match=r"a->b: nothing received for \d+ ms"):
        _cycler(Said()).baseline(FakeProbes(stop_after_s=0.0), 0.0,  # type: ignore[arg-type]
                                 also=lambda: time.monotonic() >= done_at, grace_s=0.2)
    assert time.monotonic() - start < 3.0
