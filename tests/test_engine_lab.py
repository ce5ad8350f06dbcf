"""Runs that end badly still leave their evidence, on a real two-path lab: Ctrl-C during the
hold, and a restore that cannot be done. Each writes a sealed pack that says so, with the
documented exit code, and the first leaves the lab as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from harness.engine import ExitCode, LabPool, RunObserver, RunOptions, run_scenario
from harness.faults import FAULTS, FaultError, Stamp, Target, pending, register
from harness.faults.link_cut import LinkCut
from harness.lab import Lab
from harness.network import LabNetwork
from harness.report.manifest import verify
from harness.scenario.load import load_scenario

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]


def scenario(lab: Lab, tmp: Path, kind: str = "link-cut", hold_s: float = 30.0,
             failback_s: float = 1.0) -> Path:
    """h1 <-> h2 at 1 kpps while the r1-r2 link is cut (traffic moves to r3)."""
    data = {"name": "cut-r1-r2", "topology": str(lab.topology.path),
            "flows": [{"name": "h1-h2", "src": "h1", "dst": "h2", "rate": 1000,
                       "sla": {"max_outage_ms": 2000}}],
            "faults": [{"kind": kind, "link": "r1,r2"}],
            "timings": {"baseline_s": 1, "hold_s": hold_s, "failback_s": failback_s}}
    path = tmp / "cut.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def the_pack(reports: Path) -> Path:
    [pack] = [p for p in reports.iterdir() if p.is_dir()]
    return pack


@pytest.mark.parametrize("phase", ["hold", "failback"])
def test_ctrl_c_restores_and_leaves_a_sealed_pack(two_path: Lab, tmp_path: Path,
                                                   phase: str) -> None:
    """During the hold (the fault in place), or early in the failback watch, while the
    convergence check runs beside it: the run ends well before the watch would have (that
    the check itself stops at once: test_failback_check, test_lab)."""
    path = scenario(two_path, tmp_path, hold_s=30 if phase == "hold" else 1,
                    failback_s=30 if phase == "failback" else 1)
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(path), "--reports",
                             str(tmp_path / "reports")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # the phase's first tick line
        seen.append(line)
        if f"{phase}:" in line and "s left" in line:
            break
    if phase == "hold":
        assert LabNetwork(two_path).degraded(), "the link is not cut during the hold"
    proc.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    out = "".join(seen) + proc.stdout.read()
    assert proc.wait(timeout=60) == ExitCode.INCOMPLETE, out
    assert time.monotonic() - interrupted < 20, out  # not the failback's 30 s
    assert "run INCOMPLETE: interrupted (Ctrl-C)" in out

    pack = the_pack(tmp_path / "reports")
    results = json.loads((pack / "results.json").read_text())
    assert results["incomplete"] == "interrupted (Ctrl-C)" and not results["complete"]
    assert results["restored"] == ["link-cut r1,r2 (both ends): admin down"]
    assert results["not_restored"] == [] and not results["outcome_as_expected"]
    assert len(results["flows"]) == 2  # both directions measured until the interrupt
    assert all(v["result"]["received"] > 1000 for v in results["flows"])
    assert "Run INCOMPLETE" in (pack / "report.html").read_text()
    assert verify(pack).ok
    assert LabNetwork(two_path).degraded() == [] and pending(include_live=True) == []


@dataclass(kw_only=True)
class StuckLinkCut(LinkCut):
    """stuck-link-cut: a link cut whose restore fails (a test's own kind, to make a restore
    impossible on purpose)."""

    kind: ClassVar[str] = "stuck-link-cut"

    def restore(self, target: Target) -> list[Stamp]:
        raise FaultError("the interface refuses to come up")


@pytest.fixture
def stuck() -> Iterator[None]:
    register(StuckLinkCut)
    yield
    del FAULTS[StuckLinkCut.kind]


def test_a_restore_that_fails_is_in_the_pack_with_its_own_exit_code(
        two_path: Lab, tmp_path: Path, stuck: None) -> None:
    loaded = load_scenario(scenario(two_path, tmp_path, kind="stuck-link-cut", hold_s=2))
    try:
        with LabPool() as labs:
            outcome = run_scenario(loaded, RunOptions(reports=tmp_path / "reports"),
                                   RunObserver(), labs)
        assert outcome.exit_code == ExitCode.NOT_RESTORED
        results = json.loads((outcome.pack / "results.json").read_text())
        [left] = results["not_restored"]
        assert left.startswith("link-cut r1,r2 (both ends): admin down: the interface "
                               "refuses to come up") and "failover recover" in left
        assert not results["complete"] and not results["outcome_as_expected"]
        assert "Fault NOT restored" in (outcome.pack / "report.html").read_text()
        assert verify(outcome.pack).ok
        [entry] = pending(include_live=True)  # still journaled, for `failover recover`
        assert entry.kind == "stuck-link-cut"
    finally:
        target = Target(two_path)
        LinkCut(link="r1,r2").restore(target)
        target.close()
        deadline = time.monotonic() + 30
        while LabNetwork(two_path).degraded() and time.monotonic() < deadline:
            time.sleep(0.2)
