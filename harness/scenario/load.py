"""Read a scenario file into checked, resolved parts; every error names file, line and field.

Nothing here touches the network: a broken scenario is refused before any lab or device is
reached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.devices.nornir_inventory import nornir_devices
from harness.errors import HarnessError, InputError
from harness.faults import FAULTS, Fault, build
from harness.faults.base import FaultError
from harness.faults.daemon_crash import RoutingDaemonCrash
from harness.faults.napalm_change import InterfaceShutdown, NapalmChange
from harness.faults.registry import device_kinds
from harness.faults.target import Target
from harness.inputfile import MAX_BYTES, UnreadableFile, check_readable
from harness.lab import Lab
from harness.probes.analysis import SLA
from harness.probes.flows import APPLICATIONS, DSCP, Flow
from harness.redact import find_secret, is_secret_key
from harness.scenario.model import FaultSpec, FlowsFile, FlowSpec, Scenario, SLASpec
from harness.sweep.elements import Failure, SweepError, failures
from harness.sweep.shard import Shard
from harness.topology import Topology, load_topology
from harness.topology.timers import converge_budget
from harness.validation import validate
from harness.yamlsrc import (
    LineDict,
    LineList,
    Loc,
    field_name,
    gc_paused,
    line_at,
    load_yaml,
)


@dataclass(frozen=True)
class FlowUnderTest:
    """A flow the run probes, with its SLAs; only a `critical` one's miss fails the run (the
    others are information)."""

    flow: Flow
    sla: SLA
    failback_sla: SLA
    hard_limit_ms: float
    critical: bool


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    spec: Scenario
    topology: Topology
    flows: list[FlowUnderTest]
    faults: list[Fault]
    step_faults: dict[str, Fault] = field(default_factory=dict)  # a runbook's, by inject step
    shard: Shard | None = None  # a sweep run in parts: this part's share of its failures

    @property
    def on_devices(self) -> bool:
        """Whether it runs on real devices (it names probe hosts), not on the built-in lab."""
        return bool(self.spec.probes)

    @property
    def campaign_failures(self) -> list[Failure]:
        """An N-1 sweep's single failures, every shard's (none for a scenario of faults)."""
        if self.spec.sweep is None:
            return []
        return failures(self.topology, self.spec.sweep, _devices(self.spec))

    @property
    def failures(self) -> list[Failure]:
        """The single failures this run fails: its shard's, or the whole campaign's."""
        found = self.campaign_failures
        return self.shard.take(found) if self.shard else found

    def real_devices(self) -> list[str]:
        """The devices outside the built-in lab this scenario would change."""
        return [f"{f.node} ({f.spec.driver} at {f.spec.host})"
                for f in [*self.faults, *(failure.fault for failure in self.failures),
                          *self.step_faults.values()]
                if isinstance(f, NapalmChange) and not f.needs_lab]


def require_commit(loaded: LoadedScenario, commit: bool, flag: str = "--commit") -> None:
    """A run that changes real devices needs an explicit go (`flag`)."""
    real = loaded.real_devices()
    if real and not commit:
        raise HarnessError(f"{loaded.path}: would change real devices: {', '.join(real)}; give "
                           f"{flag} to run it (--dry-run shows every change)")


@contextmanager
def _named_at(path: Path, doc: Any, loc: Loc) -> Iterator[None]:
    """A file named at `loc` that cannot be read (missing, a directory, a pipe, ...) is
    reported there; a problem inside it, at its own line."""
    try:
        yield
    except UnreadableFile as exc:
        raise InputError(path, line_at(doc, loc), field_name(loc),
                         f"{exc.message}: {exc.file}") from None


def _refuse_secrets(path: Path, doc: Any, at: Loc = ()) -> None:
    """A secret never stands in a scenario or flows file (they are copied into evidence
    packs): neither under a secret's key nor in a fault's configuration text to commit (names
    and prose elsewhere may say "password")."""
    items = doc.items() if isinstance(doc, LineDict) else enumerate(doc) \
        if isinstance(doc, LineList) else ()
    in_faults = at[:1] == ("faults",) or at[:1] == ("steps",) and "inject" in at
    for key, value in items:
        if isinstance(key, str) and is_secret_key(key):
            raise InputError(path, doc.line_of(key), field_name((*at, key)), "a secret must "
                             "not be written in the file: reference it (e.g. password_env: VAR)")
        if in_faults and isinstance(value, str) and (keyword := find_secret(value)):
            raise InputError(path, doc.line_of(key), field_name((*at, key)), f"a secret "
                             f"({keyword} ...) must not be written in the file: configure it "
                             "on the device")
        if isinstance(value, LineDict | LineList):
            _refuse_secrets(path, value, (*at, key))


@gc_paused()
def load_scenario(path: Path | str, watch: bool = False) -> LoadedScenario:
    """A scenario file, checked and resolved (`watch`: for a watch, which probes its flows
    only: faults, a sweep or steps are not needed, and are ignored when given)."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, LineDict):
        raise InputError(path, 1, "", "a scenario must be a mapping")
    _refuse_secrets(path, doc)
    _faults_or_sweep(path, doc, watch)
    spec = validate(path, doc, Scenario, context={"watch": watch})
    base = path.parent
    with _named_at(path, doc, ("topology",)):
        topology = load_topology(base / spec.topology)
    _add_inventory(path, doc, spec, topology)
    if spec.ssh_config is not None:
        with _named_at(path, doc, ("ssh_config",)):
            check_readable(base / spec.ssh_config)
    if "converge_timeout_s" not in spec.timings.model_fields_set:
        spec.timings.converge_timeout_s = converge_budget(topology).seconds
    located = [(path, doc["flows"], i, f) for i, f in enumerate(spec.flows)] if spec.flows else []
    classes: dict[str, SLASpec] = {}
    for j, extra in enumerate(_flows_files(path, doc, spec)):
        found, their_classes = _included_flows(path, doc, j, extra)
        located += found
        classes.update(their_classes)
    classes.update(spec.sla_classes)  # the scenario's own win
    if not located:
        raise InputError(path, doc.line, "flows", "a scenario needs at least one flow")
    _refuse_same_names(located)
    factor = spec.safety.hard_limit_factor
    flows = [_resolve_flow(file, raw, i, f, classes, factor, topology)
             for file, raw, i, f in located]
    if not any(cf.critical for cf in flows):
        raise InputError(path, doc.line, "flows", "no critical flow: the run would prove "
                         "nothing (mark at least one flow critical)")
    for node in spec.devices:
        if node not in topology.nodes:
            raise InputError(path, doc["devices"].line_of(node), f"devices.{node}",
                             f"unknown node {node!r} in topology {topology.name}")
    _refuse_same_faults(path, doc, spec)
    faults = [_fault(path, doc, ("faults", i), f, spec, topology)
              for i, f in enumerate(spec.faults)]
    if spec.sweep is not None:
        _check_sweep(path, doc, spec, topology)
    _check_network(path, doc, spec, topology, flows, faults)
    return LoadedScenario(path=path, spec=spec, topology=topology, flows=flows, faults=faults,
                          step_faults=_step_faults(path, doc, spec, topology))


