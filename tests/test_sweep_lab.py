"""N-1 sweeps on a real two-path lab (h1 - r1 = {r2 primary | r3 backup} = r4 - h2): the single
points of failure it has on purpose (r1 and r4: each host is single-homed), every other
failure measured; a policy route the forwarding tables do not show, flagged as a surprise; a
campaign stopped mid-way; and `failover compare` catching BFD removed from a link."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.engine import ExitCode, LabPool, RunObserver, RunOptions, run_scenario
from harness.faults import pending
from harness.lab import Lab
from harness.network import LabNetwork
from harness.report.manifest import verify
from harness.report.verdict import verdict_lines
from harness.scenario.load import load_scenario
from harness.sweep.results import AFFECTED_NO_LOSS, SURVIVED_LOSS

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]
FORWARD, BACK = "h1-h2 →", "h1-h2 ←"


def sweep_file(lab: Lab, tmp: Path, each: list[dict[str, Any]], name: str = "n1") -> Path:
    data = {"name": name, "topology": str(lab.topology.path),
            "flows": [{"name": "h1-h2", "src": "h1", "dst": "h2", "rate": 1000,
                       "sla": {"max_outage_ms": 3000}}],
            "sweep": {"each": each, "settle_s": 0.3},
            "timings": {"baseline_s": 1, "hold_s": 1.5, "failback_s": 1}}
    path = tmp / f"{name}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def campaign(lab: Lab, path: Path, reports: Path) -> dict[str, Any]:
    with LabPool() as labs:
        outcome = run_scenario(load_scenario(path), RunOptions(reports=reports),
                               RunObserver(), labs)
    assert verify(outcome.pack).ok
    results = json.loads((outcome.pack / "results.json").read_text())
    assert re.match(r"(No single failure breaks|NOT every single failure is survived).* sweep ",
                    verdict_lines(results)[0]), verdict_lines(results)  # `failover report`
    return results


def cell(results: dict[str, Any], element: str, direction: str) -> dict[str, Any]:
    [failure] = [f for f in results["failures"] if f["element"] == element]
    [found] = [c for c in failure["cells"] if c["direction"] == direction]
    return found


def back_as_before(lab: Lab) -> None:
    assert LabNetwork(lab).degraded() == [] and pending(include_live=True) == []


def test_the_sweep_finds_the_single_points_and_measures_every_other_failure(
        two_path: Lab, tmp_path: Path) -> None:
    r = campaign(two_path, sweep_file(two_path, tmp_path, [
        {"elements": "router-links", "fault": "link-cut"},
        {"elements": "routers", "fault": "node-power-loss"}]), tmp_path / "reports")
    assert sorted(r["single_points"]) == ["router r1", "router r4"]
    by_element = {f["element"]: f for f in r["failures"]}
    assert all(not by_element[e]["fault_ns"] for e in r["single_points"])  # not injected
    measured = [f for f in r["failures"] if f["fault_ns"]]
    assert sorted(f["element"] for f in measured) == sorted(
        [f"link {lk}" for lk in two_path.topology.links
         if lk.a.node.startswith("r") and lk.b.node.startswith("r")] + ["router r2",
                                                                        "router r3"])
    primary = cell(r, "link r1:eth1 -- r2:eth1", FORWARD)  # the only path in the tables
    assert primary["predicted_affected"] and primary["certain"]
    assert primary["failover"]["lost"] > 0 and primary["passed"]
    backup = cell(r, "link r1:eth2 -- r3:eth1", FORWARD)
    assert not backup["predicted_affected"] and backup["failover"]["lost"] == 0
    assert not [c for f in r["failures"] for c in f["cells"] if c["surprise"]]
    assert not r["outcome_as_expected"]  # two single points, not accepted
    back_as_before(two_path)


@pytest.fixture
def policy_route(two_path: Lab) -> Iterator[None]:
    """h1's traffic to h2 sent by r1 over r3, by a rule the main table does not show."""
    rule = ["ip", "rule", "add", "from", "198.19.1.10", "to", "198.19.2.10", "lookup", "100",
            "pref", "100"]
    route = ["ip", "route", "add", "198.19.2.0/24", "via", "198.18.2.3", "table", "100"]
    two_path.run("r1", route)
    two_path.run("r1", rule)
    yield
    two_path.run("r1", ["ip", "rule", "del", *rule[3:]], check=False)
    two_path.run("r1", ["ip", "route", "flush", "table", "100"], check=False)


