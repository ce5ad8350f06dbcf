"""The evidence pack of one run: `reports/<UTC time>-<scenario>/`.

    results.json   the run (schema: schemas/results.schema.json)
    report.html    pytest-html report rendered from results.json (for a person)
    junit.xml      the same verdicts for CI tools
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
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.faults import Stamp
from harness.redact import redact
from harness.report.html import chart
from harness.scenario.load import LoadedScenario
from harness.scenario.results import RunResult
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


def items_per_run(results: dict[str, Any]) -> int:
    """The tests a run becomes (in the pack's report and JUnit, as in a live pytest session):
    preflight, each critical flow direction measured, outcome, restore."""
    return 3 + sum(1 for v in results["flows"] if v["critical"])


def write_pack(pack: Path, loaded: LoadedScenario, result: RunResult) -> dict[str, Any]:
    """Every file of the pack but the report, JUnit and manifest; returns results.json's data.
    An incomplete run's pack holds what it measured."""
    data = {"schema": RESULTS_ID, **result.to_dict()}
    write_records(pack, loaded, data, result.snapshots,
                  result.inject_stamps + result.restore_stamps)
    if data["started_ns"]:  # a run refused before its probes started has no timeline
        (pack / "timeline.svg").write_text(chart(data))
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


def _copy_redacted(src: Path, dst: Path) -> None:
    """Router configurations and topologies may hold secrets (keys, communities): the pack
    keeps them with every secret value replaced (the scenario files were refused with any)."""
    dst.write_text(redact(src.read_text())[0])


# the replay loads exactly these plugins, whatever else is installed or in PYTEST_ADDOPTS
REPLAY_PLUGINS = ("pytest_metadata.plugin", "pytest_html.plugin", "harness.pytest_plugin")


def render_report(pack: Path) -> None:
    """report.html and junit.xml from results.json, through the pytest plugin's replay mode
    (a separate, isolated pytest process); checks that every test of the run is in them."""
    pack = pack.resolve()
    expected = items_per_run(json.loads((pack / "results.json").read_text()))
    argv = [sys.executable, "-m", "pytest", str(pack / "results.json"), "--failover-replay",
            f"--html={pack / 'report.html'}", "--self-contained-html",
            f"--junitxml={pack / 'junit.xml'}", "-q", "-p", "no:cacheprovider",
            *(arg for plugin in REPLAY_PLUGINS for arg in ("-p", plugin)),
            "-c", str(Path(__file__).with_name("replay.ini")), f"--rootdir={pack}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=pack, env=env)
    junit = pack / "junit.xml"
    tests = len(list(ET.parse(junit).getroot().iter("testcase"))) if junit.is_file() else 0
    if proc.returncode not in (0, 1) or tests != expected or \
            not (pack / "report.html").is_file():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise HarnessError(f"report for {pack} not rendered (pytest exit {proc.returncode}, "
                           f"{tests} of {expected} tests): " + " | ".join(tail))

