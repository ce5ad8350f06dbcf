"""An N-1 campaign's results: one failure per row, one cell per flow direction, with the
prediction beside the measurement (results.json of a sweep pack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.scenario.results import CampaignResult, DirectionVerdict, FaultWindow

SURVIVED_LOSS = "predicted to survive (no forwarding path crosses the failure), but lost probes"
AFFECTED_NO_LOSS = "predicted affected (every forwarding path crosses the failure), but lost " \
    "none"


@dataclass
class Cell(DirectionVerdict):
    """One flow direction through one failure, with its prediction."""

    predicted_affected: bool  # some forwarding path of it crosses the failure
    certain: bool  # every forwarding path of it does

    @property
    def outage_ms(self) -> float:
        """The worse of failover and failback: what the heatmap shows."""
        return max(self.failover.outage_ms, self.failback.outage_ms)

    @property
    def surprise(self) -> str | None:
        lost = self.failover.lost + self.failback.lost
        if lost and not self.predicted_affected:
            return SURVIVED_LOSS
        if not lost and self.certain:
            return AFFECTED_NO_LOSS
        return None


@dataclass(kw_only=True)
class FailureResult(FaultWindow):
    element: str  # "link core1:eth1 -- core2:eth1", "router core1"
    fault: str  # the fault, described
    kind: str
    predicted_affected: list[str] = field(default_factory=list)  # flow directions
    certain: list[str] = field(default_factory=list)  # every path of these crosses it
    cuts: list[str] = field(default_factory=list)  # critical flows without a path left: SPOF
    accepted: bool = False  # a single point of failure the sweep names as known
    skipped: str | None = None  # why it was not injected
    end_ns: int = 0  # reconverged and clean again: the window ends
    cells: list[Cell] = field(default_factory=list)

    @property
    def single_point(self) -> bool:
        return bool(self.cuts)

    @property
    def new_single_point(self) -> bool:
        """A single point of failure the sweep does not name as known (accepted)."""
        return self.single_point and not self.accepted


@dataclass(frozen=True)
class ShardRecord:
    """A campaign run in parts: which part this is, and what it and the whole campaign fail."""

    index: int
    count: int
    failures: list[str]  # this part's (elements, in the sweep's order)
    campaign: list[str]  # every part's


@dataclass(kw_only=True)
class SweepResult(CampaignResult):
    critical_directions: list[str] = field(default_factory=list)
    failures: list[FailureResult] = field(default_factory=list)
    prediction_source: dict[str, str] = field(default_factory=dict)  # direction -> where read
    shard: ShardRecord | None = None  # a part of a campaign run in shards

    @property
    def windows(self) -> list[FailureResult]:
        return self.failures

    @property
    def single_points(self) -> list[FailureResult]:
        return [f for f in self.failures if f.single_point]

    @property
    def sla_met(self) -> bool:
        """Every critical cell of every failure measured within its SLA, and no failure
        aborted at a hard limit (single points of failure not injected are judged apart)."""
        return all(c.passed for f in self.failures for c in f.cells if c.critical) \
            and not any(f.aborted for f in self.failures)

    @property
    def outcome_as_expected(self) -> bool:
        """The network survives every single failure: no single point of failure but those
        the sweep accepts as known, every critical flow within its SLA, everything restored and
        back as before."""
        return self.complete and self.sla_met \
            and not any(f.new_single_point for f in self.failures) \
            and not self.state_diff and not self.probe_problems \
            and not any(f.state_diff for f in self.failures)

    def to_dict(self) -> dict[str, Any]:
        out = self.common_dict()
        out.update(sla_met=self.sla_met, outcome_as_expected=self.outcome_as_expected,
                   single_points=[f.element for f in self.single_points])
        for f_out, failure in zip(out["failures"], self.failures, strict=True):
            for c_out, cell in zip(f_out["cells"], failure.cells, strict=True):
                c_out.update(passed=cell.passed, outage_ms=cell.outage_ms,
                             surprise=cell.surprise)
        return out