def _add_inventory(path: Path, doc: LineDict, spec: Scenario, topology: Topology) -> None:
    """The Nornir inventory's hosts named as the topology's routers join `devices:` (whose own
    entries win); only for a run on real devices (a run on the built-in lab would read them)."""
    if spec.inventory is None:
        return
    if not spec.probes:
        raise InputError(path, doc.line_of("inventory"), "inventory", "an inventory gives "
                         "real devices: name the hosts that probe that network in `probes:` "
                         "(the built-in lab needs no inventory)")
    at = ("inventory", "nornir")
    with _named_at(path, doc, at):
        found = nornir_devices(path, (path, line_at(doc, at), field_name(at)),
                               spec.inventory.nornir, {r.name for r in topology.routers})
    spec.devices = {**found, **spec.devices}


def _faults_or_sweep(path: Path, doc: LineDict, watch: bool) -> None:
    """A scenario injects its faults together, sweeps single failures, or runs a runbook's
    steps: one of the three (a watch needs none)."""
    given = [k for k in ("faults", "sweep", "steps") if doc.get(k) or k == "sweep" and k in doc]
    if watch and not given:
        return
    if len(given) > 1:
        raise InputError(path, doc.line_of(given[1]), given[1], "give either faults or a sweep "
                         f"or steps, not {' and '.join(given)}")
    if not given:
        raise InputError(path, doc.line_of("faults"), "faults", "needs at least 1 item (or a "
                         "`sweep:` section, or `steps:`, instead)")


