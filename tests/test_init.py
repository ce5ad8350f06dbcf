"""`failover init`: from each reference topology, a flows file and scenarios that validate (a
power loss of each core, a cut of each core uplink, a control that must miss its SLA), never
over existing files; and one of them runs and passes on a real lab, its pack checked with
standard tools."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import TOPOLOGIES, private_copy, require_lab_host
from test_verify_standard_tools import follow, standard_tools
from typer.testing import CliRunner

from harness.cli import app
from harness.engine import ExitCode, LabPool, RunObserver, RunOptions, run_scenario
from harness.errors import HarnessError, InputError
from harness.lab.teardown import teardown
from harness.report.manifest import generate_key
from harness.scenario.gate import paths_cut
from harness.scenario.load import LoadedScenario, load_scenario
from harness.scenario.starter import find_cores, starter
from harness.topology import load_topology

REFERENCE = sorted(TOPOLOGIES.glob("*.clab.yml"))
CORES = {"hospital-core": ["core1", "core2"], "hospital-campus": ["core1", "core2"],
         "two-path": ["r2", "r3"]}


def init(topology: Path, out: Path, *more: str) -> str:
    done = CliRunner().invoke(app, ["init", str(topology), "--out", str(out), *more])
    assert done.exit_code == 0, done.output
    return done.output


def scenarios(out: Path) -> dict[str, LoadedScenario]:
    return {p.stem: load_scenario(p) for p in sorted(out.glob("*.yml"))}


@pytest.mark.parametrize("topology", REFERENCE, ids=lambda p: p.name)
def test_init_writes_scenarios_that_validate(topology: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    printed = init(topology, out)
    topo = load_topology(topology)
    cores = CORES[topo.name]
    loaded = scenarios(out)
    uplinks = [lk for c in cores for lk in topo.links_of(c)
               if lk.other(c).node not in cores and topo.nodes[lk.other(c).node].is_router]
    assert sorted(loaded) == sorted([f"{c}-power-loss" for c in cores] + ["all-cores-down"] + [
        f"{lk.end(c).node}-{lk.other(c).node}-link-cut" for c in cores
        for lk in uplinks if c in (lk.a.node, lk.b.node)])
    assert (out / "flows" / f"{topo.name}-flows.yml").is_file()
    hosts = {n for n, node in topo.nodes.items() if not node.is_router}
    for name, scenario in loaded.items():
        assert scenario.topology.path.resolve() == topology.resolve()
        assert scenario.flows and all({cf.flow.src, cf.flow.dst} <= hosts
                                      for cf in scenario.flows)
        cut = paths_cut(scenario.topology, scenario.flows, scenario.faults)
        if name == "all-cores-down":  # the control: every flow loses its last path
            assert scenario.spec.expect == "fail" and scenario.spec.safety.allow_last_path_cut
            assert sorted(cut) == sorted(cf.flow.name for cf in scenario.flows)
        else:  # the redundancy gate lets it through
            assert scenario.spec.expect == "pass" and not cut, (name, cut)
    assert "refuse" not in printed and "may not" not in printed


def test_hospital_flows_pair_clients_with_servers_by_application(tmp_path: Path) -> None:
    init(TOPOLOGIES / "hospital-core.clab.yml", tmp_path)
    flows = {(cf.flow.src, cf.flow.dst, cf.flow.port, cf.sla.max_outage_ms)
             for cf in scenarios(tmp_path)["core1-power-loss"].flows}
    assert flows == {(c, "ehr", 443, 1000) for c in ("ed", "ward")} \
        | {(c, "ad", 389, 1000) for c in ("ed", "ward")} \
        | {(c, "pacs", 104, 2000) for c in ("ed", "ward")} \
        | {("voip", "pbx", 16384, 300), ("voip", "pbx", 5060, 300)}
    text = (tmp_path / "flows" / "hospital-core-flows.yml").read_text()
    assert "# voip -> pbx (rtp/sip server): udp/16384, DSCP EF" in text


def test_cores_without_labels_are_the_transit_routers_on_most_host_paths(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "hospital-core")
    text = re.sub(r"\n\s+labels: .*", "", path.read_text())
    path.write_text(text.replace("core:\n", "spine:\n").replace("group: core\n", "group: spine\n"))
    cores, how = find_cores(load_topology(path))
    assert cores == ["core1", "core2"] and "transit routers" in how
    labelled, how = find_cores(load_topology(TOPOLOGIES / "hospital-core.clab.yml"))
    assert labelled == ["core1", "core2"] and "labelled" in how


def test_an_app_label_names_what_a_host_serves(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "two-path")
    path.write_text(path.read_text().replace("    h2:\n", "    h2:\n      labels: {app: rtp}\n"))
    assert [(f.src, f.dst, f.application) for f in starter(load_topology(path)).flows] == [
        ("h1", "h2", "rtp")]
    path.write_text(path.read_text().replace("{app: rtp}", "{app: telnet}"))
    with pytest.raises(HarnessError, match="h2: label app: 'telnet' is not an application"):
        starter(load_topology(path))


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    topology = TOPOLOGIES / "two-path.clab.yml"
    init(topology, tmp_path)
    mine = tmp_path / "r2-power-loss.yml"
    mine.write_text(mine.read_text() + "# my edit\n")
    before = {p: p.read_text() for p in tmp_path.rglob("*.yml")}
    again = CliRunner().invoke(app, ["init", str(topology), "--out", str(tmp_path)])
    assert isinstance(again.exception, InputError)  # `failover` prints it, exits 2
    assert "refusing to overwrite: give --force" in str(again.exception)
    assert {p: p.read_text() for p in tmp_path.rglob("*.yml")} == before
    init(topology, tmp_path, "--force")
    assert "# my edit" not in mine.read_text()


@pytest.mark.lab
def test_a_generated_scenario_runs_and_passes_on_the_lab(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    require_lab_host()
    monkeypatch.setenv("FAILOVER_JOURNAL_DIR", str(tmp_path / "journal"))
    topology = private_copy(tmp_path, "two-path")
    init(topology, tmp_path / "mine")
    loaded = load_scenario(tmp_path / "mine" / "r2-power-loss.yml")
    key = tmp_path / "signing.pem"
    generate_key(key)
    try:
        with LabPool() as labs:
            outcome = run_scenario(loaded, RunOptions(reports=tmp_path / "reports",
                                                      signing_key=key), RunObserver(), labs)
    finally:
        teardown(loaded.topology.name)
    assert outcome.exit_code == ExitCode.OK, outcome.data
    assert outcome.result.sla_met and [v.direction for v in outcome.result.flows] == [
        "h1-h2-https →", "h1-h2-https ←"]
    # its pack, checked as an auditor does (VERIFY.txt, standard tools only)
    done = follow(outcome.pack, standard_tools(tmp_path / "bin"), key.with_name("signing.pem.pub"))
    assert done.returncode == 0 and "Good" in done.stdout + done.stderr, done.stderr
    statement = json.loads((outcome.pack / "attestation.intoto.json").read_text())
    assert statement["predicate"]["result"] == "PASSED"
    assert statement["predicate"]["passedTests"][:3] == ["preflight", "flow[h1-h2-https →]",
                                                         "flow[h1-h2-https ←]"]


def test_a_core_that_is_a_single_point_of_failure_is_flagged(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "two-path")
    path.write_text(path.read_text().replace("    r1: {startup-config: two-path/r1.conf}",
                                             "    r1: {startup-config: two-path/r1.conf, "
                                             "labels: {role: core}}"))
    printed = init(path, tmp_path / "mine")
    assert "r1-power-loss.yml (the redundancy gate will refuse it: it cuts the last path of " \
        "h1-h2-https)" in printed.replace("\n", "")
    assert "r1-r2-link-cut.yml\n" in printed  # r3 is still there
