"""The evidence pack of an N-1 campaign: what every pack holds (results.json with the matrix,
raw probes, snapshots, configuration changes, inputs), its JUnit (the run's checks: one per
failure and critical flow direction) and its report (`sweep_html`). Sealed by the engine like
any pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.junit import junit_xml
from harness.report.pack import write_records
from harness.report.sweep_html import sweep_report
from harness.scenario.load import LoadedScenario
from harness.sweep.results import SweepResult

SWEEP_ID = "failover-harness/sweep/1"


def write_sweep_pack(pack: Path, loaded: LoadedScenario, result: SweepResult) -> dict[str, Any]:
    data = {"schema": SWEEP_ID, **result.to_dict()}
    stamps = [s for f in result.failures for s in f.inject_stamps + f.restore_stamps]
    write_records(pack, loaded, data, result.snapshots, stamps)
    (pack / "junit.xml").write_bytes(junit_xml(data))
    (pack / "report.html").write_text(sweep_report(data))
    return data