Located = tuple[Path, LineList, int, FlowSpec]  # the file, its `flows:` list, the index, the flow


def _refuse_same_names(located: list[Located]) -> None:
    """Each flow name once, across the scenario and its flows files (results are by name)."""
    first: dict[str, str] = {}
    for file, raw, i, f in located:
        where = f"{file}:{line_at(raw, (i, 'name'))}"
        if f.name in first:
            raise InputError(file, line_at(raw, (i, "name")), f"flows[{i}].name",
                             f"flow name {f.name!r} is already used (at {first[f.name]})")
        first[f.name] = where


def _check_network(path: Path, doc: LineDict, spec: Scenario, topology: Topology,
                   flows: list[FlowUnderTest], faults: list[Fault]) -> None:
    """One network per run: the built-in lab (no `probes:`), or real devices, where every
    flow end has a probe host, every device is real and every fault goes through NAPALM."""
    if spec.probes:
        _check_devices_run(path, doc, spec, topology, flows)
    for i, fault in enumerate(faults):
        why = ""
        if not spec.probes and not fault.needs_lab:
            assert isinstance(fault, NapalmChange)
            why = (f"{fault.node}'s device ({fault.spec.driver} at {fault.spec.host}) is not "
                   "the built-in lab: name the hosts that probe that network in `probes:` to "
                   "run on real devices")
        elif spec.probes and fault.needs_lab:
            why = (f"{getattr(fault, 'node', '')} has no entry in `devices:`"
                   if isinstance(fault, NapalmChange) else
                   f"{fault.kind} acts on the built-in lab's kernel; on real devices use "
                   f"{device_kinds()} (through NAPALM)")
        if why:
            raise InputError(path, doc["faults"].line_of(i), f"faults[{i}]", why)
        if isinstance(fault, InterfaceShutdown):
            _check_interfaces(path, doc["faults"][i], i, fault, topology)


def _check_sweep(path: Path, doc: LineDict, spec: Scenario, topology: Topology) -> None:
    """Every selection matches elements and builds its fault; on real devices, only kinds
    made through NAPALM."""
    assert spec.sweep is not None
    raw = doc["sweep"]
    each = raw.get("each") if isinstance(raw, LineDict) else None
    try:
        found = failures(topology, spec.sweep, _devices(spec))
    except SweepError as exc:
        i = int(exc.field.split("[")[1].split("]")[0])
        line = each.line_of(i) if isinstance(each, LineList) else raw.line
        raise InputError(path, line, exc.field, exc.message) from None
    lab_only = sorted({f.fault.kind for f in found if not f.fault.on_devices})
    if spec.probes and lab_only:
        raise InputError(path, raw.line, "sweep", f"{', '.join(lab_only)} act(s) on the "
                         f"built-in lab's kernel; on real devices use {device_kinds()}")


def _check_interfaces(path: Path, raw: Any, i: int, fault: InterfaceShutdown,
                      topology: Topology) -> None:
    """Interfaces to shut are the topology's (on a device too: its links, as the redundancy
    gate sees them; a name it does not know would be a cut the gate cannot judge)."""
    have = {lk.end(fault.node).interface for lk in topology.links_of(fault.node)}
    missing = [name for name in fault.interfaces if name not in have]
    if missing:
        raise InputError(path, raw.line_of("interfaces"), f"faults[{i}].interfaces",
                         f"{fault.node} has no link on {', '.join(missing)} in topology "
                         f"{topology.name} (its links: {', '.join(sorted(have)) or 'none'})")


