"""The evidence pack of an N-1 campaign: what every pack holds (results.json with the matrix,
raw probes, snapshots, configuration changes, inputs), its JUnit (one test case per failure
and flow direction) and its report (`sweep_html`). Sealed by the engine like any pack."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.report.pack import write_records
from harness.report.sweep_html import sweep_report
from harness.scenario.load import LoadedScenario
from harness.sweep.results import SweepResult

SWEEP_ID = "failover-harness/sweep/1"


def write_sweep_pack(pack: Path, loaded: LoadedScenario, result: SweepResult) -> dict[str, Any]:
    data = {"schema": SWEEP_ID, **result.to_dict()}
    stamps = [s for f in result.failures for s in f.inject_stamps + f.restore_stamps]
    write_records(pack, loaded, data, result.snapshots, stamps)
    ET.ElementTree(junit(data)).write(pack / "junit.xml", encoding="utf-8",
                                      xml_declaration=True)
    (pack / "report.html").write_text(sweep_report(data))
    return data


def junit(data: dict[str, Any]) -> ET.Element:
    """One test case per failure and flow direction: a critical cell that missed its SLA, or
    a single point of failure, fails; an information flow's cell only reports."""
    suite = ET.Element("testsuite", name=f"sweep {data['scenario']}")
    directions = [d["name"] for d in data["directions"]] or sorted(
        {label for f in data["failures"] for label in f["predicted_affected"]})
    for failure in data["failures"]:
        cells = {c["direction"]: c for c in failure["cells"]}
        for direction in directions:
            case = ET.SubElement(suite, "testcase", classname=data["scenario"],
                                 name=f"{failure['element']} :: {direction}")
            cell = cells.get(direction)
            if failure["cuts"] and not cell:
                ET.SubElement(case, "failure", message="single point of failure: "
                              + ", ".join(failure["cuts"]) + " left without a path")
            elif cell is None:
                ET.SubElement(case, "skipped", message=failure["skipped"]
                              or f"not measured ({data['incomplete'] or 'no window'})")
            else:
                props = ET.SubElement(case, "properties")
                for name in ("sla_ms", "outage_ms", "predicted_affected", "surprise"):
                    ET.SubElement(props, "property", name=name, value=str(cell[name]))
                if cell["critical"] and not cell["passed"]:
                    reasons = cell["failover_verdict"]["reasons"] + \
                        cell["failback_verdict"]["reasons"]
                    ET.SubElement(case, "failure", message="; ".join(reasons))
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(sum(1 for c in suite if c.find("failure") is not None)))
    suite.set("skipped", str(sum(1 for c in suite if c.find("skipped") is not None)))
    return suite
