"""The evidence pack of one run: `reports/<UTC time>-<scenario>/`.

    results.json   the run (schema: schemas/results.schema.json)
    report.html    the report for a person, rendered from results.json (harness.report.page)
    junit.xml      the same checks for CI tools (harness.report.junit)
    timeline.svg   outage windows per flow direction, fault and restore instants
    raw/           probe records as received, gzip (24-byte records: see harness/probes/wire;
                   a direction's flow id is its result's probe_id in results.json)
    snapshots/     routers' OSPF/BFD/FIB before and after, and their difference
    config/        each configuration diff the harness pushed, one file per change
    inputs/        the scenario, its flow files, the topology and router configs, as run
    MANIFEST       SHA-256 of every file (sha256sum format), MANIFEST.sig/.pub when signed
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.faults import Stamp
from harness.redact import redact
from harness.report.html import chart
from harness.report.junit import junit_xml
from harness.report.page import report_page
from harness.scenario.load import LoadedScenario
from harness.scenario.results import CampaignResult, RunResult
from harness.scenario.snapshot import Snapshot, diff
from harness.schemas import RESULTS_ID

RAW_DIR = "probes"  # where the runner's probe session writes, inside the pack


def new_pack(root: Path, scenario: str) -> Path:
    """A fresh pack directory named by the UTC time and the scenario."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    pack = root / f"{stamp}-{scenario}"
    n = 1
    while pack.exists():
        n += 1
        pack = root / f"{stamp}-{scenario}-{n}"
    pack.mkdir(parents=True)
    return pack


def write_pack(pack: Path, loaded: LoadedScenario, result: RunResult) -> dict[str, Any]:
    """Every file of the pack but the report, JUnit and manifest; returns results.json's data.
    An incomplete run's pack holds what it measured."""
    data = {"schema": RESULTS_ID, **result.to_dict()}
    write_records(pack, loaded, data, result.snapshots,
                  result.inject_stamps + result.restore_stamps)
    if data["started_ns"]:  # a run refused before its probes started has no timeline
        (pack / "timeline.svg").write_text(chart(data))
    return data


def write_campaign_pack(pack: Path, loaded: LoadedScenario, result: CampaignResult,
                        schema: str, report: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """A campaign's pack (sweep, runbook): the records, every window's configuration changes,
    its JUnit (the run's checks) and its report (`report` renders results.json's data)."""
    data = {"schema": schema, **result.to_dict()}
    stamps = [s for w in result.windows for s in w.inject_stamps + w.restore_stamps]
    write_records(pack, loaded, data, result.snapshots, stamps)
    (pack / "junit.xml").write_bytes(junit_xml(data))
    (pack / "report.html").write_text(report(data))
    return data


def write_records(pack: Path, loaded: LoadedScenario, data: dict[str, Any],
                  snapshots: dict[str, Snapshot], stamps: Sequence[Stamp]) -> None:
    """What every pack holds: results.json, the raw probes, the snapshots and their diff,
    each configuration change pushed (from its stamp), and the inputs as run."""
    (pack / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    _compress_raw(pack)
    snaps = pack / "snapshots"
    snaps.mkdir(exist_ok=True)
    before, after = (snapshots.get(name, {}) for name in ("before", "after"))
    for name, snap in (("before", before), ("after", after)):
        (snaps / f"{name}.json").write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n")
    (snaps / "diff.txt").write_text("".join(f"{line}\n" for line in diff(before, after)))
    config = pack / "config"
    for i, stamp in enumerate(s for s in stamps if s.detail):
        config.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", stamp.what).strip("-")[:60]
        (config / f"{i + 1:02d}-{name}.diff").write_text(stamp.detail.rstrip("\n") + "\n")
    _copy_inputs(pack / "inputs", loaded)


def _compress_raw(pack: Path) -> None:
    raw = pack / "raw"
    for src in sorted((pack / RAW_DIR).glob("*.bin")):
        raw.mkdir(exist_ok=True)
        with src.open("rb") as fin, gzip.GzipFile(raw / f"{src.name}.gz", "wb", mtime=0) as fout:
            shutil.copyfileobj(fin, fout)
    shutil.rmtree(pack / RAW_DIR, ignore_errors=True)


def _copy_inputs(dest: Path, loaded: LoadedScenario) -> None:
    base = loaded.path.parent
    (dest / "flows").mkdir(parents=True, exist_ok=True)
    shutil.copy(loaded.path, dest / loaded.path.name)
    for j, extra in enumerate(loaded.spec.flows_from):  # numbered: two may share a name
        shutil.copy(base / extra, dest / "flows" / f"{j + 1}-{(base / extra).name}")
    topo = loaded.topology
    (dest / "topology" / "configs").mkdir(parents=True, exist_ok=True)
    _copy_redacted(topo.path, dest / "topology" / topo.path.name)
    for router in topo.routers:
        assert router.frr is not None
        _copy_redacted(router.frr.config, dest / "topology" / "configs" / f"{router.name}.conf")
    source = loaded.spec.inventory.nornir if loaded.spec.inventory else None
    for name in ("hosts", "groups", "defaults"):  # the Nornir files the devices came from
        if source is not None and getattr(source, name) is not None:
            (dest / "inventory").mkdir(exist_ok=True)
            _copy_redacted(base / getattr(source, name), dest / "inventory" / f"{name}.yaml")


def _copy_redacted(src: Path, dst: Path) -> None:
    """Router configurations and topologies may hold secrets (keys, communities): the pack
    keeps them with every secret value replaced (the scenario files were refused with any)."""
    dst.write_text(redact(src.read_text())[0])


def render_report(pack: Path) -> None:
    """report.html and junit.xml from the pack's results.json (with its timeline.svg and the
    scenario copied in inputs/)."""
    try:
        results = json.loads((pack / "results.json").read_text())
        svg = pack / "timeline.svg"
        found = sorted((pack / "inputs").glob("*.y*ml"))
        page = report_page(results, found[0].read_text() if found else "",
                           svg.read_text() if svg.is_file() else None)
        (pack / "report.html").write_text(page)
        (pack / "junit.xml").write_bytes(junit_xml(results))
    except Exception as exc:  # the pack is sealed all the same: results.json is the record
        raise HarnessError(f"report for {pack} not rendered: {type(exc).__name__}: {exc}") \
            from exc
