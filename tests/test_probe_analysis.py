"""Analysis of probe sequences, on constructed arrivals (pure logic, no lab)."""

from __future__ import annotations

import numpy as np

from harness.probes.analysis import SLA, analyse, check, phase
from harness.probes.session import Live
from harness.probes.wire import SEQ_MODULO

MS = 1_000_000
T0 = 1_700_000_000 * 10**9


def arrivals(seqs: list[int], delay_ns: int = 50_000, first: int = 0) -> list[tuple[int, int, int]]:
    """Probes sent every 1 ms from T0 (seq `first` at T0), received `delay_ns` later."""
    return [(s % SEQ_MODULO, T0 + ((s - first) % SEQ_MODULO) * MS,
             T0 + ((s - first) % SEQ_MODULO) * MS + delay_ns) for s in seqs]


def test_clean_flow_has_no_outage() -> None:
    r = analyse("f", arrivals(list(range(1000))), sent=1000, rate=1000, first_send_ns=T0)
    assert (r.received, r.lost, r.duplicates, r.reordered, r.outages) == (1000, 0, 0, 0, [])
    assert r.max_gap_ns == 0


def test_gap_is_an_outage_window() -> None:
    seqs = [s for s in range(1000) if not 300 <= s < 420]
    r = analyse("f", arrivals(seqs), sent=1000, rate=1000, first_send_ns=T0)
    (o,) = r.outages
    assert (o.first_seq, o.last_seq, o.lost) == (300, 419, 120)
    assert o.start_ns == T0 + 300 * MS and o.end_ns == T0 + 420 * MS
    assert o.gap_ns == 120 * MS  # receive gap 121 ms minus one interval
    assert r.max_gap_ns == 120 * MS
    stats = phase(r, T0, None, event_ns=T0 + 295 * MS)
    assert stats.outage_ms == 120.0 and stats.longest_ms == 120.0
    assert stats.first_loss_ms == 5.0 and stats.recovery_ms == 125.0


def test_two_outages_and_phases_split_them() -> None:
    seqs = [s for s in range(2000) if not (100 <= s < 110 or 1500 <= s < 1550)]
    r = analyse("f", arrivals(seqs), sent=2000, rate=1000, first_send_ns=T0)
    assert [o.lost for o in r.outages] == [10, 50]
    failover = phase(r, T0, T0 + 1000 * MS, event_ns=T0 + 100 * MS)
    failback = phase(r, T0 + 1000 * MS, None, event_ns=T0 + 1500 * MS)
    assert (failover.lost, failback.lost) == (10, 50)
    assert failback.first_loss_ms == 0.0


def test_reordering_and_duplicates_are_not_loss() -> None:
    seqs = [0, 1, 3, 2, 4, 4, 5, 5, 6]
    r = analyse("f", arrivals(seqs), sent=7, rate=1000, first_send_ns=T0)
    assert (r.received, r.lost, r.duplicates, r.reordered) == (7, 0, 2, 1)
    assert r.outages == []


def test_sequence_wrap() -> None:
    first = SEQ_MODULO - 5
    seqs = [first + i for i in range(20) if i != 7]  # 5 before the wrap, the rest after
    r = analyse("f", arrivals(seqs, first=first), sent=20, rate=1000, first_send_ns=T0,
                first_seq=first)
    assert r.received == 19 and [(o.first_seq, o.lost) for o in r.outages] == [(7, 1)]


def test_flow_that_never_recovers() -> None:
    r = analyse("f", arrivals(list(range(500))), sent=800, rate=1000, first_send_ns=T0)
    (o,) = r.outages
    assert (o.first_seq, o.lost, o.end_ns, o.gap_ns) == (500, 300, None, None)
    assert not r.recovered
    stats = phase(r, T0, None, event_ns=T0 + 499 * MS)
    assert not stats.recovered and stats.recovery_ms is None
    verdict = check(stats, SLA(max_outage_ms=1000), sent=800)
    assert not verdict.passed and "never recovered" in verdict.reasons[0]


def test_flow_that_never_started() -> None:
    r = analyse("f", [], sent=300, rate=1000, first_send_ns=T0)
    assert r.never_started and r.lost == 300
    assert r.outages[0].start_ns == T0 and r.outages[0].end_ns is None


def test_sla_verdicts_can_pass_and_fail() -> None:
    seqs = [s for s in range(1000) if not 100 <= s < 400]
    r = analyse("f", arrivals(seqs), sent=1000, rate=1000, first_send_ns=T0)
    stats = phase(r, T0, None, event_ns=T0)
    assert check(stats, SLA(max_outage_ms=300), sent=1000).passed
    miss = check(stats, SLA(max_outage_ms=299, max_loss_pct=10), sent=1000)
    assert not miss.passed
    assert miss.reasons == ("outage 300 ms > SLA 299 ms", "loss 30.00% > SLA 10.00%")


def test_live_view_knows_since_when_a_direction_is_clean() -> None:
    live = Live()
    arrivals = [(0, 10), (1, 11), (2, 12), (5, 15), (4, 16), (6, 17), (7, 18), (9, 19)]
    for chunk in (arrivals[:4], [], arrivals[4:7]):  # as the receivers' flushes cut them
        live.add(np.array([s for s, _ in chunk], dtype=np.uint32),
                 np.array([t for _, t in chunk], dtype=np.uint64))
    assert (live.received, live.max_seq, live.lost) == (7, 7, 2)
    assert live.clean_since_ns == 15  # the gap before 5; the late 4 is reordering, not loss
    live.add(np.array([9], dtype=np.uint32), np.array([19], dtype=np.uint64))
    assert (live.max_seq, live.lost, live.clean_since_ns, live.last_recv_ns) == (9, 3, 19, 19)


def test_live_view_starts_clean_at_its_first_probe() -> None:
    live = Live()
    live.add(np.array([3, 4], dtype=np.uint32), np.array([50, 51], dtype=np.uint64))
    assert (live.received, live.lost, live.clean_since_ns) == (2, 0, 50)
