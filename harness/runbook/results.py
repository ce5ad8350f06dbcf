"""A runbook's results: one window per step, each with its own verdicts, and the flows over
the whole runbook (results.json of a runbook pack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.probes.analysis import PhaseStats, Verdict
from harness.scenario.results import CampaignResult, FaultWindow


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
class RunbookResult(CampaignResult):
    steps: list[StepResult] = field(default_factory=list)

    @property
    def windows(self) -> list[StepResult]:
        return self.steps

    @property
    def sla_met(self) -> bool:
        """Every step within its SLA (each critical flow direction), none failed or aborted."""
        return all(s.passed for s in self.steps)

    @property
    def outcome_as_expected(self) -> bool:
        return self.complete and self.sla_met and not self.state_diff \
            and not self.probe_problems

    def to_dict(self) -> dict[str, Any]:
        out = self.common_dict()
        out.update(sla_met=self.sla_met, outcome_as_expected=self.outcome_as_expected)
        for s_out, step in zip(out["steps"], self.steps, strict=True):
            s_out["passed"] = step.passed
        return out