def _check_devices_run(path: Path, doc: LineDict, spec: Scenario, topology: Topology,
                       flows: list[FlowUnderTest]) -> None:
    probes = doc["probes"]
    for node in spec.probes:
        if node not in topology.nodes:
            raise InputError(path, probes.line_of(node), f"probes.{node}",
                             f"unknown node {node!r} in topology {topology.name}")
    for end, name in ((end, cf.flow.name) for cf in flows for end in (cf.flow.src, cf.flow.dst)):
        if end not in spec.probes:
            raise InputError(path, probes.line, "probes",
                             f"no probe host for {end} (an end of flow {name})")
    missing = [r.name for r in topology.routers if r.name not in spec.devices]
    if missing:
        raise InputError(path, doc["devices"].line if "devices" in doc else probes.line,
                         "devices", f"a run on real devices reads every router through "
                         f"NAPALM: no entry for {', '.join(missing)}")
    for node, device in spec.devices.items():
        if device.is_lab:
            raise InputError(path, doc["devices"].line_of(node), f"devices.{node}",
                             "the built-in lab's FRR (driver frr on localhost) cannot be part "
                             "of a run on real devices")


def _flows_files(path: Path, doc: LineDict, spec: Scenario) -> list[Path]:
    """Each flows file once, and all of them together no larger than one input file may be
    (a list naming one large file a thousand times would cost minutes to read)."""
    first: dict[Path, int] = {}
    total = 0
    for j, name in enumerate(spec.flows_from):
        file = path.parent / name
        with _named_at(path, doc, ("flows_from", j)):
            check_readable(file)
        where = (path, line_at(doc, ("flows_from", j)), f"flows_from[{j}]")
        j0 = first.setdefault(file.resolve(), j)
        if j0 != j:
            raise InputError(*where, f"{name} is listed already (flows_from[{j0}])")
        total += file.stat().st_size
        if total > MAX_BYTES:
            raise InputError(*where, f"the flows files come to over {MAX_BYTES:,} bytes "
                             "together (1 MiB, as one input file)")
    return [path.parent / name for name in spec.flows_from]


def _included_flows(path: Path, doc: LineDict, j: int,
                    file: Path) -> tuple[list[Located], dict[str, SLASpec]]:
    """A flows file's flows, where they stand, and its SLA classes."""
    with _named_at(path, doc, ("flows_from", j)):
        inc = load_yaml(file)
    if not isinstance(inc, LineDict):
        raise InputError(file, 1, "", "a flows file is a mapping with a `flows:` list")
    _refuse_secrets(file, inc)  # copied into evidence packs as the scenario is
    found = validate(file, inc, FlowsFile)
    return [(file, inc["flows"], i, f) for i, f in enumerate(found.flows)], found.sla_classes


def _resolve_flow(file: Path, raw: LineList, i: int, f: FlowSpec, classes: dict[str, SLASpec],
                  hard_limit_factor: float, topology: Topology) -> FlowUnderTest:
    for end in ("src", "dst"):
        node = getattr(f, end)
        if node not in topology.nodes:
            raise InputError(file, line_at(raw, (i, end)), f"flows[{i}].{end}",
                             f"unknown node {node!r} in topology {topology.name}")
    if f.src == f.dst:
        raise InputError(file, line_at(raw, (i, "dst")), f"flows[{i}].dst",
                         f"a flow from {f.src} to itself crosses no network")
    protocol, port, dscp = APPLICATIONS.get(f.application or "", ("udp", 50000 + i, "BE"))
    dscp_value = f.dscp if f.dscp is not None else dscp
    flow = Flow(name=f.name, src=f.src, dst=f.dst, protocol=f.protocol or protocol,
                port=f.port or port, rate=f.rate, direction=f.direction,
                dscp=DSCP[dscp_value] if isinstance(dscp_value, str) else dscp_value)
    sla_spec: SLASpec | None = f.sla
    if sla_spec is None and f.sla_class is not None:
        sla_spec = classes.get(f.sla_class)
        if sla_spec is None:
            raise InputError(file, line_at(raw, (i, "sla_class")), f"flows[{i}].sla_class",
                             f"unknown SLA class {f.sla_class!r} "
                             f"(classes: {', '.join(classes) or 'none'})")
    if sla_spec is None:
        raise InputError(file, line_at(raw, (i,)), f"flows[{i}]", f"flow {f.name!r} has no "
                         "sla or sla_class")
    failback = sla_spec.max_outage_ms if sla_spec.failback_max_outage_ms is None \
        else sla_spec.failback_max_outage_ms
    return FlowUnderTest(
        flow=flow, critical=f.critical,
        sla=SLA(sla_spec.max_outage_ms, sla_spec.max_loss_pct),
        failback_sla=SLA(failback, sla_spec.max_loss_pct),
        hard_limit_ms=sla_spec.hard_limit_ms
        or hard_limit_factor * max(sla_spec.max_outage_ms, failback))


