"""What a scenario's `steps:` list says (published in the scenario JSON Schema): each step
names itself and does exactly one thing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

KINDS = ("inject", "restore", "wait", "operator", "mark", "check")
CHECKS = ("converged", "clean", "state")


class StepSLA(BaseModel):
    """The outage every critical flow direction may see within this step's window."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    max_outage_ms: float = Field(
        ge=0, le=3_600_000, examples=[0],
        description="loss-derived outage allowed within the step (0: no probe may be lost)")

class Step(BaseModel):
    """One step of a runbook: its name and one of inject, restore, wait, operator, mark or
    check; its window runs from its start to the next step's start."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["drain-core1"],
        description="names the step in the report (and an inject, for restore)")
    inject: dict[str, Any] | None = Field(
        None, examples=[{"kind": "planned-drain", "node": "core1"}],
        description="a fault, as under `faults:` (kind and its parameters), left in place "
                    "until a restore step or the end of the runbook")
    restore: str | None = Field(None, examples=["drain-core1"],
                                description="the name of an earlier inject step")
    wait: float | Literal["converged", "clean"] | None = Field(
        None, examples=[5, "clean"],
        description="seconds, or until the routers have converged, or until every flow "
                    "delivers cleanly (within timeout_s)")
    operator: str | None = Field(
        None, examples=["pull both power cords of core1 now"],
        description="a prompt for the operator, who confirms when done (within timeout_s)")
    mark: str | None = Field(None, examples=["core1 reload started"],
                             description="a named instant in the timeline: its text")
    check: list[Literal["converged", "clean", "state"]] | None = Field(
        None, examples=[["converged", "clean", "state"]],
        description="converged: routing converged; clean: every flow delivering; state: the "
                    "routers' state as before the runbook (the runbook stops if one fails)")
    hold_s: float = Field(0.0, ge=0, le=3600, examples=[3],
                          description="watch this long after the step's action (flows "
                                      "ticked, hard limits enforced)")
    timeout_s: float = Field(120.0, gt=0, le=86400, examples=[600],
                             description="an operator, wait-until or check step fails past "
                                         "this")
    sla: StepSLA | None = Field(None, examples=[{"max_outage_ms": 1000}],
                                description="this step's own SLA for every critical flow "
                                            "(default: each flow's own)")

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a step does exactly one of {', '.join(KINDS)} "
                             f"(this one: {', '.join(given) or 'none'})")
        if self.inject is not None and not isinstance(self.inject.get("kind"), str):
            raise ValueError("inject: a fault needs its kind")
        return self
