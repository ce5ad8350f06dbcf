"""The evidence pack of an N-1 campaign: what every pack holds (results.json with the matrix,
raw probes, snapshots, configuration changes, inputs), its JUnit (the run's checks: one per
failure and critical flow direction) and its report (`sweep_html`). Sealed by the engine like
any pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.pack import write_campaign_pack
from harness.report.sweep_html import sweep_report
from harness.scenario.load import LoadedScenario
from harness.sweep.results import SweepResult

SWEEP_ID = "failover-harness/sweep/1"


def write_sweep_pack(pack: Path, loaded: LoadedScenario, result: SweepResult) -> dict[str, Any]:
    return write_campaign_pack(pack, loaded, result, SWEEP_ID, sweep_report)
