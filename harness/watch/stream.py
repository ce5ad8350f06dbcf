"""Outages of one flow direction found while its probes stream in, in bounded memory: a few
counters and the outages themselves, never the probes. The same terms as the whole-run
analysis (`harness.probes.analysis`): an outage is a run of missing sequence numbers, from the
(estimated) send time of its first lost probe to the send time of the first probe received
after it.

A probe arriving late (reordered, or held in a queue while a link was down) fills the outage
it falls into (the outage shrinks, splits or vanishes): the results at the end count it as
the whole-run analysis does. An outage is *settled* SETTLE_NS after the probe that closed it
arrived, and only settled outages are told to a person as they happen. Sequence numbers are
taken as sent from 0 without wrapping (2^32 probes: 50 days at 1 kpps)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

import numpy as np

from harness.probes.analysis import FlowResult, Outage

SETTLE_NS = 1_000_000_000  # an outage closed this long ago is told (late probes rarely come later)


@dataclass
class _Found:
    outage: Outage
    closed_ns: int  # receive time of the probe that closed it (settles SETTLE_NS later)
    told: bool = False


@dataclass
class DirectionStream:
    """One direction's probes as they arrive (`add`), its outages so far (`settled`), and its
    result once the sender's count is known (`result`)."""

    name: str
    rate: float
    received: int = 0
    duplicates: int = 0
    reordered: int = 0
    max_seq: int = -1
    max_send_ns: int = 0  # send time of the highest sequence number received
    max_recv_ns: int = 0  # receive time of that probe
    last_recv_ns: int = 0
    max_gap_ns: int = 0  # largest receive gap minus one interval
    _found: list[_Found] = field(default_factory=list)

    @property
    def period_ns(self) -> int:
        return int(1e9 / self.rate)

    def add(self, seqs: np.ndarray, send_ns: np.ndarray, recv_ns: np.ndarray) -> None:
        """Probes in arrival order: sequence numbers, send and receive times."""
        if not len(seqs):
            return
        seqs, send_ns, recv_ns = (np.asarray(a, dtype=np.int64) for a in (seqs, send_ns,
                                                                          recv_ns))
        recv_all = np.concatenate(([self.last_recv_ns or recv_ns[0]], recv_ns))
        self.max_gap_ns = max(self.max_gap_ns, int(np.diff(recv_all).max()) - self.period_ns)
        self.last_recv_ns = max(self.last_recv_ns, int(recv_ns.max()))
        highest = np.maximum.accumulate(np.concatenate(([self.max_seq], seqs)))[:-1]
        late = np.flatnonzero(seqs <= highest)
        start = 0
        for i in [*late, len(seqs)]:  # in arrival order: a late probe may fill a gap just found
            self._ahead(seqs[start:i], send_ns[start:i], recv_ns[start:i])
            if i < len(seqs):
                self._late(int(seqs[i]), int(send_ns[i]))
            start = i + 1

    def _ahead(self, seqs: np.ndarray, send_ns: np.ndarray, recv_ns: np.ndarray) -> None:
        """Probes each ahead of every earlier one: a skip before one closes an outage."""
        if not len(seqs):
            return
        self.received += len(seqs)
        prev = np.concatenate(([self.max_seq], seqs[:-1]))
        for i in np.flatnonzero(seqs > prev + 1):
            self._gap(int(i), seqs, send_ns, recv_ns)
        self.max_seq, self.max_send_ns = int(seqs[-1]), int(send_ns[-1])
        self.max_recv_ns = int(recv_ns[-1])

    def _gap(self, i: int, seqs: np.ndarray, send_ns: np.ndarray, recv_ns: np.ndarray) -> None:
        """An outage closed by probe `i` (numbers skipped since the one before it)."""
        if i:
            prev_seq, prev_send, prev_recv = (int(a[i - 1]) for a in (seqs, send_ns, recv_ns))
        else:
            prev_seq, prev_send, prev_recv = self.max_seq, self.max_send_ns, self.max_recv_ns
        first = prev_seq + 1
        if prev_seq < 0:  # lost before the first probe received: estimated from its send time
            start, gap = int(send_ns[i]) - int(seqs[i]) * self.period_ns, None
        else:
            start, gap = prev_send + self.period_ns, int(recv_ns[i]) - prev_recv - self.period_ns
        self._found.append(_Found(Outage(first_seq=first, last_seq=int(seqs[i]) - 1,
                                         start_ns=start, end_ns=int(send_ns[i]), gap_ns=gap),
                                  closed_ns=int(recv_ns[i])))

    def _late(self, seq: int, send_ns: int) -> None:
        """A probe behind the highest one: it fills the outage it falls into (which shrinks,
        splits or vanishes), or it was received before (a duplicate)."""
        k = bisect.bisect_right(self._found, seq, key=lambda f: f.outage.first_seq) - 1
        if k < 0 or not self._found[k].outage.first_seq <= seq <= self._found[k].outage.last_seq:
            self.duplicates += 1
            return
        f = self._found[k]
        o = f.outage
        self.received += 1
        self.reordered += 1
        parts = [replace(o, last_seq=seq - 1, end_ns=send_ns, gap_ns=None)] \
            if seq > o.first_seq else []
        if seq < o.last_seq:
            parts.append(replace(o, first_seq=seq + 1, start_ns=send_ns + self.period_ns,
                                 gap_ns=None))
        self._found[k:k + 1] = [_Found(p, f.closed_ns, f.told) for p in parts]

    def settled(self, now_ns: int) -> list[Outage]:
        """Outages settled since the last call (no late probe can change them any more)."""
        out = []
        for f in self._found:
            if not f.told and f.closed_ns < now_ns - SETTLE_NS:
                f.told = True
                out.append(f.outage)
        return out

    @property
    def outages(self) -> list[Outage]:
        """Every outage found so far (the last ones may still change)."""
        return [f.outage for f in self._found]

    def result(self, sent: int, first_send_ns: int, probe_id: int = 0) -> FlowResult:
        """The direction over the whole watch, once the sender said how many it sent: an
        outage still open at the end never recovered."""
        outages = self.outages
        if self.max_seq + 1 < sent:
            start = self.max_send_ns + self.period_ns if self.max_seq >= 0 else first_send_ns
            outages.append(Outage(first_seq=self.max_seq + 1, last_seq=sent - 1,
                                  start_ns=start, end_ns=None, gap_ns=None))
        return FlowResult(name=self.name, rate=self.rate, sent=sent, received=self.received,
                          duplicates=self.duplicates, reordered=self.reordered,
                          outages=outages, max_gap_ns=max(0, self.max_gap_ns),
                          probe_id=probe_id)
