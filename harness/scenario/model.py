"""What a scenario file says, validated (published as JSON Schema in `schemas/`)."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.devices.inventory import DeviceSpec
from harness.probes.flows import APPLICATIONS, DSCP
from harness.runbook.model import Step
from harness.sweep.model import SweepSpec
from harness.validation import PathText


class _Strict(BaseModel):
    """No unknown key, no conversion (`true` or "80" is not a number), only finite numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


HOUR_MS = 3_600_000


class SLA(_Strict):
    max_outage_ms: float = Field(ge=0, le=HOUR_MS, description="failover: loss-derived outage "
                                 "allowed (0: no probe may be lost)")
    failback_max_outage_ms: float | None = Field(None, ge=0, le=HOUR_MS,
                                                 description="default: as failover")
    max_loss_pct: float | None = Field(None, ge=0, le=100)
    hard_limit_ms: float | None = Field(None, gt=0, le=HOUR_MS, description="restore at once "
                                        "past this outage (default: safety.hard_limit_factor "
                                        "x SLA)")

    @model_validator(mode="after")
    def _hard_limit_above_sla(self) -> SLA:
        allowed = max(self.max_outage_ms, self.failback_max_outage_ms or 0)
        if self.hard_limit_ms is not None and self.hard_limit_ms < allowed:
            raise ValueError(f"hard_limit_ms {self.hard_limit_ms:g} is below the SLA "
                             f"({allowed:g} ms): the run would abort within what it allows")
        return self


class FlowSpec(_Strict):
    name: str
    src: str
    dst: str
    application: str | None = None
    protocol: Literal["udp", "tcp"] | None = None
    port: int | None = Field(None, ge=1, le=65535)
    dscp: str | int | None = None
    rate: float = Field(1000.0, gt=0, le=100000)
    direction: Literal["one-way", "both"] = "both"
    critical: bool = True
    sla: SLA | None = None
    sla_class: str | None = None

    @field_validator("application")
    @classmethod
    def _known_application(cls, v: str | None) -> str | None:
        if v is not None and v not in APPLICATIONS:
            raise ValueError(f"unknown application {v!r} (known: {', '.join(APPLICATIONS)})")
        return v

    @field_validator("dscp")
    @classmethod
    def _known_dscp(cls, v: str | int | None) -> str | int | None:
        if isinstance(v, str) and v not in DSCP:
            raise ValueError(f"unknown DSCP {v!r} (known: {', '.join(DSCP)} or 0-63)")
        if isinstance(v, int) and not 0 <= v <= 63:
            raise ValueError("DSCP must be 0-63")
        return v


class FlowsFile(_Strict):
    """A file of flows shared by scenarios (`flows_from:`), with the SLA classes they name
    (a scenario's own class of the same name wins)."""

    sla_classes: dict[str, SLA] = {}
    flows: list[FlowSpec]


class FaultSpec(BaseModel):
    """A fault: its kind and the kind's own parameters, checked by the kind itself (each
    kind's are in the published schema, and `failover validate --kinds` lists them)."""

    model_config = ConfigDict(extra="allow")
    kind: str


class Timings(_Strict):
    baseline_s: float = Field(3.0, ge=1, le=600, description="clean traffic required before "
                              "the fault")
    hold_s: float = Field(5.0, ge=0.5, le=3600, description="fault in place")
    failback_s: float = Field(5.0, ge=1, le=3600, description="observed after the restore")
    converge_timeout_s: float = Field(60.0, gt=0, le=3600, description="left out: from the "
                                      "routers' OSPF timers, at least 60 (as `failover lab up`)")


class Safety(_Strict):
    allow_last_path_cut: bool = Field(False, description="only for control scenarios that "
                                      "must fail: lets the fault cut a flow's last path")
    hard_limit_factor: float = Field(10.0, ge=1, le=1000)


class ProbeHost(_Strict):
    """A Linux host where a node's probes run, reached over SSH (python3 >= 3.9, iproute2,
    root; nothing is installed there). Keys or an ssh agent only: ssh runs in batch mode."""

    ssh: str = Field(description="what ssh takes: [user@]host, or a Host of ssh_config")
    port: int | None = Field(None, ge=1, le=65535)
    address: IPv4Address = Field(strict=False, description="the address the probes use on "
                                 "that host (not its management address)")
    python: str = "python3"

    @field_validator("ssh")
    @classmethod
    def _a_destination(cls, v: str) -> str:
        if not v or v[0] == "-" or len(v.split()) != 1:
            raise ValueError("an ssh destination: not empty, one word, not an option ('-...')")
        return v


class Scenario(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="names the "
                      "evidence pack: letters, digits, '.', '_', '-'")
    description: str = ""
    topology: PathText
    devices: dict[str, DeviceSpec] = Field({}, description="NAPALM access per node "
                                           "(default: the built-in lab's FRR, locally)")
    probes: dict[str, ProbeHost] = Field({}, description="a run on real devices: the SSH "
                                         "host probing for each flow end (without it the "
                                         "scenario runs on the built-in lab)")
    ssh_config: PathText | None = Field(None, description="ssh config for the probe hosts (jump "
                                    "host, keys, users), relative to the scenario file")
    sla_classes: dict[str, SLA] = {}
    flows_from: list[PathText] = Field([], description="files with more flows (a `flows:` "
                                       "list)")
    flows: list[FlowSpec] = []
    faults: list[FaultSpec] = Field([], description="the faults injected together (a "
                                    "scenario gives faults or a sweep)")
    sweep: SweepSpec | None = Field(None, description="an N-1 sweep: each element selected "
                                    "failed alone, one after another (instead of faults)")
    steps: list[Step] = Field([], description="a runbook: steps run in order, the probes "
                              "running across them (instead of faults or a sweep)")
    timings: Timings = Field(default_factory=Timings)
    safety: Safety = Field(default_factory=Safety)
    expect: Literal["pass", "fail"] = Field("pass", description="`fail` for a control "
                                            "scenario that proves the verdict can fail")

    @model_validator(mode="after")
    def _faults_or_sweep(self) -> Scenario:
        if [bool(self.faults), self.sweep is not None, bool(self.steps)].count(True) != 1:
            raise ValueError("give faults, a sweep or steps (one of them)")
        return self
