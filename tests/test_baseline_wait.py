"""The baseline wait before a fault: slow device reads move its deadline, dirty traffic does
not (pure logic: test_live's fake probe session and observer)."""

from __future__ import annotations

import time

import pytest
from test_live import FakeProbes, Ticks, _cycler

from harness.engine.cycle import BaselineNotClean


def test_slow_facts_move_the_deadline_and_clean_traffic_then_passes() -> None:
    done_at = time.monotonic() + 0.8  # the facts take four times the grace
    start = time.monotonic()
    _cycler(Ticks()).baseline(FakeProbes(stop_after_s=60), 0.0,  # type: ignore[arg-type]
                              also=lambda: time.monotonic() >= done_at, grace_s=0.2)
    assert time.monotonic() - start >= 0.8


def test_traffic_that_stops_is_refused_after_the_grace_even_while_facts_are_read() -> None:
    done_at = time.monotonic() + 0.3
    start = time.monotonic()
    with pytest.raises(BaselineNotClean, match=r"a->b: nothing received for \d+ ms"):
        _cycler(Ticks()).baseline(
            FakeProbes(stop_after_s=0.0), 0.0,  # type: ignore[arg-type]
            also=lambda: time.monotonic() >= done_at, grace_s=0.2)
    assert time.monotonic() - start < 3.0
