"""What a scenario file says, validated (published as JSON Schema in `schemas/`)."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.devices.inventory import DeviceSpec
from harness.probes.flows import APPLICATIONS, DSCP
from harness.runbook.model import Step
from harness.sweep.model import SweepSpec
from harness.validation import PathText


class _Strict(BaseModel):
    """No unknown key, no conversion (`true` or "80" is not a number), only finite numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


HOUR_MS = 3_600_000


class SLASpec(_Strict):
    """An SLA as a scenario writes it (`harness.probes.analysis.SLA` is what a verdict checks)."""

    max_outage_ms: float = Field(ge=0, le=HOUR_MS, examples=[300], description="failover: "
                                 "loss-derived outage allowed, ms (0: no probe may be lost)")
    failback_max_outage_ms: float | None = Field(None, ge=0, le=HOUR_MS, examples=[0],
                                                 description="failback: the same, ms (default: "
                                                 "as failover)")
    max_loss_pct: float | None = Field(None, ge=0, le=100, examples=[0.5], description="share "
                                       "of the run's probes that may be lost, % (default: no "
                                       "limit but the outage)")
    hard_limit_ms: float | None = Field(None, gt=0, le=HOUR_MS, examples=[3000],
                                        description="restore at once past this outage, ms "
                                        "(default: safety.hard_limit_factor x SLA)")

    @model_validator(mode="after")
    def _hard_limit_above_sla(self) -> SLASpec:
        allowed = max(self.max_outage_ms, self.failback_max_outage_ms or 0)
        if self.hard_limit_ms is not None and self.hard_limit_ms < allowed:
            raise ValueError(f"hard_limit_ms {self.hard_limit_ms:g} is below the SLA "
                             f"({allowed:g} ms): the run would abort within what it allows")
        return self


class FlowSpec(_Strict):
    """A flow probed from one node to another, with its SLA."""

    name: str = Field(examples=["ed-patient-records"], description="names the flow in "
                      "verdicts and reports (unique in the scenario)")
    src: str = Field(examples=["ed"], description="the node the flow starts at (a topology "
                     "node with a probe address)")
    dst: str = Field(examples=["ehr"], description="the node it goes to")
    application: str | None = Field(None, examples=["https"], description="sets protocol, "
                                    "port and DSCP as the application uses them (known: "
                                    + ", ".join(APPLICATIONS) + ")")
    protocol: Literal["udp", "tcp"] | None = Field(None, examples=["udp"], description="the "
                                                   "probes' transport (default: the "
                                                   "application's, else udp)")
    port: int | None = Field(None, ge=1, le=65535, examples=[443], description="destination "
                             "port (default: the application's)")
    dscp: str | int | None = Field(None, examples=["EF", 46], description="DSCP name or "
                                   "0-63 (default: the application's)")
    rate: float = Field(1000.0, gt=0, le=100000, examples=[1000], description="probes per "
                        "second per direction: one lost probe is 1/rate s of outage")
    direction: Literal["one-way", "both"] = Field("both", examples=["both"], description=""
                                                  "probe src->dst only, or both directions")
    critical: bool = Field(True, examples=[True], description="a critical flow's miss fails "
                           "the run; the others are information")
    sla: SLASpec | None = Field(None, description="this flow's SLA (or sla_class)",
                                examples=[{"max_outage_ms": 300}])
    sla_class: str | None = Field(None, examples=["voice"], description="a class of "
                                  "`sla_classes` (the scenario's or the flows file's)")

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

    sla_classes: dict[str, SLASpec] = Field({}, description="SLA classes its flows name",
                                            examples=[{"voice": {"max_outage_ms": 300}}])
    flows: list[FlowSpec] = Field(description="the flows", examples=[[{
        "name": "voip-media", "src": "voip", "dst": "pbx", "application": "rtp",
        "sla_class": "voice"}]])


class FaultSpec(BaseModel):
    """A fault: its kind and the kind's own parameters, checked by the kind itself (each
    kind's are in the published schema, and `failover validate --kinds` lists them)."""

    model_config = ConfigDict(extra="allow")
    kind: str


