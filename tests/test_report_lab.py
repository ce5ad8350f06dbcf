"""Evidence packs from real runs on a hospital-core lab: a signed pack that verifies and holds
no password, a report a browser shows, and a missed SLA that shows as failed in HTML, JSON
and JUnit, through the CLI and through the pytest plugin."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from browser import render
from conftest import hospital_lab, scenario_for

from harness import schemas
from harness.lab import Lab
from harness.probes.session import RECORD_DTYPE
from harness.report.manifest import generate_key, verify

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]
PASSWORD = "Corr3ct-H0rse-7f1c"  # the inventory's password, given only through the environment
VTY_PASSWORD = "Vty-B4ttery-9e2d"  # in core2's configuration, which the pack copies


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from hospital_lab(tmp_path_factory.mktemp("hc"),
                            config_lines={"core2": f"password {VTY_PASSWORD}\n"})


def the_pack(reports: Path) -> Path:
    packs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(packs) == 1, packs
    return packs[0]


def pack_bytes(pack: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file of the pack as stored, and the compressed ones once more, uncompressed."""
    for path in sorted(p for p in pack.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield path, data
        if path.suffix == ".gz":
            yield path, gzip.decompress(data)


def test_cli_run_writes_a_signed_pack_without_the_password(hospital: Lab,
                                                           tmp_path: Path) -> None:
    key = tmp_path / "signing.pem"
    generate_key(key)
    path = scenario_for(hospital, "core1-power-loss", tmp_path, devices={
        "core1": {"driver": "frr", "username": "netops", "password_env": "FO_CORE_PW"}})
    env = {**os.environ, "FO_CORE_PW": PASSWORD, "FAILOVER_SIGNING_KEY": str(key)}
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--reports",
                           str(tmp_path / "reports")], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pack = the_pack(tmp_path / "reports")
    assert f"report: {pack / 'report.html'}" in proc.stdout and "signed by key" in proc.stdout

    for name in ("report.html", "results.json", "junit.xml", "timeline.svg", "MANIFEST",
                 "MANIFEST.sig", "snapshots/before.json", "snapshots/after.json",
                 "inputs/core1-power-loss.yml", "inputs/flows/1-hospital-critical.yml",
                 "inputs/topology/hospital-core.clab.yml"):
        assert (pack / name).is_file(), name
    assert list((pack / "raw").glob("recv-*.bin.gz"))
    checked = verify(pack, public_key=key.with_name("signing.pem.pub"))
    assert checked.ok and checked.signed, checked.problems

    leaks = [str(p) for p, data in pack_bytes(pack)
             if PASSWORD.encode() in data or VTY_PASSWORD.encode() in data]
    assert leaks == [] and PASSWORD not in proc.stdout + proc.stderr
    assert "password <redacted>" in (pack / "inputs/topology/configs/core2.conf").read_text()

    results = json.loads((pack / "results.json").read_text())
    jsonschema.validate(results, json.loads(schemas.path("results").read_text()))
    assert results["sla_met"] and results["devices"]["core1"]["os_version"]
    neighbours = results["devices"]["core1"]["ospf_neighbors"]  # CLI text through TextFSM
    assert len(neighbours) == 3 and {n["state"] for n in neighbours} == {"full"}, neighbours
    records = np.frombuffer(b"".join(gzip.decompress(p.read_bytes())
                                     for p in (pack / "raw").glob("recv-*.bin.gz")), RECORD_DTYPE)
    for flow in results["flows"]:  # an auditor recounts each direction from the raw records
        r = flow["result"]
        seqs = np.unique(records["seq"][records["flow"] == r["probe_id"]])
        assert np.count_nonzero(seqs < r["sent"]) == r["received"] > 0, r["name"]

    page = render(pack / "report.html", ["p.verdict", "table.verdicts", "svg.timeline",
                                         "table.verdicts tbody tr"])
    assert page.visible("table.verdicts") and page.visible("svg.timeline"), page.text[:500]
    assert page.console_errors == [] and page.above_the_fold("p.verdict")
    assert "SLA met; outcome as expected" in page.text
    assert page.count("table.verdicts tbody tr") == len(results["flows"])
    assert "fault to every flow delivering again" in page.text
    recovery = results["recovery"]  # core1's flows lose some ms, then all deliver again
    assert 0 < recovery["after_fault_ms"] < 1000 and recovery["after_restore_ms"] is not None
    converged_ms = (results["converged_ns"] - results["restore_ns"]) / 1e6
    assert recovery["converged_ms"] == pytest.approx(converged_ms) and converged_ms > 0
    held_ms = (results["restore_ns"] - results["fault_ns"]) / 1e6  # 1 ns slack: float rounding
    assert recovery["fault_to_full_ms"] >= recovery["converged_ms"] + held_ms - 1e-6

    (pack / "results.json").write_text(json.dumps({**results, "sla_met": False}))
    assert not verify(pack).ok  # an edited verdict no longer matches the signed manifest


def test_pytest_plugin_shows_a_missed_sla_as_failed_everywhere(hospital: Lab,
                                                                tmp_path: Path) -> None:
    """Both cores down, once claimed to pass (must fail) and once as the control it is (its
    flows are expected failures): one test per critical flow in CI's JUnit."""
    claimed = scenario_for(hospital, "both-cores-down", tmp_path, expect="pass",
                           name="both-down-claimed")
    control = scenario_for(hospital, "both-cores-down", tmp_path)
    junit, summary = tmp_path / "ci.xml", tmp_path / "summary.html"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--scenario", str(claimed),
                           "--scenario", str(control), f"--junitxml={junit}",
                           f"--html={summary}", "--self-contained-html", "-p",
                           "no:cacheprovider", "--failover-reports", str(tmp_path / "reports"),
                           "-c", "/dev/null", f"--rootdir={tmp_path}", "-q"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    cases = ET.parse(junit).getroot().iter("testcase")
    outcome = {(c.get("classname"), c.get("name")): [e.tag for e in c] for c in cases}
    flows = [k for k in outcome if k[1].startswith("flow[")]
    assert len(flows) == 24  # 6 critical flows, both ways, in each scenario
    for (cls, name), tags in outcome.items():
        claimed = "both-down-claimed" in cls
        if name.startswith("flow["):
            assert ("failure" in tags) == claimed, (cls, name, tags)
            assert ("skipped" in tags) == (not claimed)  # the control's expected failures
        elif name == "outcome":
            assert ("failure" in tags) == claimed, (cls, name, tags)
        else:
            assert "failure" not in tags and "error" not in tags, (cls, name, tags)

    packs = {json.loads((p / "results.json").read_text())["scenario"]: p
             for p in (tmp_path / "reports").iterdir()}
    pack = packs["both-down-claimed"]
    results = json.loads((pack / "results.json").read_text())
    assert not results["sla_met"] and not any(v["passed"] for v in results["flows"])
    pack_junit = ET.parse(pack / "junit.xml").getroot()
    assert int(pack_junit[0].get("failures", 0)) == 13  # 12 flow directions and the outcome
    failed = "table.verdicts td:last-child span.failed"
    page = render(pack / "report.html", ["table.verdicts", failed, "p.verdict"])
    assert "SLA MISSED; outcome NOT as expected" in page.text and page.count(failed) == 12
    assert page.console_errors == [] and page.above_the_fold("p.verdict")
    assert (pack / "junit.xml").read_text().count("<failure") == 13
    session = summary.read_text()  # pytest-html's CI summary: each run's sections
    assert session.count('<div class="failover-report">') == 2, session[:300]
    assert verify(pack).ok and verify(packs["both-cores-down"]).ok
