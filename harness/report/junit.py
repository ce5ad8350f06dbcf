"""junit.xml of a pack: a run's checks as one test suite, in the shape CI tools read (as
pytest's --junitxml writes it: a flow's outages as test properties, a control scenario's
expected misses as skipped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report.checks import Results, run_checks
from harness.report.html import utc

EXPECTED_MISS = "control scenario: missed its SLA, as expected"


def junit_xml(r: Results) -> bytes:
    """The document, UTF-8 with its declaration."""
    checks = run_checks(r)
    failed = sum(c.failure is not None and not c.expected_failure for c in checks)
    skipped = sum((c.failure is not None and c.expected_failure) or c.skipped is not None
                  for c in checks)
    seconds = max(0, r["ended_ns"] - r["started_ns"]) / 1e9 if r["ended_ns"] else 0.0
    root = ET.Element("testsuites", name="failover evidence")
    suite = ET.SubElement(root, "testsuite", name=r["scenario"], tests=str(len(checks)),
                          failures=str(failed), errors="0", skipped=str(skipped),
                          time=f"{seconds:.3f}", timestamp=utc(r["started_ns"]),
                          hostname=str(r.get("context", {}).get("host", "")))
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=r["scenario"], name=check.name,
                             time=f"{seconds if check.name == 'preflight' else 0:.3f}")
        if check.properties:
            props = ET.SubElement(case, "properties")
            for name, value in check.properties:
                ET.SubElement(props, "property", name=name, value=str(value))
        if check.skipped is not None:
            ET.SubElement(case, "skipped", message=check.skipped)
        elif check.failure is not None and check.expected_failure:
            ET.SubElement(case, "skipped", type="pytest.xfail",
                          message=EXPECTED_MISS).text = check.failure
        elif check.failure is not None:
            ET.SubElement(case, "failure", message=check.failure).text = check.failure
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