class Timings(_Strict):
    """How long each part of a run takes, in seconds."""

    baseline_s: float = Field(3.0, ge=1, le=600, examples=[3], description="clean traffic "
                              "required before the fault")
    hold_s: float = Field(5.0, ge=0.5, le=3600, examples=[5], description="fault in place")
    failback_s: float = Field(5.0, ge=1, le=3600, examples=[5], description="observed after "
                              "the restore")
    converge_timeout_s: float = Field(60.0, gt=0, le=3600, examples=[100], description="the "
                                      "longest wait for routing to converge; left out: from the "
                                      "routers' OSPF timers, at least 60 (as `failover lab up`)")


class Safety(_Strict):
    """What the harness refuses, and when it restores early."""

    allow_last_path_cut: bool = Field(False, examples=[True], description="only for control "
                                      "scenarios that must fail: lets the fault cut a flow's "
                                      "last path")
    hard_limit_factor: float = Field(10.0, ge=1, le=1000, examples=[10], description="a "
                                     "critical flow out this many times its SLA restores at "
                                     "once (when its SLA gives no hard_limit_ms)")


class ProbeHost(_Strict):
    """A Linux host where a node's probes run, reached over SSH (python3 >= 3.9, root;
    nothing is installed there). Keys or an ssh agent only: ssh runs in batch mode."""

    ssh: str = Field(examples=["root@ed-probe.mgmt.example"], description="what ssh takes: "
                     "[user@]host, or a Host of ssh_config")
    port: int | None = Field(None, ge=1, le=65535, examples=[22], description="ssh port "
                             "(default: ssh's)")
    address: IPv4Address = Field(strict=False, examples=["198.19.20.10"], description="the "
                                 "address the probes use on that host (not its management "
                                 "address)")
    python: str = Field("python3", examples=["/usr/bin/python3"], description="the host's "
                        "Python (3.9 or later)")

    @field_validator("ssh")
    @classmethod
    def _a_destination(cls, v: str) -> str:
        if not v or v[0] == "-" or len(v.split()) != 1:
            raise ValueError("an ssh destination: not empty, one word, not an option ('-...')")
        return v


class NornirSource(_Strict):
    """A Nornir inventory: SimpleInventory files (paths relative to the scenario file), or an
    inventory plugin (NetBox) with optional groups and defaults files."""

    hosts: PathText | None = Field(None, examples=["inv/hosts.yaml"],
                                   description="SimpleInventory hosts file")
    groups: PathText | None = Field(None, examples=["inv/groups.yaml"],
                                    description="SimpleInventory groups file")
    defaults: PathText | None = Field(None, examples=["inv/defaults.yaml"],
                                      description="SimpleInventory defaults file")
    plugin: Literal["NetBoxInventory2"] | None = Field(None, examples=["NetBoxInventory2"],
                                                       description="an inventory plugin "
                                                       "instead of `hosts` (nornir_netbox's)")
    options: dict[str, Any] = Field({}, examples=[{"nb_url": "https://netbox.example",
                                                   "use_platform_napalm_driver": True}],
                                    description="the plugin's options (nb_url, "
                                    "filter_parameters, ...); no credentials")
    token_env: str | None = Field(None, min_length=1, examples=["NB_TOKEN"],
                                  description="environment variable holding the NetBox token "
                                  "(default: NB_TOKEN)")

    @model_validator(mode="after")
    def _files_or_plugin(self) -> NornirSource:
        if (self.hosts is None) == (self.plugin is None):
            raise ValueError("give a hosts file or a plugin (one of the two)")
        if self.plugin is None and (self.options or self.token_env):
            raise ValueError("options and token_env are a plugin's")
        return self


class InventorySource(_Strict):
    """Devices from an inventory people already keep."""

    nornir: NornirSource = Field(description="a Nornir inventory", examples=[{
        "hosts": "inv/hosts.yaml", "groups": "inv/groups.yaml"}])