def test_a_path_the_tables_do_not_show_is_a_surprise(two_path: Lab, tmp_path: Path,
                                                     policy_route: None) -> None:
    r = campaign(two_path, sweep_file(two_path, tmp_path, [
        {"elements": "router-links", "fault": "silent-blackhole", "match": "r1"}]),
        tmp_path / "reports")
    via_r3 = cell(r, "link r1:eth2 -- r3:eth1", FORWARD)  # where the policy really sends it
    assert not via_r3["predicted_affected"] and via_r3["failover"]["lost"] > 100
    assert via_r3["surprise"] == SURVIVED_LOSS
    via_r2 = cell(r, "link r1:eth1 -- r2:eth1", FORWARD)  # where the tables send it
    assert via_r2["certain"] and via_r2["failover"]["lost"] == 0
    assert via_r2["surprise"] == AFFECTED_NO_LOSS
    assert cell(r, "link r1:eth1 -- r2:eth1", BACK)["surprise"] is None  # no policy back
    back_as_before(two_path)


def test_a_sweep_stopped_mid_way_keeps_what_it_measured(two_path: Lab,
                                                        tmp_path: Path) -> None:
    path = sweep_file(two_path, tmp_path, [{"elements": "router-links", "fault": "link-cut"}])
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(path), "--reports",
                             str(tmp_path / "reports")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # the second failure is being held
        seen.append(line)
        if line.startswith("· hold:") and any(" 2/4 " in s for s in seen):
            break
    proc.send_signal(signal.SIGINT)
    out = "".join(seen) + proc.stdout.read()
    assert proc.wait(timeout=60) == ExitCode.INCOMPLETE, out
    [pack] = list((tmp_path / "reports").iterdir())
    r = json.loads((pack / "results.json").read_text())
    assert r["incomplete"] == "interrupted (Ctrl-C)" and not r["complete"]
    done = [f for f in r["failures"] if f["cells"]]
    assert len(done) == 2 and len(r["failures"]) == 2  # the third was never started
    assert all(f["restored"] for f in r["failures"]) and r["not_restored"] == []
    assert verify(pack).ok and "Sweep INCOMPLETE" in (pack / "report.html").read_text()
    back_as_before(two_path)


def test_compare_catches_bfd_removed_and_passes_an_unchanged_campaign(
        two_path: Lab, tmp_path: Path) -> None:
    each = [{"elements": "router-links", "fault": "silent-blackhole", "match": "r2"}]
    packs = []
    for name in ("base", "same", "nobfd"):
        if name == "nobfd":  # BFD off on r1-r2: only OSPF's 4 s dead interval is left
            for node in ("r1", "r2"):
                two_path.vtysh(node, "configure terminal", "interface eth1",
                               "no ip ospf bfd")
        try:
            campaign(two_path, sweep_file(two_path, tmp_path, each, name),
                     tmp_path / name)
        finally:
            if name == "nobfd":
                for node in ("r1", "r2"):
                    two_path.vtysh(node, "configure terminal", "interface eth1",
                                   "ip ospf bfd", "ip ospf bfd profile fast")
        [pack] = list((tmp_path / name).iterdir())
        packs.append(pack)
    # BFD detects a silent failure 3 intervals after the last packet it got: up to one interval
    # (100 ms) apart from one campaign to the next, so that much is noise here
    tolerance = ["--tolerance-ms", "100"]
    same = subprocess.run([sys.executable, "-m", "harness", "compare", str(packs[0]),
                           str(packs[1]), *tolerance], capture_output=True, text=True)
    assert same.returncode == 0 and "no regression" in same.stdout, same.stdout
    worse = subprocess.run([sys.executable, "-m", "harness", "compare", str(packs[0]),
                            str(packs[2]), "--write", *tolerance], capture_output=True,
                           text=True)
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "REGRESSION link r1:eth1 -- r2:eth1 :: h1-h2 →: outage" in worse.stdout
    assert (packs[2] / "comparison.txt").is_file() and verify(packs[2]).ok
