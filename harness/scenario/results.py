"""A scenario run's results: per-flow verdicts, the timeline, safety and state checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.faults import Stamp
from harness.network.base import Snapshot
from harness.probes.analysis import FlowResult, PhaseStats, Verdict

NOT_IN_RESULTS = ("snapshots",)  # travels with the result, written to the pack on its own


@dataclass
class FlowVerdict:
    direction: str
    flow: str
    critical: bool
    sla_ms: float
    failback_sla_ms: float
    failover: PhaseStats
    failback: PhaseStats
    failover_verdict: Verdict
    failback_verdict: Verdict
    result: FlowResult

    @property
    def passed(self) -> bool:
        return self.failover_verdict.passed and self.failback_verdict.passed


@dataclass(kw_only=True)
class FaultWindow:
    """One fault cycle of a run: the faults injected and restored, when, and how it ended."""

    fault_ns: int = 0  # the first inject stamp's start
    restore_ns: int = 0  # the first restore stamp's start
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
        for flow, verdict in zip(out["flows"], self.flows, strict=True):
            flow["passed"] = verdict.passed
            flow["result"]["lost"] = verdict.result.lost
        return out