def _devices(spec: Scenario) -> dict[str, dict[str, Any]]:
    """Each node's inventory entry as a NAPALM fault carries it (credentials by reference)."""
    return {node: device.model_dump(mode="json", exclude_unset=True)
            for node, device in spec.devices.items()}


def _with_device(params: dict[str, Any], spec: Scenario) -> dict[str, Any]:
    """A fault acting through NAPALM (a `device` parameter) gets its node's inventory entry."""
    kind = FAULTS.get(params["kind"])
    node = params.get("node")
    names = {f.name for f in fields(kind)} if kind else set()  # type: ignore[arg-type]
    if isinstance(node, str) and node in spec.devices and "device" in names:
        params.setdefault("device", _devices(spec)[node])
    return params


def _fault(path: Path, doc: LineDict, at: Loc, f: FaultSpec, spec: Scenario,
           topology: Topology) -> Fault:
    """The fault found at `at` (`faults[i]`, a step's `inject`) built (its parameters' types
    checked), its names found in the topology."""
    params = _with_device(f.model_dump(), spec)
    try:
        fault = build(params.pop("kind"), params)
    except HarnessError as exc:
        raise InputError(path, line_at(doc, (*at, "kind")), field_name(at),
                         str(exc)) from None
    node, link = getattr(fault, "node", None), getattr(fault, "link", None)
    if node is not None and node not in topology.nodes:
        raise InputError(path, line_at(doc, (*at, "node")), field_name((*at, "node")),
                         f"unknown node {node!r} in topology {topology.name}")
    if link is not None:
        try:
            topology.find_link(str(link))
        except KeyError as exc:
            raise InputError(path, line_at(doc, (*at, "link")), field_name((*at, "link")),
                             str(exc.args[0])) from None
    try:  # what its scope reads from the topology (a VRRP group, a bridge) is there
        fault.scope(topology)
    except FaultError as exc:
        raise InputError(path, line_at(doc, (*at, "kind")), field_name(at), str(exc)) from None
    if isinstance(fault, RoutingDaemonCrash):
        try:  # its daemons, from the topology's FRR spec (a Lab object only reads the topology)
            fault.check(Target(Lab(topology)))
        except FaultError as exc:
            key = "daemons" if fault.daemons else "node"
            raise InputError(path, line_at(doc, (*at, key)), field_name((*at, key)),
                             str(exc)) from None
    return fault


def _step_faults(path: Path, doc: LineDict, spec: Scenario,
                 topology: Topology) -> dict[str, Fault]:
    """A runbook's steps: each name once, each inject's fault built for this network, each
    restore of an earlier inject still in place."""
    found: dict[str, Fault] = {}
    open_: set[str] = set()
    seen: set[str] = set()
    for i, step in enumerate(spec.steps):
        at: Loc = ("steps", i)
        if step.name in seen:
            raise InputError(path, line_at(doc, (*at, "name")), field_name((*at, "name")),
                             f"step name {step.name!r} is already used")
        seen.add(step.name)
        if step.inject is not None:
            fault = _fault(path, doc, (*at, "inject"), FaultSpec.model_validate(step.inject),
                           spec, topology)
            if fault.needs_lab == bool(spec.probes):
                raise InputError(path, line_at(doc, (*at, "inject")), field_name((*at, "inject")),
                                 f"{fault.kind} cannot act on this network (the built-in lab "
                                 f"without `probes:`, real devices through NAPALM with them)")
            found[step.name] = fault
            open_.add(step.name)
        if step.restore is not None and step.restore not in open_:
            raise InputError(path, line_at(doc, (*at, "restore")), field_name((*at, "restore")),
                             f"{step.restore!r} is not an earlier inject step still in place")
        open_.discard(step.restore or "")
    return found


def _refuse_same_faults(path: Path, doc: LineDict, spec: Scenario) -> None:
    first: dict[str, int] = {}
    for i, f in enumerate(spec.faults):
        key = json.dumps(f.model_dump(), sort_keys=True, default=str)
        if key in first:
            raise InputError(path, line_at(doc, ("faults", i)), f"faults[{i}]",
                             f"the same fault as faults[{first[key]}]")
        first[key] = i
