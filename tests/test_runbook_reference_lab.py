"""The reference runbook (rolling-core-upgrade) on a private hospital-core lab, with the test
as the operator who pulls and restores each core's power when prompted (the drains stay
the harness's own injects): every step within its SLA, both instants of each power cut
measured, the network as before at the end (a drained core's reload costs no probe here)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import hospital_lab, scenario_for

from harness.engine import ExitCode, LabPool, RunObserver, RunOptions, run_scenario
from harness.faults import Stamp, Target
from harness.faults.node_power_loss import NodePowerLoss
from harness.lab import Lab
from harness.report.verdict import verdict_lines
from harness.scenario.load import load_scenario

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]


@pytest.fixture
def hospital(tmp_path: Path) -> Iterator[Lab]:
    yield from hospital_lab(tmp_path / "hc")


class PowerHands:
    """The operator: pulls (`...-reload`) or restores (`...-power-back`) a core's power on
    the lab itself, and confirms 200 ms later."""

    def __init__(self, lab: Lab) -> None:
        self.target = Target(lab)
        self.stamps: dict[str, list[Stamp]] = {}

    def confirm(self, step: str, prompt: str, timeout_s: float) -> bool:
        cut = NodePowerLoss(node=step.split("-")[0])
        act = cut.inject if step.endswith("-reload") else cut.restore
        self.stamps[step] = act(self.target)
        time.sleep(0.2)
        return True


def by_hand(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runbook's power cuts and restores as operator steps."""
    out = []
    for step in steps:
        if step.get("inject", {}).get("kind") == "node-power-loss" or \
                step.get("restore", "").endswith("-reload"):
            core = step["name"].split("-")[0]
            step = {k: v for k, v in step.items() if k not in ("inject", "restore")}
            step["operator"] = f"{'pull' if 'reload' in step['name'] else 'restore'} " \
                               f"both power cords of {core}"
        # a short night, but a check's hold is kept: the reloaded core settles before its undrain
        hold = step.get("hold_s", 0)
        out.append({**step, "hold_s": hold if "check" in step else min(hold, 1)})
    return out


def test_the_reference_runbook_with_the_test_as_operator(hospital: Lab,
                                                          tmp_path: Path) -> None:
    path = scenario_for(hospital, "rolling-core-upgrade", tmp_path)
    data = yaml.safe_load(path.read_text())
    data["steps"] = by_hand(data["steps"])
    path.write_text(yaml.safe_dump(data))
    operator = PowerHands(hospital)
    try:
        with LabPool() as labs:
            outcome = run_scenario(load_scenario(path), RunOptions(
                reports=tmp_path / "reports", operator=operator), RunObserver(), labs)
    finally:
        for core in ("core1", "core2"):
            NodePowerLoss(node=core).restore(operator.target)
        operator.target.close()
    results = json.loads((outcome.pack / "results.json").read_text())
    failed = [(s["name"], s["failed"], [v["verdict"]["reasons"] for v in s["verdicts"]
                                        if not v["verdict"]["passed"]])
              for s in results["steps"] if not s["passed"]]
    assert outcome.exit_code == ExitCode.OK, (results["incomplete"], failed,
                                              results["state_diff"][:5])
    assert len(results["steps"]) == 13
    assert verdict_lines(results)[0].startswith("Every step within its SLA: runbook ")
    assert all(d["received"] > 10_000 for d in results["directions"])  # probes ran throughout
    worst = {s["name"]: max(v["stats"]["outage_ms"] for v in s["verdicts"])
             for s in results["steps"]}
    assert worst["drain-core1"] == worst["undrain-core1"] == 0, worst  # planned: no loss
    for s in results["steps"]:
        if s["name"].endswith("-reload"):
            assert s["confirmed_ns"] - operator.stamps[s["name"]][0].wall_start_ns >= 2e8
