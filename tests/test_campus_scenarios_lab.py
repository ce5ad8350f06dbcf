"""The campus scenarios and fault kinds on a real hospital-campus lab: the gateway moves and
layer 2 re-forms, a planned move loses nothing, an access uplink cut hits only its VLAN, the
control misses its SLA, and the gate refuses a core loss while the other core's VRRP is down."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import scenario_for, wait_for

from harness.engine.runner import ScenarioRunner
from harness.faults import Guard, Journal, Target, build, pending
from harness.faults.vrrp_priority_drop import VrrpPriorityDrop
from harness.lab import Lab
from harness.lab.vrrp import read_members
from harness.scenario.gate import GateRefused
from harness.scenario.load import load_scenario
from harness.scenario.network import network_for
from harness.scenario.results import RunResult

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("journal")]
CARE = ("ed-patient-records", "ward-pacs-imaging", "voip-media", "ed-ward-handover")
STP_S = 4.0  # forward_delay on every campus bridge: listening, then learning


def run(lab: Lab, ref: str, tmp: Path, **changes: object) -> RunResult:
    loaded = load_scenario(scenario_for(lab, ref, tmp, **changes))
    return ScenarioRunner(loaded, network_for(loaded, lab), tmp / "run").run()


def status(lab: Lab, router: str, vrid: int = 20) -> str:
    return next((m.status for m in read_members(lab, router) if m.vrid == vrid), "absent")


def outages(result: RunResult) -> dict[str, float]:
    return {v.direction: v.failover.outage_ms for v in result.flows}


def why(result: RunResult) -> str:
    """What a failed verdict needs to be understood: both windows, reasons, the run's state."""
    return repr({"flows": {v.direction: (v.failover.outage_ms, v.failback.outage_ms,
                                         v.failover_verdict.reasons, v.failback_verdict.reasons)
                           for v in result.flows},
                 "aborted": result.aborted, "incomplete": result.incomplete,
                 "state_diff": result.state_diff, "probe_problems": result.probe_problems})


def test_core1_power_loss_moves_every_gateway_and_reforms_layer2(campus: Lab,
                                                                 tmp_path: Path) -> None:
    result = run(campus, "campus-core1-power-loss", tmp_path)
    assert result.sla_met and result.outcome_as_expected, why(result)
    assert result.state_diff == []
    # every care VLAN's access switch forwarded on core1's uplink: each flow waited for its
    # uplink to core2 to listen and learn (spanning tree), far longer than VRRP's ~0.35 s
    assert all(2 * STP_S * 1000 * 0.75 < ms < 10_000 for ms in outages(result).values()), \
        outages(result)


def test_planned_gateway_move_loses_nothing(campus: Lab, tmp_path: Path) -> None:
    result = run(campus, "campus-gateway-move", tmp_path)
    assert result.sla_met and result.outcome_as_expected, why(result)
    assert all(v.failover.lost == 0 and v.failback.lost == 0 for v in result.flows)
    assert result.state_diff == []


def test_priority_drop_moves_the_gateway_and_its_restore_brings_it_back(campus: Lab,
                                                                        journal: Path) -> None:
    fault = VrrpPriorityDrop(node="core1", interface="br-ed", vrid=20, priority=50)
    with Guard(campus, Journal(journal)) as guard:
        guard.inject(fault)
        assert fault.restore_priority == 200  # from the topology, before it was journaled
        wait_for(lambda: status(campus, "core2") == "Master", timeout=5)
        wait_for(lambda: status(campus, "core1") == "Backup", timeout=5)
        assert status(campus, "core2", 21) == "Backup"  # the other VLANs stay on core1
    wait_for(lambda: status(campus, "core1") == "Master" and status(campus, "core2") == "Backup",
             timeout=5)
    assert " vrrp 20 priority 200" in campus.vtysh("core1", "show running-config")
    assert pending(journal) == []


def test_access_uplink_cut_hits_only_its_vlan(campus: Lab, tmp_path: Path) -> None:
    result = run(campus, "campus-access-uplink-cut", tmp_path)
    assert result.sla_met and result.outcome_as_expected, why(result)
    hit = {d: ms for d, ms in outages(result).items() if ms}
    assert hit and all(d.startswith(("ed-patient-records", "ed-ward-handover")) for d in hit), hit
    assert all(ms > 2 * STP_S * 1000 * 0.75 for ms in hit.values()), hit
    assert result.state_diff == []


def test_the_control_misses_its_sla(campus: Lab, tmp_path: Path) -> None:
    result = run(campus, "campus-stp-too-slow", tmp_path)
    assert result.expect == "fail" and not result.sla_met and result.outcome_as_expected
    assert all(not v.passed for v in result.flows)
    assert result.state_diff == []


def test_gate_refuses_core1_loss_while_core2_vrrp_is_down(campus: Lab, tmp_path: Path,
                                                          journal: Path) -> None:
    target = Target(campus)
    core1 = campus.frr("core1").pids()
    target.kernel.kill_frr("core2", ["vrrpd"])  # watchfrr first: it stays down
    try:
        campus.wait_converged(timeout=30)
        with pytest.raises(GateRefused) as err:
            run(campus, "campus-core1-power-loss", tmp_path)
        line = str(err.value)
        assert "\n" not in line
        assert ("ed-patient-records, ed-ward-handover: ed's gateway 198.19.20.1 (VRRP group 20 "
                "of core1:br-ed, core2:br-ed) has no member left: core1 is taken out by the "
                "fault; core2: vrrpd not running") in line
        assert campus.frr("core1").pids() == core1 and pending(journal) == []  # nothing injected
    finally:
        target.kernel.start_frr("core2", campus.topology.nodes["core2"].frr.daemons)  # type: ignore[union-attr]
        target.close()
    campus.wait_converged(timeout=60)


@pytest.mark.parametrize("how", ["interface", "daemon"])
def test_master_loss_hands_the_gateway_over_and_is_restored(campus: Lab, journal: Path,
                                                            how: str) -> None:
    fault = build("vrrp-master-loss", {"node": "core1", "vrid": 21, "how": how})
    with Guard(campus, Journal(journal)) as guard:
        guard.inject(fault)
        wait_for(lambda: status(campus, "core2", 21) == "Master", timeout=5)
        if how == "daemon":
            assert "vrrpd" not in campus.frr("core1").pids()
    wait_for(lambda: "vrrpd" in campus.frr("core1").pids(), timeout=10)
    campus.wait_converged(timeout=60)  # core1 the one master again, spanning tree re-formed
    assert status(campus, "core1", 21) == "Master" and status(campus, "core2", 21) == "Backup"
    assert pending(journal) == []


def test_stp_root_bridge_down_and_a_non_root_refused(campus: Lab, journal: Path) -> None:
    with pytest.raises(Exception, match="acc-ed:br0 is not the STP root now"), \
            Guard(campus, Journal(journal)) as guard:
        guard.inject(build("stp-root-failure", {"node": "acc-ed", "how": "bridge"}))
    fault = build("stp-root-failure", {"node": "core1", "bridge": "br-ward", "how": "bridge"})
    with Guard(campus, Journal(journal)) as guard:
        guard.inject(fault)
        time.sleep(0.5)
        assert "DOWN" in campus.run("core1", ["ip", "-br", "link", "show", "br-ward"])
    assert "UP" in campus.run("core1", ["ip", "-br", "link", "show", "br-ward"])
    campus.wait_converged(timeout=60)  # core1 the root again
    assert pending(journal) == []
