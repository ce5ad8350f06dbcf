"""Per-flow analysis of received probes: loss, duplicates, reordering and outage windows.

Terms follow RFC 6412 (terminology) and RFC 6413 (methodology) for benchmarking IGP
data-plane convergence: the *loss-derived* outage of a flow is its lost packets divided by
its offered rate ("Loss-Derived Convergence Time" = Convergence Packet Loss / Offered Load),
and measuring it per flow is their "Route-Specific Loss-Derived Method". An outage window is
a run of missing sequence numbers, from the (estimated) send time of its first lost probe to
the send time of the first probe received after it. The largest receive gap minus one probe
interval is given beside it; both agreed within one interval on this machine
(shared/notes/probing.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.probes.wire import SEQ_MODULO

Arrival = tuple[int, int, int]  # (sequence as sent, send ns, kernel receive ns)


@dataclass(frozen=True)
class Outage:
    first_seq: int
    last_seq: int
    start_ns: int           # send time of the first lost probe (estimated from its neighbour)
    end_ns: int | None      # send time of the first probe received after it; None: no recovery
    gap_ns: int | None      # receive-time gap around it minus one interval, when both ends exist

    @property
    def lost(self) -> int:
        return self.last_seq - self.first_seq + 1


@dataclass
class FlowResult:
    """One direction of one flow over a whole probe run."""

    name: str
    rate: float
    sent: int
    received: int
    duplicates: int
    reordered: int
    outages: list[Outage] = field(default_factory=list)
    max_gap_ns: int = 0     # largest receive gap minus one interval
    probe_id: int = 0  # the flow id in its probes' headers (and in raw records)

    @property
    def lost(self) -> int:
        return sum(o.lost for o in self.outages)

    @property
    def period_ns(self) -> int:
        return int(1e9 / self.rate)

    @property
    def never_started(self) -> bool:
        return self.sent > 0 and self.received == 0

    @property
    def recovered(self) -> bool:
        return all(o.end_ns is not None for o in self.outages)


def _unwrap(raws: np.ndarray, first: int) -> np.ndarray:
    """Sequence numbers as sent, across 32-bit wrap, relative to `first`."""
    half = SEQ_MODULO // 2
    if first == 0 and (not len(raws) or raws.max() < half):  # no wrap near: nothing to unwrap
        return raws
    steps = np.diff(raws, prepend=first) % SEQ_MODULO
    steps[steps >= half] -= SEQ_MODULO
    return np.cumsum(steps)


def analyse(name: str, arrivals: Sequence[Arrival] | np.ndarray, sent: int, rate: float,
            first_send_ns: int, first_seq: int = 0) -> FlowResult:
    """Analyse one direction of a flow from its arrivals, in arrival order (`Arrival`s, or
    an integer array of them, one per row)."""
    period = int(1e9 / rate)
    table = np.asarray(arrivals, dtype=np.int64).reshape(-1, 3)
    seqs = _unwrap(table[:, 0], first_seq)
    unique, first = np.unique(seqs, return_index=True)  # each number's first arrival
    in_order = seqs[np.sort(first)]  # first arrivals, as they came
    highest = np.maximum.accumulate(np.concatenate(([-1], in_order)))[:-1]
    inside = (unique >= 0) & (unique < sent)
    idx, times = unique[inside], table[first[inside], 1:]  # (send ns, receive ns) each
    result = FlowResult(name=name, rate=rate, sent=sent, received=len(idx),
                        duplicates=len(seqs) - len(unique),
                        reordered=int(np.count_nonzero(in_order < highest)))
    before = np.flatnonzero(unique == -1)  # a number just before the first one counts too
    result.outages = _outages(idx, times, table[first[before[0]], 1:] if len(before) else None,
                              sent, period, first_send_ns)
    recv_times = np.sort(times[:, 1])
    result.max_gap_ns = max(0, int(np.diff(recv_times).max()) - period) \
        if len(recv_times) > 1 else 0
    return result


def _outages(idx: np.ndarray, times: np.ndarray, before_first: np.ndarray | None, sent: int,
             period: int, first_send_ns: int) -> list[Outage]:
    """Runs of missing sequence numbers among [0, sent), from the received ones (`idx`,
    ascending) and their (send, receive) times."""
    expected = np.concatenate(([0], idx + 1))
    found = np.append(idx, sent)
    outages = []
    for at in np.flatnonzero(found > expected):
        before = times[at - 1] if at else before_first
        after = times[at] if at < len(idx) else None
        first = int(expected[at])
        start = int(before[0]) + period if before is not None else first_send_ns + first * period
        gap = int(after[1] - before[1]) - period if before is not None and after is not None \
            else None
        outages.append(Outage(first_seq=first, last_seq=int(found[at]) - 1, start_ns=start,
                              end_ns=int(after[0]) if after is not None else None, gap_ns=gap))
    return outages


@dataclass(frozen=True)
class PhaseStats:
    """A flow's loss within a window (e.g. from the fault to the restore), relative to an event.
    `outage_ms` is RFC 6412's Loss-Derived Convergence Time of the event: probes lost / the
    offered rate; `recovery_ms`, the end of the last outage window (send time of the first
    probe received after it) from the event."""

    lost: int
    outage_ms: float                 # loss-derived: lost / rate
    longest_ms: float                # the longest single outage, loss-derived
    first_loss_ms: float | None      # first lost probe's send time - event
    recovery_ms: float | None        # last outage's end - event (None: never recovered)
    recovered: bool


def phase(result: FlowResult, start_ns: int, end_ns: int | None, event_ns: int) -> PhaseStats:
    """Outages that start within [start_ns, end_ns) of a run, relative to `event_ns`."""
    inside = [o for o in result.outages
              if o.start_ns >= start_ns and (end_ns is None or o.start_ns < end_ns)]
    lost = sum(o.lost for o in inside)
    period_ms = 1e3 / result.rate
    last = inside[-1] if inside else None
    return PhaseStats(
        lost=lost, outage_ms=lost * period_ms,
        longest_ms=max((o.lost for o in inside), default=0) * period_ms,
        first_loss_ms=(inside[0].start_ns - event_ns) / 1e6 if inside else None,
        recovery_ms=((last.end_ns - event_ns) / 1e6 if last.end_ns is not None else None)
        if last else None,
        recovered=all(o.end_ns is not None for o in inside))


@dataclass(frozen=True)
class SLA:
    max_outage_ms: float
    max_loss_pct: float | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]


def check(stats: PhaseStats, sla: SLA, sent: int) -> Verdict:
    """A flow's phase against its SLA; every miss gives a reason a person can read."""
    reasons = []
    if not stats.recovered:
        reasons.append("traffic never recovered")
    if stats.outage_ms > sla.max_outage_ms:
        reasons.append(f"outage {stats.outage_ms:.0f} ms > SLA {sla.max_outage_ms:.0f} ms")
    if sla.max_loss_pct is not None and sent:
        pct = 100.0 * stats.lost / sent
        if pct > sla.max_loss_pct:
            reasons.append(f"loss {pct:.2f}% > SLA {sla.max_loss_pct:.2f}%")
    return Verdict(passed=not reasons, reasons=tuple(reasons))
