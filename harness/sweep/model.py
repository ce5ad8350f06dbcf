"""What a scenario's `sweep:` section says (published in the scenario JSON Schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Selection(BaseModel):
    """Some elements of the topology, each failed in turn with one fault kind."""

    model_config = STRICT
    elements: Literal["router-links", "host-links", "links", "routers", "nodes"] = Field(
        examples=["router-links"],
        description="router-links: links between two routers; host-links: links with a host "
                    "at one end; links: every link; routers: FRR routers; nodes: every node")
    fault: str = Field(
        examples=["link-cut"],
        description="the fault kind used on each element: a link kind (link-cut, "
                    "silent-blackhole, ...) for links, a node kind (node-power-loss, "
                    "routing-daemon-crash) for nodes")
    group: str | None = Field(
        None, examples=["core"],
        description="only nodes of this containerlab group (a link: either end)")
    labels: dict[str, str] = Field(
        {}, examples=[{"role": "core"}],
        description="only nodes with these labels (a link: either end)")
    match: str | None = Field(
        None, examples=["core*"],
        description="only nodes whose name matches this shell pattern (a link: either end)")
    params: dict[str, Any] = Field(
        {}, examples=[{"percent": 100}],
        description="more parameters of the fault kind, e.g. percent for degraded-link")


class SweepSpec(BaseModel):
    """An N-1 sweep: every element selected, failed alone, one after another."""

    model_config = STRICT
    each: list[Selection] = Field(
        default_factory=lambda: [Selection(elements="router-links", fault="link-cut"),
                                 Selection(elements="routers", fault="node-power-loss")],
        min_length=1, examples=[[{"elements": "routers", "fault": "node-power-loss"}]],
        description="what is failed, selection by selection (default: every router link "
                    "cut, every router's power lost)")
    inject_single_points: bool = Field(
        False, examples=[True],
        description="also inject a failure that cuts the last path of a critical flow (by "
                    "default it is reported as a single point of failure, not injected)")
    accepted_single_points: list[str] = Field(
        [], examples=[["router dist-dc"]],
        description="single points of failure known and accepted (e.g. the router of "
                    "single-homed hosts), as the report names them: 'router dist-dc', 'link "
                    "core1:eth1 -- core2:eth1'; the sweep passes with these, not with new ones")
    settle_s: float = Field(
        0.3, ge=0.1, le=60, examples=[0.5],
        description="clean traffic required before each failure (after the network is back "
                    "as at the start)")
