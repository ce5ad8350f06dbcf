"""Read a scenario file into checked, resolved parts; every error names file, line and field.

Nothing here touches the network: a broken scenario is refused before any lab or device is
reached.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.errors import HarnessError, InputError
from harness.faults import FAULTS, Fault, build
from harness.faults.napalm_change import InterfaceShutdown, NapalmChange
from harness.faults.registry import device_kinds
from harness.probes.analysis import SLA
from harness.probes.flows import APPLICATIONS, DSCP, Flow
from harness.redact import find_secret
from harness.scenario.model import SLA as SLASpec
from harness.scenario.model import FlowSpec, Scenario
from harness.sweep.elements import Failure, SweepError, failures
from harness.topology import Topology, load_topology
from harness.yamlsrc import LineDict, LineList, load_yaml


@dataclass(frozen=True)
class CriticalFlow:
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
    flows: list[CriticalFlow]
    faults: list[Fault]

    @property
    def on_devices(self) -> bool:
        """Whether it runs on real devices (it names probe hosts), not on the built-in lab."""
        return bool(self.spec.probes)

    @property
    def failures(self) -> list[Failure]:
        """An N-1 sweep's single failures (none for a scenario of faults)."""
        if self.spec.sweep is None:
            return []
        return failures(self.topology, self.spec.sweep, _devices(self.spec))

    def real_devices(self) -> list[str]:
        """The devices outside the built-in lab this scenario would change."""
        return [f"{f.node} ({f.spec.driver} at {f.spec.host})"
                for f in [*self.faults, *(failure.fault for failure in self.failures)]
                if isinstance(f, NapalmChange) and not f.needs_lab]


def require_commit(loaded: LoadedScenario, commit: bool, flag: str = "--commit") -> None:
    """A run that changes real devices needs an explicit go (`flag`)."""
    real = loaded.real_devices()
    if real and not commit:
        raise HarnessError(f"{loaded.path}: would change real devices: {', '.join(real)}; give "
                           f"{flag} to run it (--dry-run shows every change)")


