"""Scenarios end to end on a real hospital-core lab: verdicts that pass, fail, refuse, recover."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import hospital_lab, scenario_for, wait_for

from harness.engine import RunObserver
from harness.engine.cycle import BaselineNotClean
from harness.engine.runner import ScenarioRunner
from harness.errors import HarnessError
from harness.faults import pending
from harness.lab import Lab
from harness.lab.kernel import LabKernel
from harness.network import LabNetwork
from harness.scenario import snapshot
from harness.scenario.gate import GateRefused
from harness.scenario.load import load_scenario
from harness.scenario.network import network_for
from harness.scenario.results import RunResult

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from hospital_lab(tmp_path_factory.mktemp("hc"))


def run(lab: Lab, path: Path, tmp: Path) -> RunResult:
    loaded = load_scenario(path)
    return ScenarioRunner(loaded, network_for(loaded, lab), tmp / "run").run()


def test_core1_power_loss_passes(hospital: Lab, tmp_path: Path) -> None:
    result = run(hospital, scenario_for(hospital, "core1-power-loss", tmp_path), tmp_path)
    assert result.sla_met and result.outcome_as_expected, [v.failover for v in result.flows]
    assert result.state_diff == []
    hit = [v for v in result.flows if v.failover.lost]
    assert hit, "core1 carried no flow: the test would prove nothing"
    assert all(v.failover.outage_ms < 300 for v in result.flows)


def test_silent_blackhole_caught_by_bfd(hospital: Lab, tmp_path: Path) -> None:
    result = run(hospital, scenario_for(hospital, "core1-silent-blackhole", tmp_path), tmp_path)
    assert result.sla_met, [(v.direction, v.failover.outage_ms) for v in result.flows]
    hit = [v.failover.outage_ms for v in result.flows if v.failover.lost]
    assert hit and all(150 < ms < 1000 for ms in hit), [  # BFD: 3 x 100 ms
        (v.direction, v.failover.outage_ms, v.failover.first_loss_ms) for v in result.flows]


def test_silent_blackhole_without_bfd_misses_one_second(tmp_path: Path) -> None:
    for lab in hospital_lab(tmp_path / "nobfd", strip_bfd=True):
        result = run(lab, scenario_for(lab, "core1-silent-blackhole", tmp_path), tmp_path)
        assert not result.sla_met
        hit = [v.failover.outage_ms for v in result.flows if v.failover.lost]
        assert hit and all(ms > 2000 for ms in hit), hit  # OSPF dead interval 4 s


def care_paths(lab: Lab) -> list[str]:
    """dist-dc's next hops toward the care side, as its routing (FRR's RIB) chose them."""
    routes = lab.vtysh_json("dist-dc", "show ip route 198.19.20.0/24 json")["198.19.20.0/24"]
    return sorted(nh["ip"] for r in routes if r.get("selected") for nh in r["nexthops"]
                  if nh.get("active"))


def test_planned_drain_through_napalm_loses_nothing(hospital: Lab, tmp_path: Path) -> None:
    assert care_paths(hospital) == ["198.18.1.2", "198.18.1.6"]  # ECMP over core1 and core2
    during: list[list[str]] = []

    class LookDuringHold(RunObserver):
        def tick(self, phase: str, seconds_left: float, flows: object) -> None:
            if phase == "hold" and seconds_left < 2.0 and not during:
                during.append(care_paths(hospital))
    result = ScenarioRunner(load_scenario(scenario_for(hospital, "core1-drain", tmp_path)),
                            LabNetwork(hospital), tmp_path / "run", LookDuringHold()).run()
    assert during == [["198.18.1.6"]], "the drain did not move traffic off core1"
    assert result.sla_met, ([(v.direction, v.failover.lost, v.failover.first_loss_ms,
                              v.failback.lost) for v in result.flows],
                            [(s.what, s.detail) for s in result.inject_stamps])
    assert all(v.failover.lost == v.failback.lost == 0 for v in result.flows)
    running = hospital.vtysh("core1", "show running-config")
    assert "max-metric router-lsa administrative" not in running
    assert "max-metric router-lsa on-startup 5" in running  # the rest of the config intact
    assert result.state_diff == []


def test_interface_shutdown_through_napalm_fails_over_and_rolls_back(hospital: Lab,
                                                                   tmp_path: Path) -> None:
    result = run(hospital, scenario_for(hospital, "core1-uplink-shutdown", tmp_path), tmp_path)
    assert result.sla_met, [(v.direction, v.failover.lost, v.failback.lost) for v in result.flows]
    assert "shutdown" in result.inject_stamps[0].detail  # the diff NAPALM committed
    assert "rolled back" in result.restore_stamps[0].detail
    assert " shutdown" not in hospital.vtysh("core1", "show running-config")
    assert result.state_diff == []


def test_routing_daemon_crash_loses_nothing(hospital: Lab, tmp_path: Path) -> None:
    result = run(hospital, scenario_for(hospital, "core1-routing-crash", tmp_path), tmp_path)
    assert result.sla_met, [(v.direction, v.failover.lost, v.failback.lost) for v in result.flows]
    assert result.state_diff == []


def test_both_cores_down_fails_its_sla(hospital: Lab, tmp_path: Path) -> None:
    result = run(hospital, scenario_for(hospital, "both-cores-down", tmp_path), tmp_path)
    assert not result.sla_met and result.expect == "fail" and result.outcome_as_expected
    assert all(not v.passed for v in result.flows)
    assert result.aborted and "hard limit" in result.aborted
    assert result.state_diff == []


def test_preflight_refuses_when_core2_is_already_down(hospital: Lab, tmp_path: Path,
                                                      journal: Path) -> None:
    before = LabNetwork(hospital).snapshot()
    hospital.node_down("core2")
    try:
        hospital.wait_converged(timeout=30)
        with pytest.raises(GateRefused, match="core2"):
            run(hospital, scenario_for(hospital, "core1-power-loss", tmp_path), tmp_path)
        assert hospital.frr("core1").pids() and pending(journal) == []
    finally:
        hospital.node_up("core2")
    hospital.wait_converged(timeout=60)
    assert snapshot.diff(before, LabNetwork(hospital).snapshot()) == []


def test_baseline_refused_when_a_flow_already_fails(hospital: Lab, tmp_path: Path,
                                                    journal: Path) -> None:
    """dist-dc filters DICOM before the run: the run waits for a clean baseline, then refuses
    and injects nothing."""
    rule = ["nft", "add table inet fo_test; add chain inet fo_test blockdicom { type filter "
            "hook forward priority 0; }; add rule inet fo_test blockdicom tcp dport 104 drop"]
    hospital.run("dist-dc", rule)
    try:
        with pytest.raises(BaselineNotClean, match="ward-pacs-imaging →: no probe received"):
            run(hospital, scenario_for(hospital, "core1-power-loss", tmp_path,
                                       timings={"baseline_s": 1}), tmp_path)
        assert hospital.frr("core1").pids() and pending(journal) == []
    finally:
        hospital.run("dist-dc", ["nft", "delete table inet fo_test"])


def test_kill9_during_hold_then_recover_leaves_nothing(hospital: Lab, tmp_path: Path,
                                                       journal: Path) -> None:
    before = LabNetwork(hospital).snapshot()
    path = scenario_for(hospital, "core1-silent-blackhole", tmp_path,
                        timings={"hold_s": 60, "baseline_s": 1})
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(path)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "FAILOVER_JOURNAL_DIR": str(journal)})
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "injecting" in line:
                break
        assert "injecting" in seen[-1], "".join(seen)
        time.sleep(1.0)
        qdiscs = subprocess.run(["tc", "-n", hospital.ns("core1"), "qdisc"], capture_output=True,
                                text=True).stdout
        assert "pfifo" in qdiscs, qdiscs  # the fault is really in place
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert pending(journal), "the journal must hold the fault the killed run left"
    out = subprocess.run([sys.executable, "-m", "harness", "recover"], capture_output=True,
                         text=True, env={**os.environ, "FAILOVER_JOURNAL_DIR": str(journal)})
    assert out.returncode == 0 and "restored" in out.stdout, out.stdout + out.stderr
    assert "pfifo" not in subprocess.run(["tc", "-n", hospital.ns("core1"), "qdisc"],
                                         capture_output=True, text=True).stdout
    hospital.wait_converged(timeout=60)
    assert snapshot.diff(before, LabNetwork(hospital).snapshot()) == []
    assert pending(journal) == []


def test_broken_scenario_changes_nothing(hospital: Lab, tmp_path: Path) -> None:
    path = scenario_for(hospital, "core1-power-loss", tmp_path)
    path.write_text(path.read_text().replace("node: core1", "node: core7"))
    before = LabNetwork(hospital).snapshot()
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(path)], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"{path}:" in proc.stderr and "unknown node 'core7'" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert snapshot.diff(before, LabNetwork(hospital).snapshot()) == []


def test_a_restarted_core_advertises_max_metric_even_after_frr_saved_its_config(
        hospital: Lab) -> None:
    """FRR's own `write memory` (as a NAPALM commit saves) puts `router ospf` after the
    interfaces, where its `max-metric router-lsa on-startup` never applies; the lab still
    starts core1 with the window open."""
    frr = hospital.frr("core1")
    frr.vtysh("write memory")
    saved = (frr.etc / "frr.conf").read_text()
    assert saved.index("\nrouter ospf") > saved.index("\ninterface ")  # FRR's own order
    kernel, daemons = LabKernel(hospital), hospital.node("core1").frr.daemons  # type: ignore[union-attr]

    def window_open() -> bool:
        try:
            areas = frr.vty_jsons("ospfd", "show ip ospf json")[0].get("areas", {})
        except HarnessError:  # still starting
            return False
        return any("activeStartupRemainderMsecs" in a for a in areas.values())
    try:
        kernel.kill_frr("core1", daemons)
        kernel.start_frr("core1", daemons)
        wait_for(window_open, timeout=3.0)
    finally:
        kernel.close()
        hospital.wait_converged(timeout=60)
