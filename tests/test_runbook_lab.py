"""Runbooks on a real two-path lab: the test plays the operator (it cuts and restores a link
itself when prompted, confirming late or early on purpose), and Ctrl-C during step 3 restores the
injects of steps 1-3 and leaves a sealed pack of what was measured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.engine import ExitCode, LabPool, RunObserver, RunOptions, run_scenario
from harness.faults import Stamp, Target, pending
from harness.faults.link_cut import LinkCut
from harness.lab import Lab
from harness.network import LabNetwork
from harness.report.manifest import verify
from harness.scenario.load import load_scenario

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]

LATE_S = 0.3  # the operator confirms this long after doing it


def runbook(lab: Lab, tmp: Path, steps: list[dict[str, Any]]) -> Path:
    """h1 <-> h2 at 1 kpps through `steps`."""
    data = {"name": "rb", "topology": str(lab.topology.path),
            "flows": [{"name": "h1-h2", "src": "h1", "dst": "h2", "rate": 1000,
                       "sla": {"max_outage_ms": 2000}}],
            "steps": steps, "timings": {"baseline_s": 1}}
    path = tmp / "rb.yml"
    path.write_text(yaml.safe_dump(data))
    return path


class HandsOnLab:
    """The test as the operator: does what each prompt asks on the lab itself (outside the
    harness) and confirms `lag_s` later (< 0: confirms first, and does it -lag_s later)."""

    def __init__(self, lab: Lab, lag_s: float = LATE_S) -> None:
        self.target = Target(lab)
        self.cut = LinkCut(link="r1,r2")
        self.lag_s = lag_s
        self.stamps: dict[str, list[Stamp]] = {}

    def confirm(self, step: str, prompt: str, timeout_s: float) -> bool:
        act = self.cut.inject if step == "pull" else self.cut.restore
        if self.lag_s < 0:
            threading.Timer(-self.lag_s, lambda: self.stamps.setdefault(
                step, act(self.target))).start()
            return True
        self.stamps[step] = act(self.target)
        time.sleep(self.lag_s)
        return True


@pytest.mark.parametrize("lag_s", [LATE_S, -LATE_S], ids=["late", "early"])
def test_the_test_as_operator_both_instants_in_the_pack(two_path: Lab, tmp_path: Path,
                                                        lag_s: float) -> None:
    path = runbook(two_path, tmp_path, [
        {"name": "pull", "operator": "cut the r1-r2 link now", "hold_s": 1,
         "sla": {"max_outage_ms": 1500}},
        {"name": "here", "mark": "link cut"},
        {"name": "plug", "operator": "plug the r1-r2 link back", "timeout_s": 30,
         "hold_s": 1},
        {"name": "settled", "check": ["converged", "clean", "state"]}])
    operator = HandsOnLab(two_path, lag_s)
    try:
        with LabPool() as labs:
            outcome = run_scenario(load_scenario(path), RunOptions(
                reports=tmp_path / "reports", operator=operator), RunObserver(), labs)
    finally:
        operator.cut.restore(operator.target)  # a second restore does nothing
        operator.target.close()
    results = json.loads((outcome.pack / "results.json").read_text())
    assert outcome.exit_code == ExitCode.OK, results["incomplete"]
    pull = results["steps"][0]
    cut_ns = operator.stamps["pull"][0].wall_start_ns
    assert abs(pull["traffic_failed_ns"] - cut_ns) < 5_000_000  # from the probes: within 5 ms
    assert abs((pull["confirmed_ns"] - cut_ns) / 1e9 - lag_s) < 0.2  # the key press, as made
    assert all(v["stats"]["lost"] for v in pull["verdicts"])  # the cut is in its own window
    assert [s["name"] for s in results["steps"]] == ["pull", "here", "plug", "settled"]
    assert all(s["passed"] for s in results["steps"])
    page = (outcome.pack / "report.html").read_text()
    assert "traffic began to fail" in page and "operator confirmed" in page
    assert verify(outcome.pack).ok


def test_the_operator_at_the_terminal_confirms_on_stdin(two_path: Lab, tmp_path: Path) -> None:
    path = runbook(two_path, tmp_path, [
        {"name": "pull", "operator": "cut the r1-r2 link now", "hold_s": 1},
        {"name": "plug", "operator": "plug the r1-r2 link back", "timeout_s": 30},
        {"name": "settled", "check": ["converged", "clean"]}])
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(path), "--reports",
                             str(tmp_path / "reports")], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None and proc.stdin is not None
    operator = HandsOnLab(two_path)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("OPERATOR ("):  # the prompt: do it, then press Enter
                operator.confirm(line[10:14], line, 0)
                proc.stdin.write("\n")
                proc.stdin.flush()
    finally:
        operator.cut.restore(operator.target)
        operator.target.close()
    assert proc.wait(timeout=60) == ExitCode.OK, "".join(seen)
    [pack] = (tmp_path / "reports").iterdir()
    pull = json.loads((pack / "results.json").read_text())["steps"][0]
    cut_ns = operator.stamps["pull"][0].wall_start_ns
    assert abs(pull["traffic_failed_ns"] - cut_ns) < 5_000_000
    assert pull["confirmed_ns"] - cut_ns >= LATE_S * 1e9


def test_ctrl_c_during_step_3_restores_steps_1_to_3(two_path: Lab, tmp_path: Path) -> None:
    path = runbook(two_path, tmp_path, [
        {"name": "cut-r1-r2", "inject": {"kind": "link-cut", "link": "r1,r2"},
         "hold_s": 0.5},  # its loss starts within its window (without a hold: ~ms long)
        {"name": "cut-r2-r4", "inject": {"kind": "link-cut", "link": "r2,r4"}},
        {"name": "r2-off", "inject": {"kind": "node-power-loss", "node": "r2"},
         "hold_s": 30}])
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(path), "--reports",
                             str(tmp_path / "reports")], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # a tick of step 3's hold: all three are in place
        seen.append(line)
        if "r2-off:" in line and "s left" in line:
            break
    assert len(LabNetwork(two_path).degraded()) >= 3, "".join(seen)
    proc.send_signal(signal.SIGINT)
    out = "".join(seen) + proc.stdout.read()
    assert proc.wait(timeout=60) == ExitCode.INCOMPLETE, out

    [pack] = (tmp_path / "reports").iterdir()
    results = json.loads((pack / "results.json").read_text())
    assert results["incomplete"] == "interrupted (Ctrl-C)" and results["not_restored"] == []
    assert [s["name"] for s in results["steps"]] == ["cut-r1-r2", "cut-r2-r4", "r2-off"]
    restored = results["steps"][2]["restored"]
    assert len(restored) == 3 and restored[0].startswith("node-power-loss r2"), restored
    assert all(v["stats"]["lost"] for v in results["steps"][0]["verdicts"])  # measured
    assert "Runbook INCOMPLETE" in (pack / "report.html").read_text()
    assert verify(pack).ok
    assert LabNetwork(two_path).degraded() == [] and pending(include_live=True) == []


def test_a_hard_limit_passed_stops_the_runbook_and_restores_every_inject(
        two_path: Lab, tmp_path: Path) -> None:
    path = runbook(two_path, tmp_path, [
        {"name": "cut-r1-r2", "inject": {"kind": "link-cut", "link": "r1,r2"}, "hold_s": 1},
        {"name": "cut-r1-r3", "inject": {"kind": "link-cut", "link": "r1,r3"}, "hold_s": 20},
        {"name": "never", "restore": "cut-r1-r3"}])
    data = yaml.safe_load(path.read_text())
    data["flows"][0]["sla"] = {"max_outage_ms": 300, "hard_limit_ms": 1000}
    path.write_text(yaml.safe_dump(data))
    start = time.monotonic()
    with LabPool() as labs:
        outcome = run_scenario(load_scenario(path), RunOptions(reports=tmp_path / "reports"),
                               RunObserver(), labs)
    results = json.loads((outcome.pack / "results.json").read_text())
    assert outcome.exit_code == ExitCode.INCOMPLETE and time.monotonic() - start < 15
    first, second = results["steps"]
    assert first["passed"] and second["aborted"].startswith("hard limit passed: h1-h2")
    assert results["incomplete"].startswith("step cut-r1-r3: hard limit passed")
    assert len(second["restored"]) == 2 and results["not_restored"] == []
    assert LabNetwork(two_path).degraded() == [] and pending(include_live=True) == []