def _line(doc: Any, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest part of `loc` that the YAML document has."""
    line = getattr(doc, "line", None)
    for key in loc:
        if isinstance(doc, LineDict) and key in doc:
            line, doc = doc.line_of(str(key)), doc[str(key)]
        elif isinstance(doc, LineList) and isinstance(key, int) and key < len(doc):
            line, doc = doc.line_of(key), doc[key]
        else:
            break
    return line


def _field(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in loc).lstrip(".")


def _validate(path: Path, doc: Any, model: type[Any]) -> Any:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise InputError(path, _line(doc, loc), _field(loc), msg) from None


SECRET_KEYS = {"password", "secret", "passwd", "token", "api_key", "private_key"}


def _refuse_secrets(path: Path, doc: Any, where: str) -> None:
    """A secret never stands in a scenario file (they are copied into evidence packs): neither
    under a secret's key nor in a fault's configuration text to commit (names and prose
    elsewhere may say "password")."""
    items = doc.items() if isinstance(doc, LineDict) else enumerate(doc) \
        if isinstance(doc, LineList) else []
    for key, value in items:
        field = f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]"
        if isinstance(key, str) and key.lower() in SECRET_KEYS:
            raise InputError(path, doc.line_of(key), field.lstrip("."), "a secret must not be "
                             "written in the file: reference it (e.g. password_env: VAR)")
        text = value if isinstance(value, str) and field.startswith(".faults") else ""
        if keyword := find_secret(text):
            raise InputError(path, doc.line_of(key), field.lstrip("."), f"a secret ({keyword} "
                             "...) must not be written in the file: configure it on the device")
        _refuse_secrets(path, value, field)


def load_scenario(path: Path | str) -> LoadedScenario:
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, LineDict):
        raise InputError(path, 1, "", "a scenario must be a mapping")
    _refuse_secrets(path, doc, "")
    _faults_or_sweep(path, doc)
    spec: Scenario = _validate(path, doc, Scenario)
    base = path.parent
    try:
        topology = load_topology(base / spec.topology)
    except InputError as exc:
        if exc.file != str(base / spec.topology):  # the topology file itself is fine to name
            raise
        raise InputError(path, doc.line_of("topology"), "topology", exc.message) from None
    located = [(path, doc["flows"], i, f) for i, f in enumerate(spec.flows)] if spec.flows else []
    for j, extra in enumerate(spec.flows_from):
        located += _included_flows(path, doc, j, base / extra)
    if not located:
        raise InputError(path, doc.line, "flows", "a scenario needs at least one flow")
    flows = [_resolve_flow(file, raw, i, f, spec, topology) for file, raw, i, f in located]
    if not any(cf.critical for cf in flows):
        raise InputError(path, doc.line, "flows", "no critical flow: the run would prove "
                         "nothing (mark at least one flow critical)")
    for node in spec.devices:
        if node not in topology.nodes:
            raise InputError(path, doc["devices"].line_of(node), f"devices.{node}",
                             f"unknown node {node!r} in topology {topology.name}")
    faults = [_fault(path, doc["faults"], i, _with_device(f.model_dump(), spec), topology)
              for i, f in enumerate(spec.faults)]
    if spec.sweep is not None:
        _check_sweep(path, doc, spec, topology)
    _check_network(path, doc, spec, topology, flows, faults)
    return LoadedScenario(path=path, spec=spec, topology=topology, flows=flows, faults=faults)


def _faults_or_sweep(path: Path, doc: LineDict) -> None:
    """A scenario injects its faults together, or sweeps single failures: one of the two."""
    if doc.get("faults") and "sweep" in doc:
        raise InputError(path, doc.line_of("sweep"), "sweep", "give either faults or a sweep, "
                         "not both (a sweep fails each element alone)")
    if not doc.get("faults") and "sweep" not in doc:
        raise InputError(path, doc.line_of("faults"), "faults", "needs at least 1 item (or a "
                         "`sweep:` section instead)")


def _check_network(path: Path, doc: LineDict, spec: Scenario, topology: Topology,
                   flows: list[CriticalFlow], faults: list[Fault]) -> None:
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
                       flows: list[CriticalFlow]) -> None:
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


def _included_flows(path: Path, doc: LineDict, j: int,
                    file: Path) -> list[tuple[Path, Any, int, FlowSpec]]:
    if not file.is_file():
        raise InputError(path, doc["flows_from"].line_of(j), f"flows_from[{j}]",
                         f"file not found: {file}")
    inc = load_yaml(file)
    if not isinstance(inc, LineDict) or not isinstance(inc.get("flows"), list):
        raise InputError(file, 1, "flows", "a flows file needs a `flows:` list")
    return [(file, inc["flows"], i, _validate(file, raw, FlowSpec))
            for i, raw in enumerate(inc["flows"])]


def _resolve_flow(file: Path, raw: LineList, i: int, f: FlowSpec, spec: Scenario,
                  topology: Topology) -> CriticalFlow:
    where: Any = raw[i] if isinstance(raw[i], LineDict) else raw
    for end in ("src", "dst"):
        node = getattr(f, end)
        if node not in topology.nodes:
            raise InputError(file, where.line_of(end), f"flows[{i}].{end}",
                             f"unknown node {node!r} in topology {topology.name}")
    protocol, port, dscp = APPLICATIONS.get(f.application or "", ("udp", 50000 + i, "BE"))
    dscp_value = f.dscp if f.dscp is not None else dscp
    flow = Flow(name=f.name, src=f.src, dst=f.dst, protocol=f.protocol or protocol,
                port=f.port or port, rate=f.rate, direction=f.direction,
                dscp=DSCP[dscp_value] if isinstance(dscp_value, str) else dscp_value)
    sla_spec: SLASpec | None = f.sla
    if sla_spec is None and f.sla_class is not None:
        sla_spec = spec.sla_classes.get(f.sla_class)
        if sla_spec is None:
            raise InputError(file, where.line_of("sla_class"), f"flows[{i}].sla_class",
                             f"unknown SLA class {f.sla_class!r} "
                             f"(classes: {', '.join(spec.sla_classes) or 'none'})")
    if sla_spec is None:
        raise InputError(file, where.line, f"flows[{i}]", f"flow {f.name!r} has no sla or "
                         "sla_class")
    failback = sla_spec.max_outage_ms if sla_spec.failback_max_outage_ms is None \
        else sla_spec.failback_max_outage_ms
    return CriticalFlow(
        flow=flow, critical=f.critical,
        sla=SLA(sla_spec.max_outage_ms, sla_spec.max_loss_pct),
        failback_sla=SLA(failback, sla_spec.max_loss_pct),
        hard_limit_ms=sla_spec.hard_limit_ms
        or spec.safety.hard_limit_factor * max(sla_spec.max_outage_ms, failback))


def _devices(spec: Scenario) -> dict[str, dict[str, Any]]:
    """Each node's inventory entry as a NAPALM fault carries it (credentials by reference)."""
    return {node: device.model_dump(mode="json", exclude_unset=True)
            for node, device in spec.devices.items()}


def _with_device(params: dict[str, Any], spec: Scenario) -> dict[str, Any]:
    """A fault acting through NAPALM (a `device` parameter) gets its node's inventory entry."""
    kind = FAULTS.get(params["kind"])
    node = params.get("node")
    names = {f.name for f in fields(kind)} if kind else set()  # type: ignore[arg-type]
    if node in spec.devices and "device" in names:
        params.setdefault("device", _devices(spec)[node])
    return params


def _fault(path: Path, raw: LineList, i: int, params: dict[str, Any],
           topology: Topology) -> Fault:
    where: Any = raw[i] if isinstance(raw[i], LineDict) else raw
    kind = params.pop("kind")
    node, link = params.get("node"), params.get("link")
    if node is not None and node not in topology.nodes:
        raise InputError(path, where.line_of("node"), f"faults[{i}].node",
                         f"unknown node {node!r} in topology {topology.name}")
    if link is not None:
        try:
            topology.find_link(str(link))
        except KeyError as exc:
            raise InputError(path, where.line_of("link"), f"faults[{i}].link",
                             str(exc.args[0])) from None
    try:
        return build(kind, params)
    except HarnessError as exc:
        raise InputError(path, where.line_of("kind"), f"faults[{i}]", str(exc)) from None
