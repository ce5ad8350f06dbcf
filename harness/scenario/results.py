"""A scenario run's results: per-flow verdicts, the timeline, safety and state checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.faults import Stamp
from harness.network.base import Snapshot
from harness.probes.analysis import FlowResult, PhaseStats, Verdict

NOT_IN_RESULTS = ("snapshots",)  # travels with the result, written to the pack on its own


@dataclass
class DirectionVerdict:
    """One flow direction through one fault window, against its SLA."""

    direction: str
    flow: str
    critical: bool
    sla_ms: float
    failback_sla_ms: float
    failover: PhaseStats
    failback: PhaseStats
    failover_verdict: Verdict
    failback_verdict: Verdict

    @property
    def passed(self) -> bool:
        return self.failover_verdict.passed and self.failback_verdict.passed


@dataclass
class FlowVerdict(DirectionVerdict):
    result: FlowResult  # the direction over the whole run


@dataclass(frozen=True)
class Recovery:
    """How long the network took to recover, in ms; None: not seen to recover (or not
    measured). "Every flow delivering again" is the latest end (send time of the first probe
    received after it) of the outage windows counted in a phase, over every flow direction,
    critical or not; 0 when none lost a probe.

    after_fault_ms: from the fault's inject stamp until every flow delivered again, before
        the restore: the data plane's convergence, as traffic generators report it (the
        routers are not read while the fault holds).
    after_restore_ms: from the restore stamp until every flow delivered again, to the end of
        the run (data plane).
    converged_ms: from the restore stamp to the start of the reading that found the network
        converged (`converged_ns`, control plane): the check runs from the restore on, beside
        the failback watch; an upper bound by one round of its readings (and its settle
        period).
    fault_to_full_ms: from the fault's inject stamp to the first instant after which every
        flow delivers to the end of the run and the network is known converged: full recovery,
        control plane and data plane, bounded as `converged_ms` is (it includes the hold).
    """

    after_fault_ms: float | None
    after_restore_ms: float | None
    converged_ms: float | None
    fault_to_full_ms: float | None


def _recovered_at(phases: list[tuple[PhaseStats, int]]) -> int | None:
    """The instant (ns) after which no phase lost a probe (0: none lost), from each phase's
    stats and its event instant; None when one never recovered."""
    if not all(stats.recovered for stats, _ in phases):
        return None
    return max((event + round(stats.recovery_ms * 1e6) for stats, event in phases
                if stats.recovery_ms is not None), default=0)


def _since(at_ns: int | None, event_ns: int) -> float | None:
    """ms from the event to an instant (0 for an instant before it: nothing was lost)."""
    return None if at_ns is None else max(0, at_ns - event_ns) / 1e6


@dataclass(kw_only=True)
class FaultWindow:
    """One fault cycle of a run: the faults injected and restored, when, and how it ended."""

    fault_ns: int = 0  # the first inject stamp's start
    restore_ns: int = 0  # the first restore stamp's start
    converged_ns: int = 0  # the reading after the restore that found it converged (0: none)
    inject_stamps: list[Stamp] = field(default_factory=list)
    restore_stamps: list[Stamp] = field(default_factory=list)
    aborted: str | None = None  # restored early: a critical flow passed its hard limit
    restored: list[str] = field(default_factory=list)  # the faults restored
    not_restored: list[str] = field(default_factory=list)  # faults left in place, and why
    state_diff: list[str] = field(default_factory=list)  # not back as before, after it


@dataclass(kw_only=True)
class RunResult(FaultWindow):
    scenario: str
    topology: str
    expect: str
    network: str = "lab"  # "lab": the built-in lab; "devices": real devices (NAPALM, SSH)
    started_ns: int = 0
    ended_ns: int = 0
    flows: list[FlowVerdict] = field(default_factory=list)
    incomplete: str | None = None  # why the run stopped before its end (interrupted, failed)
    probe_problems: list[str] = field(default_factory=list)  # the measurement is not sound
    timings_s: dict[str, float] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # operator, host, versions
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)  # NAPALM get_facts
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # "before" / "after"

    @property
    def sla_met(self) -> bool:
        """Every critical flow within its SLA, failover and failback."""
        return all(v.passed for v in self.flows if v.critical) and not self.aborted

    @property
    def outcome_as_expected(self) -> bool:
        """Pass when expected to pass; a control scenario (expect: fail) must miss its SLA."""
        return self.complete and not self.state_diff and not self.probe_problems and (
            self.sla_met if self.expect == "pass" else not self.sla_met)

    @property
    def recovery(self) -> Recovery:
        """The run's recovery times (see `Recovery`); all None without a fault or flows."""
        if not self.fault_ns or not self.flows:
            return Recovery(None, None, None, None)
        fault_at = _recovered_at([(v.failover, self.fault_ns) for v in self.flows])
        during = fault_at is not None and (not self.restore_ns or fault_at <= self.restore_ns)
        back_at = _recovered_at([(v.failback, self.restore_ns) for v in self.flows]) \
            if self.restore_ns and fault_at is not None else None  # one still out: never
        converged = self.converged_ns if self.restore_ns else 0
        full_at = max(fault_at or 0, back_at, converged) \
            if back_at is not None and converged else None
        return Recovery(
            after_fault_ms=_since(fault_at, self.fault_ns) if during else None,
            after_restore_ms=_since(back_at, self.restore_ns),
            converged_ms=_since(converged or None, self.restore_ns),
            fault_to_full_ms=_since(full_at, self.fault_ns))

    @property
    def complete(self) -> bool:
        """The run went to its end and left nothing in place."""
        return self.incomplete is None and not self.not_restored

    def to_dict(self) -> dict[str, Any]:
        """Plain data (results.json), with the verdicts the properties compute."""
        out = asdict(self)
        for name in NOT_IN_RESULTS:
            del out[name]
        out["complete"] = self.complete
        out["sla_met"] = self.sla_met
        out["outcome_as_expected"] = self.outcome_as_expected
        out["recovery"] = asdict(self.recovery)
        for flow, verdict in zip(out["flows"], self.flows, strict=True):
            flow["passed"] = verdict.passed
            flow["result"]["lost"] = verdict.result.lost
        return out


@dataclass(kw_only=True)
class CampaignResult:
    """A run of many fault windows on one probe session (an N-1 sweep's failures, a
    runbook's steps): what they share besides their windows (`windows`)."""

    scenario: str
    topology: str
    network: str = "lab"
    started_ns: int = 0
    ended_ns: int = 0
    directions: list[FlowResult] = field(default_factory=list)  # over the whole run
    incomplete: str | None = None
    probe_problems: list[str] = field(default_factory=list)
    state_diff: list[str] = field(default_factory=list)  # after the run vs before it
    context: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # not in results.json

    @property
    def windows(self) -> Sequence[FaultWindow]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """results.json's data (`common_dict` and the subclass's windows)."""
        raise NotImplementedError

    @property
    def not_restored(self) -> list[str]:
        return [line for w in self.windows for line in w.not_restored]

    @property
    def complete(self) -> bool:
        return self.incomplete is None and not self.not_restored

    def common_dict(self) -> dict[str, Any]:
        """Plain data with what every campaign adds (its windows are the subclass's)."""
        out = asdict(self)
        for name in NOT_IN_RESULTS:
            del out[name]
        out.update(complete=self.complete, not_restored=self.not_restored)
        for d_out, direction in zip(out["directions"], self.directions, strict=True):
            d_out["lost"] = direction.lost
        return out
