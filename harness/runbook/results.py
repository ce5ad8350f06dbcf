"""A runbook's results: one window per step, each with its own verdicts, and the flows over
the whole runbook (results.json of a runbook pack)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.network.base import Snapshot
from harness.probes.analysis import FlowResult, PhaseStats, Verdict
from harness.scenario.results import FaultWindow


@dataclass
class StepVerdict:
    """One flow direction within one step's window, against the step's SLA."""

    direction: str
    flow: str
    critical: bool
    sla_ms: float
    stats: PhaseStats  # relative to the step's start
    verdict: Verdict


@dataclass(kw_only=True)
class StepResult(FaultWindow):
    """One step: when it ran, what it did (inject and restore stamps as a fault window has
    them), and for an operator step both instants: the key press and the first loss."""

    name: str
    kind: str  # inject, restore, wait, operator, mark, check
    what: str  # the step, described
    started_ns: int = 0
    ended_ns: int = 0  # the next step's start: windows follow each other
    confirmed_ns: int = 0  # an operator step: when the operator confirmed
    traffic_failed_ns: int = 0  # the first probe lost within the step (0: none)
    failed: str | None = None  # a check that failed, an operator who did not confirm in time
    verdicts: list[StepVerdict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failed and not self.aborted and all(
            v.verdict.passed for v in self.verdicts if v.critical)


@dataclass(kw_only=True)
class RunbookResult:
    scenario: str
    topology: str
    network: str = "lab"
    started_ns: int = 0
    ended_ns: int = 0
    steps: list[StepResult] = field(default_factory=list)
    directions: list[FlowResult] = field(default_factory=list)  # over the whole runbook
    incomplete: str | None = None
    probe_problems: list[str] = field(default_factory=list)
    state_diff: list[str] = field(default_factory=list)  # after the runbook vs before it
    context: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # not in results.json

    @property
    def not_restored(self) -> list[str]:
        return [line for s in self.steps for line in s.not_restored]

    @property
    def complete(self) -> bool:
        return self.incomplete is None and not self.not_restored

    @property
    def sla_met(self) -> bool:
        """Every step within its SLA (each critical flow direction), none failed or aborted."""
        return all(s.passed for s in self.steps)

    @property
    def outcome_as_expected(self) -> bool:
        return self.complete and self.sla_met and not self.state_diff \
            and not self.probe_problems

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["snapshots"]
        out.update(complete=self.complete, sla_met=self.sla_met,
                   outcome_as_expected=self.outcome_as_expected, not_restored=self.not_restored)
        for s_out, step in zip(out["steps"], self.steps, strict=True):
            s_out["passed"] = step.passed
        for d_out, direction in zip(out["directions"], self.directions, strict=True):
            d_out["lost"] = direction.lost
        return out
