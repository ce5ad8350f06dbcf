"""The evidence pack of a runbook: what every pack holds (results.json with every step,
raw probes, snapshots, configuration changes, inputs), its JUnit (the run's checks: one per
step and critical flow direction) and its report (`runbook_html`). Sealed by the engine like
any pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.pack import write_campaign_pack
from harness.report.runbook_html import runbook_report
from harness.runbook.results import RunbookResult
from harness.scenario.load import LoadedScenario

RUNBOOK_ID = "failover-harness/runbook/1"


def write_runbook_pack(pack: Path, loaded: LoadedScenario,
                       result: RunbookResult) -> dict[str, Any]:
    return write_campaign_pack(pack, loaded, result, RUNBOOK_ID, runbook_report)
