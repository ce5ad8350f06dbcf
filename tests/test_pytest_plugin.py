"""The pytest plugin's collection: scenario files become tests, nothing else does; a broken
scenario is one line naming file, line and field; the session's summary says whether each
pack is signed. (Runs are in test_report_lab.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from conftest import ROOT
from test_scenario_load import _real_core1

from harness.pytest_plugin import RUNS, Run, pytest_terminal_summary
from harness.report.manifest import fingerprint, generate_key, load_signing_key, write_manifest
from harness.scenario.load import load_scenario


def collect(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_scenario_files_are_collected_as_preflight_flows_outcome_restore() -> None:
    proc = collect("scenarios/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    assert not any("flows/" in i for i in ids)  # a flows file is not a scenario
    for path in sorted((ROOT / "scenarios").glob("*.yml")):
        loaded = load_scenario(path)
        critical = len(loaded.spec.steps) or sum(  # a runbook: one per step
            len(cf.flow.directions()) for cf in loaded.flows if cf.critical) \
            * max(1, len(loaded.failures))  # a sweep: each failure's
        mine = [i.split("::")[1] for i in ids if i.startswith(f"scenarios/{path.name}::")]
        assert mine[0] == "preflight" and mine[-1] == "restore", path.name
        assert len(mine) == critical + 3 and mine[-2] == "outcome", (path.name, mine)


def test_broken_scenario_is_a_one_line_collection_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(f"name: x\ntopology: {ROOT}/topologies/hospital-core.clab.yml\n"
                   "flows: [{name: v, src: voip, dst: pbx, application: rtp,\n"
                   "         sla: {max_outage_ms: 300}}]\nfaults:\n  - {kind: meteor}\n")
    proc = collect("--scenario", str(bad), "-c", "/dev/null", f"--rootdir={tmp_path}",
                   cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{bad}:6: faults[0]: unknown fault kind 'meteor'" in proc.stdout, proc.stdout


def test_scenario_option_collects_only_that_scenario() -> None:
    """Not the project's own tests too (pyproject's testpaths apply only without arguments)."""
    proc = collect("--scenario", "scenarios/core1-drain.yml")
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    assert proc.returncode == 0 and len(ids) == 15, proc.stdout
    assert all(i.startswith("scenarios/core1-drain.yml::") for i in ids)


def test_a_scenario_on_real_devices_needs_failover_commit(tmp_path: Path) -> None:
    path = _real_core1(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "pytest", "--scenario", str(path), "-q",
                           "-p", "no:cacheprovider", "-c", "/dev/null", f"--rootdir={tmp_path}",
                           f"--failover-reports={tmp_path / 'reports'}"], capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "FAILOVER_JOURNAL_DIR":
                                                        str(tmp_path / "journal")})
    assert proc.returncode == 1 and "15 failed" in proc.stdout, proc.stdout
    assert "would change real devices: core1 (eos at core1.mgmt.example); give " \
        "--failover-commit to run it" in proc.stdout
    assert not (tmp_path / "journal").exists() and not (tmp_path / "reports").exists()


class Terminal:
    """A terminal reporter that keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_summary_says_whether_each_pack_is_signed(tmp_path: Path) -> None:
    key = tmp_path / "signing.pem"
    generate_key(key)
    runs = []
    for name, signing in (("signed", load_signing_key(key)), ("unsigned", None)):
        pack = tmp_path / name
        pack.mkdir()
        (pack / "report.html").write_text("<html/>")
        write_manifest(pack, signing)
        runs.append(Run({"sla_met": True, "expect": "pass"}, "", pack))
    terminal = Terminal()
    pytest_terminal_summary(terminal, SimpleNamespace(stash={RUNS: runs}))
    private = load_signing_key(key)
    assert private is not None
    assert terminal.lines == [
        "failover evidence packs",
        f"SLA met    {tmp_path}/signed/report.html, signed by key "
        f"{fingerprint(private.public_key())}",
        f"SLA met    {tmp_path}/unsigned/report.html, UNSIGNED",
        "1 pack(s) UNSIGNED: give --signing-key PATH or $FAILOVER_SIGNING_KEY to sign them "
        "(failover keygen PATH makes a key)"]
