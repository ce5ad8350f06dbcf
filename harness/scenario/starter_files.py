"""The files `failover init` writes: a flows file and scenarios (one power loss per core, one
cut per core uplink, and a control that must miss its SLA), commented for their reader."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import yaml

from harness.errors import InputError
from harness.probes.flows import APPLICATIONS
from harness.scenario.starter import Starter, StarterFlow

SLA_CLASSES = {  # class: (max outage ms, why)
    "voice": (300, "a call survives ~300 ms of silence"),
    "interactive": (1000, "sessions, logons and web clients ride through 1 s"),
    "bulk": (2000, "transfers that retry (imaging, backups)"),
}
TIMINGS = ("timings: {baseline_s: 3, hold_s: 5, failback_s: 5}  # clean traffic before, "
           "fault held, watched after")
CONTROL = "all-cores-down"
_PLAIN = re.compile(r"[A-Za-z0-9._/-]+")


def _q(text: str) -> str:
    """A YAML scalar that reads back as this string."""
    return text if _PLAIN.fullmatch(text) and yaml.safe_load(text) == text else json.dumps(text)


def _comment(*paragraphs: str) -> list[str]:
    return [f"# {line}" for p in paragraphs for line in textwrap.wrap(p, 93)]


def _flow(f: StarterFlow) -> str:
    protocol, port, dscp = APPLICATIONS[f.application]
    return (f"  - name: {_q(f.name)}  # {f.src} -> {f.dst} ({f.why}): {protocol}/{port}, "
            f"DSCP {dscp}\n    src: {_q(f.src)}\n    dst: {_q(f.dst)}\n"
            f"    application: {f.application}\n    sla_class: {f.sla_class}\n")


def flows_text(s: Starter) -> str:
    head = _comment(
        f"Flows across {s.topology.name}, written by `failover init` from its hosts: edit "
        "freely. A host's name (or its `app` label) says what it serves; each other host talks "
        "to each server behind another router. Each flow is probed at 1000 packets/s in both "
        "directions with its application's ports and DSCP (applications: "
        + ", ".join(APPLICATIONS) + "); the scenarios define each SLA class.",
        "Every flow is critical (its SLA is judged) unless you add `critical: false`.")
    return "\n".join([*head, "flows:", ""]) + "".join(_flow(f) for f in s.flows)


def _scenario(s: Starter, topology: str, flows: str, name: str, comment: str,
              faults: list[str], control: bool = False) -> str:
    used = sorted({f.sla_class for f in s.flows}, key=list(SLA_CLASSES).index)
    classes = "".join(f"  {c}: {{max_outage_ms: {SLA_CLASSES[c][0]}}}  # {SLA_CLASSES[c][1]}\n"
                      for c in used)
    lines = _comment(*comment.splitlines()) + [
        f"name: {_q(name)}", f"description: {json.dumps(comment.splitlines()[0])}",
        f"topology: {_q(topology)}", f"flows_from: [{_q(flows)}]",
        "sla_classes:  # the outage each class of flow may see, from the probes' loss",
        classes.rstrip("\n"), "faults:", *(f"  - {f}" for f in faults), TIMINGS]
    if control:
        lines += ["safety: {allow_last_path_cut: true, hard_limit_factor: 1.5}", "expect: fail"]
    return "\n".join(lines) + "\n"


def _plans(s: Starter) -> list[tuple[str, str, list[str]]]:
    """Each scenario's name, comment (its first line is the description) and faults."""
    how = f"Cores: {', '.join(s.cores)} ({s.how})."
    plans = [(f"{core}-power-loss",
              f"{core} loses power: every flow through it must move to another core within its "
              f"SLA, and come back.\nEvery link of {core} goes dark and its routing stops. {how}",
              [f"{{kind: node-power-loss, node: {_q(core)}}}"]) for core in s.cores]
    for link in s.uplinks:
        end, peer = (link.a, link.b) if link.a.node in s.cores else (link.b, link.a)
        plans.append((f"{end.node}-{peer.node}-link-cut",
                      f"The link {end} -- {peer} is cut: traffic on it must move to another path "
                      f"within its SLA.\nAn uplink of core {end.node}. {how}",
                      [f"{{kind: link-cut, link: {_q(str(end))}}}"]))
    plans.append((CONTROL,
                   "CONTROL: every core loses power at once; the flows through them must miss "
                   "their SLA.\nA harness whose verdict passes here cannot be trusted. The "
                   "redundancy gate refuses such a fault: it is let through "
                   f"(safety.allow_last_path_cut) only because this is a control scenario. {how}",
                   [f"{{kind: node-power-loss, node: {_q(c)}}}" for c in s.cores]))
    return plans


def render(s: Starter, out: Path) -> dict[Path, str]:
    """Every file to write under `out`, with its text."""
    topology = os.path.relpath(s.topology.path.resolve(), out.resolve())
    flows = f"flows/{s.topology.name}-flows.yml"
    files = {out / flows: flows_text(s)}
    for name, comment, faults in _plans(s):
        files[out / f"{name}.yml"] = _scenario(s, topology, flows, name, comment, faults,
                                               control=name == CONTROL)
    return files


def write(files: dict[Path, str], force: bool) -> None:
    """Write every file, or none if one exists (unless `force`)."""
    existing = [p for p in files if p.exists() or p.is_symlink()]
    if existing and not force:
        raise InputError(existing[0], None, "", f"already exists ({len(existing)} of the "
                         f"{len(files)} files do), refusing to overwrite: give --force or "
                         "another --out")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
