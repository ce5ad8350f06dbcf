"""The evidence pack of a runbook: what every pack holds (results.json with every step,
raw probes, snapshots, configuration changes, inputs), its JUnit (the run's checks: one per
step and critical flow direction) and its report (`runbook_html`). Sealed by the engine like
any pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.junit import junit_xml
from harness.report.pack import write_records
from harness.report.runbook_html import runbook_report
from harness.runbook.results import RunbookResult
from harness.scenario.load import LoadedScenario

RUNBOOK_ID = "failover-harness/runbook/1"


def write_runbook_pack(pack: Path, loaded: LoadedScenario,
                       result: RunbookResult) -> dict[str, Any]:
    data = {"schema": RUNBOOK_ID, **result.to_dict()}
    stamps = [s for step in result.steps for s in step.inject_stamps + step.restore_stamps]
    write_records(pack, loaded, data, result.snapshots, stamps)
    (pack / "junit.xml").write_bytes(junit_xml(data))
    (pack / "report.html").write_text(runbook_report(data))
    return data
