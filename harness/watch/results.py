"""A watch's results (results.json of a watch pack): the marks people added, every outage of
every flow direction grouped into incidents (outages that overlap: several flows failing
together), each with its nearest mark, and each direction's totals against its SLA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.probes.analysis import FlowResult, Outage
from harness.scenario.results import CampaignResult, FaultWindow
from harness.watch.marks import Mark

TOGETHER_NS = 50_000_000  # outages starting this close to an incident's end belong to it


@dataclass(frozen=True)
class NearMark:
    text: str
    offset_ms: float  # the outage's start minus the mark's instant


@dataclass(frozen=True)
class DirectionOutage:
    """One outage of one flow direction: from the send time of its first lost probe to the
    send time of the first probe received after it (None: not recovered by the end)."""

    direction: str
    start_ns: int
    end_ns: int | None
    lost: int
    outage_ms: float  # loss-derived: lost / rate

    @property
    def window_ms(self) -> float | None:
        return None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e6


@dataclass
class Incident:
    """Outages that overlap in time, as one event: when, how long, which directions."""

    start_ns: int
    end_ns: int | None
    outages: list[DirectionOutage]
    nearest: NearMark | None = None

    @property
    def directions(self) -> list[str]:
        return sorted({o.direction for o in self.outages})

    @property
    def duration_ms(self) -> float | None:
        return None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e6


def nearest_mark(marks: Sequence[Mark], at_ns: int) -> NearMark | None:
    """The mark closest in time to `at_ns` (before or after it)."""
    if not marks:
        return None
    best = min(marks, key=lambda m: abs(at_ns - m.wall_ns))
    return NearMark(best.text, (at_ns - best.wall_ns) / 1e6)


def incidents(outages: Sequence[DirectionOutage], marks: Sequence[Mark]) -> list[Incident]:
    """Outages grouped into incidents by time (one that starts before an incident has ended,
    or within TOGETHER_NS of its end, joins it), each with its nearest mark."""
    found: list[Incident] = []
    for o in sorted(outages, key=lambda o: o.start_ns):
        last = found[-1] if found else None
        if last is not None and (last.end_ns is None
                                 or o.start_ns <= last.end_ns + TOGETHER_NS):
            last.outages.append(o)
            last.end_ns = None if last.end_ns is None or o.end_ns is None \
                else max(last.end_ns, o.end_ns)
        else:
            found.append(Incident(o.start_ns, o.end_ns, [o]))
    for incident in found:
        incident.nearest = nearest_mark(marks, incident.start_ns)
    return found


def direction_outages(name: str, rate: float,
                      outages: Sequence[Outage]) -> list[DirectionOutage]:
    """A direction's outages (at `rate` probes/s) with their loss-derived length."""
    return [DirectionOutage(name, o.start_ns, o.end_ns, o.lost, o.lost * 1e3 / rate)
            for o in outages]


@dataclass
class DirectionTotals:
    """One flow direction over the whole watch, judged outage by outage against its SLA."""

    direction: str
    flow: str
    critical: bool
    sla_ms: float
    sent: int
    received: int
    lost: int
    outages: int
    longest_ms: float  # the longest single outage, loss-derived
    total_ms: float  # every outage, loss-derived
    recovered: bool
    reasons: list[str] = field(default_factory=list)  # why it missed its SLA

    @property
    def passed(self) -> bool:
        return not self.reasons


def totals(result: FlowResult, flow: str, critical: bool, sla_ms: float) -> DirectionTotals:
    found = direction_outages(result.name, result.rate, result.outages)
    longest = max((o.outage_ms for o in found), default=0.0)
    recovered = all(o.end_ns is not None for o in found)
    reasons = ([] if recovered else ["traffic never recovered"]) + (
        [f"longest outage {longest:.0f} ms > SLA {sla_ms:.0f} ms"] if longest > sla_ms else [])
    return DirectionTotals(direction=result.name, flow=flow, critical=critical, sla_ms=sla_ms,
                           sent=result.sent, received=result.received, lost=result.lost,
                           outages=len(found), longest_ms=longest,
                           total_ms=sum(o.outage_ms for o in found), recovered=recovered,
                           reasons=reasons)


@dataclass(kw_only=True)
class WatchResult(CampaignResult):
    duration_s: float  # as asked
    ended: str = ""  # how the watch ended: its duration, Ctrl-C, ...
    marks: list[Mark] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    totals: list[DirectionTotals] = field(default_factory=list)

    @property
    def windows(self) -> list[FaultWindow]:
        return []  # nothing injected

    @property
    def sla_met(self) -> bool:
        """Every outage of every critical flow direction within its SLA, and recovered."""
        return all(t.passed for t in self.totals if t.critical)

    @property
    def outcome_as_expected(self) -> bool:
        return self.complete and self.sla_met and bool(self.totals) and not self.probe_problems

    def to_dict(self) -> dict[str, Any]:
        out = self.common_dict()
        out.update(sla_met=self.sla_met, outcome_as_expected=self.outcome_as_expected)
        for i_out, incident in zip(out["incidents"], self.incidents, strict=True):
            i_out.update(directions=incident.directions, duration_ms=incident.duration_ms)
        for t_out, t in zip(out["totals"], self.totals, strict=True):
            t_out["passed"] = t.passed
        return out