class Scenario(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["core1-power-loss"],
                      description="names the evidence pack: letters, digits, '.', '_', '-'")
    description: str = Field("", examples=["Core 1 loses power: every flow moves to core2"],
                             description="what the scenario proves, for the report")
    topology: PathText = Field(examples=["../topologies/hospital-core.clab.yml"],
                               description="the containerlab topology file, relative to the "
                               "scenario file")
    devices: dict[str, DeviceSpec] = Field({}, description="NAPALM access per node "
                                           "(default: the built-in lab's FRR, locally)",
                                           examples=[{"core1": {
                                               "driver": "eos", "host": "core1.mgmt.example",
                                               "username": "netops",
                                               "password_env": "CORE_PW"}}])
    inventory: InventorySource | None = Field(None, description="more devices: the Nornir "
                                              "inventory's hosts named as routers of the "
                                              "topology (a `devices:` entry wins)",
                                              examples=[{"nornir": {
                                                  "hosts": "inv/hosts.yaml",
                                                  "groups": "inv/groups.yaml"}}])
    probes: dict[str, ProbeHost] = Field({}, description="a run on real devices: the SSH "
                                         "host probing for each flow end (without it the "
                                         "scenario runs on the built-in lab)",
                                         examples=[{"ed": {"ssh": "root@ed-probe.mgmt.example",
                                                           "address": "198.19.20.10"}}])
    ssh_config: PathText | None = Field(None, examples=["ssh_config"], description="ssh "
                                        "config for the probe hosts (jump host, keys, users), "
                                        "relative to the scenario file")
    sla_classes: dict[str, SLASpec] = Field({}, description="SLA classes the flows name (a "
                                            "flows file's class of the same name is "
                                            "overridden)", examples=[{
                                                "voice": {"max_outage_ms": 300},
                                                "clinical": {"max_outage_ms": 1000}}])
    flows_from: list[PathText] = Field([], examples=[["flows/hospital-critical.yml"]],
                                       description="files with more flows (a `flows:` list, "
                                       "and the SLA classes they name)")
    flows: list[FlowSpec] = Field([], description="the flows probed (besides flows_from)",
                                  examples=[[{"name": "voip-media", "src": "voip",
                                              "dst": "pbx", "application": "rtp",
                                              "sla": {"max_outage_ms": 300}}]])
    faults: list[FaultSpec] = Field([], description="the faults injected together (a "
                                    "scenario gives faults or a sweep)",
                                    examples=[[{"kind": "node-power-loss", "node": "core1"}]])
    sweep: SweepSpec | None = Field(None, description="an N-1 sweep: each element selected "
                                    "failed alone, one after another (instead of faults)",
                                    examples=[{"each": [{"elements": "router-links",
                                                         "fault": "link-cut"}]}])
    steps: list[Step] = Field([], description="a runbook: steps run in order, the probes "
                              "running across them (instead of faults or a sweep)",
                              examples=[[{"name": "drain core1",
                                          "inject": {"kind": "planned-drain", "node": "core1"}},
                                         {"name": "wait", "wait": "clean"},
                                         {"name": "undrain core1",
                                          "restore": "drain core1"}]])
    timings: Timings = Field(default_factory=Timings, description="how long each part of the "
                             "run takes", examples=[{"baseline_s": 3, "hold_s": 5,
                                                     "failback_s": 5}])
    safety: Safety = Field(default_factory=Safety, description="what the harness refuses, "
                           "and when it restores early", examples=[{"hard_limit_factor": 10}])
    expect: Literal["pass", "fail"] = Field("pass", examples=["fail"], description="`fail` "
                                            "for a control scenario that proves the verdict "
                                            "can fail")

    @model_validator(mode="after")
    def _faults_or_sweep(self, info: ValidationInfo) -> Scenario:
        given = [bool(self.faults), self.sweep is not None, bool(self.steps)].count(True)
        if given == 0 and (info.context or {}).get("watch"):
            return self  # a watch probes the flows only
        if given != 1:
            raise ValueError("give faults, a sweep or steps (one of them)")
        return self
