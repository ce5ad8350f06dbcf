"""An N-1 sweep split and merged back, on real two-path labs: two shards run one after the
other on one lab and merged by `failover merge` (every cell exactly once, the merged pack
verified); and `pytest -n 2` on a sweep file, each xdist worker running its shard on its own
lab, the controller merging the parts into one campaign pack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_sweep_lab import back_as_before, sweep_file

from harness.lab import Lab
from harness.lab.state import LabState
from harness.lab.teardown import teardown
from harness.topology import load_topology

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]
EACH = [{"elements": "router-links", "fault": "link-cut", "match": "r1"},  # 2 failures
        {"elements": "routers", "fault": "node-power-loss", "match": "r2"}]  # and 1
DIRECTIONS = ["h1-h2 →", "h1-h2 ←"]


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, cwd=cwd)


def results(pack: Path) -> dict[str, Any]:
    return dict(json.loads((pack / "results.json").read_text()))


def assert_every_cell_once(r: dict[str, Any]) -> None:
    elements = ["link r1:eth1 -- r2:eth1", "link r1:eth2 -- r3:eth1", "router r2"]
    assert [f["element"] for f in r["failures"]] == elements
    cells = [(f["element"], c["direction"]) for f in r["failures"] for c in f["cells"]]
    assert sorted(cells) == sorted((e, d) for e in elements for d in DIRECTIONS)
    assert r["complete"] and r["outcome_as_expected"], r.get("incomplete")


def test_two_shards_merge_into_one_campaign(two_path: Lab, tmp_path: Path) -> None:
    path = sweep_file(two_path, tmp_path, EACH)
    for k in (1, 2):
        done = harness("sweep", str(path), "--shard", f"{k}/2", "--reports",
                       str(tmp_path / f"part{k}"), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    parts = [next((tmp_path / f"part{k}").iterdir()) for k in (1, 2)]
    assert [results(p)["shard"]["failures"] for p in parts] == [
        ["link r1:eth1 -- r2:eth1", "router r2"], ["link r1:eth2 -- r3:eth1"]]
    done = harness("merge", *map(str, parts), "--reports", str(tmp_path / "merged"),
                   cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    [pack] = list((tmp_path / "merged").iterdir())
    assert_every_cell_once(results(pack))
    checked = harness("verify", str(pack), cwd=tmp_path)
    assert checked.returncode == 0 and "pack verified" in checked.stdout, checked.stdout
    back_as_before(two_path)


def test_xdist_workers_each_run_a_shard_on_their_own_lab(lab_copy: Path,
                                                         tmp_path: Path) -> None:
    name = load_topology(lab_copy).name
    scenario = tmp_path / "n1.yml"
    scenario.write_text(yaml.safe_dump({
        "name": "n1", "topology": str(lab_copy),
        "flows": [{"name": "h1-h2", "src": "h1", "dst": "h2", "rate": 1000,
                   "sla": {"max_outage_ms": 3000}}],
        "sweep": {"each": EACH, "settle_s": 0.3},
        "timings": {"baseline_s": 1, "hold_s": 1.5, "failback_s": 1}}))
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p",
                               "no:cacheprovider", "-rA", str(scenario), "--failover-reports",
                               str(tmp_path / "r")], capture_output=True, text=True,
                              cwd=tmp_path, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        left = [w for w in ("gw0", "gw1") if LabState.load(f"{name}-{w}") is not None]
    finally:  # whatever the workers did not take down
        for worker in ("gw0", "gw1"):
            teardown(f"{name}-{worker}")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    passed = [line for line in out.splitlines() if line.startswith("PASSED ")]
    assert len(passed) == 2 * 3 + 3 * len(DIRECTIONS), out  # each shard's preflight, outcome,
    # restore, and every cell once
    packs = sorted((tmp_path / "r").iterdir())
    [merged] = [p for p in packs if results(p).get("merged")]
    r = results(merged)
    assert_every_cell_once(r)
    parts = r["merged"]["parts"]
    assert [p["shard"] for p in parts] == ["1/2", "2/2"]
    assert sorted(p["context"]["network_name"] for p in parts) == [f"{name}-gw0",
                                                                   f"{name}-gw1"]
    assert "(merged from 2 parts)" in done.stdout
    assert left == []  # each worker took its own lab down at its end
