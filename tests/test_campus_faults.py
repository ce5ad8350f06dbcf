"""The campus fault kinds and the redundancy gate on hospital-campus, without a lab: each kind's
parameters and declared scope, the campus scenarios' predicted cuts, the gate's one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_run import failover
from conftest import ROOT, TOPOLOGIES

from harness.errors import InputError
from harness.faults import FaultError, Scope, build
from harness.scenario.gate import GateRefused, check_gate, paths_cut
from harness.scenario.load import load_scenario
from harness.topology import load_topology

CAMPUS = TOPOLOGIES / "hospital-campus.clab.yml"
SCENARIOS = ("campus-core1-power-loss", "campus-gateway-move", "campus-access-uplink-cut",
             "campus-stp-too-slow")


@pytest.mark.parametrize(("kind", "params", "scope"), [
    ("vrrp-master-loss", {"node": "core1", "vrid": 20},
     Scope(ports=frozenset({("core1", "br-ed")}))),
    ("vrrp-master-loss", {"node": "core1", "vrid": 21, "how": "daemon"},
     Scope(gateways=frozenset({"core1"}), keeps_forwarding=True)),
    ("vrrp-priority-drop", {"node": "core1", "interface": "br-voip", "vrid": 22},
     Scope(keeps_forwarding=True)),
    ("stp-root-failure", {"node": "core1", "bridge": "br-ward"},
     Scope(nodes=frozenset({"core1"}))),
    ("stp-root-failure", {"node": "acc-ed", "how": "bridge"},
     Scope(ports=frozenset({("acc-ed", "br0")}))),
])
def test_each_campus_kind_declares_what_it_takes_out(kind: str, params: dict[str, Any],
                                                     scope: Scope) -> None:
    fault = build(kind, params)
    assert fault.scope(load_topology(CAMPUS)) == scope
    assert fault.describe().startswith(kind) and "\n" not in fault.describe()


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("vrrp-master-loss", {"node": "core1", "vrid": 0}, "vrid must be in [1, 255], not 0"),
    ("vrrp-master-loss", {"node": "core1", "vrid": 20, "how": "power"},
     "how must be one of interface, daemon, not 'power'"),
    ("vrrp-priority-drop", {"node": "core1", "interface": "br-ed", "vrid": 20, "priority": 255},
     "priority must be in [1, 254], not 255"),
    ("vrrp-priority-drop", {"node": "core1", "interface": "br-ed", "vrid": 20,
                            "device": {"driver": "eos", "host": "192.0.2.1"}},
     "no VRRP priority syntax known for NAPALM driver 'eos' (known for: frr): make the "
     "gateway move an operator step of a runbook"),
    ("vrrp-priority-drop", {"node": "core1", "interface": "br-ed", "vrid": 20,
                            "device": {"driver": "ios", "host": "192.0.2.1"}},
     "cannot commit with commit-confirm"),
    ("stp-root-failure", {"node": "core1", "how": "cable"}, "how must be one of power, bridge"),
])
def test_bad_parameters_are_one_line(kind: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultError) as err:
        build(kind, params)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("vrrp-master-loss", {"node": "core1", "vrid": 30},
     "core1 is no member of VRRP group 30 in topology hospital-campus (its groups: 20 on br-ed, "
     "21 on br-ward, 22 on br-voip)"),
    ("vrrp-master-loss", {"node": "dist-dc", "vrid": 20}, "dist-dc is no member of VRRP group"),
    ("vrrp-priority-drop", {"node": "core1", "interface": "br-ed", "vrid": 20, "priority": 150},
     "priority 150 is not below the backup's (100) in VRRP group 20 of core1:br-ed, "
     "core2:br-ed: the gateway would not move"),
    ("stp-root-failure", {"node": "core1"}, "core1 has 3 STP bridges: name one with bridge"),
    ("stp-root-failure", {"node": "ed"}, "ed has no STP bridge in topology hospital-campus"),
])
def test_a_fault_naming_what_the_topology_lacks_is_refused(kind: str, params: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(FaultError) as err:
        build(kind, params).scope(load_topology(CAMPUS))
    assert message in str(err.value) and "\n" not in str(err.value)


def campus_scenario(tmp: Path, name: str, **changes: Any) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / f"{name}.yml").read_text())
    data["topology"] = str(CAMPUS)
    data["flows_from"] = [str(ROOT / "scenarios" / f) for f in data["flows_from"]]
    data.update(changes)
    path = tmp / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_loader_refuses_a_group_the_topology_lacks_at_its_line(tmp_path: Path) -> None:
    path = campus_scenario(tmp_path, "campus-core1-power-loss",
                           faults=[{"kind": "vrrp-master-loss", "node": "core2", "vrid": 99}])
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}:") and "faults[0]" in str(err.value)
    assert "core2 is no member of VRRP group 99" in str(err.value)


@pytest.mark.parametrize("name", SCENARIOS)
def test_campus_scenarios_keep_every_critical_path(name: str) -> None:
    loaded = load_scenario(ROOT / "scenarios" / f"{name}.yml")
    assert loaded.topology.name == "hospital-campus"
    assert paths_cut(loaded.topology, loaded.flows, loaded.faults) == []


def test_losing_both_cores_cuts_every_campus_flow(tmp_path: Path) -> None:
    loaded = load_scenario(campus_scenario(tmp_path, "campus-core1-power-loss", faults=[
        {"kind": "node-power-loss", "node": "core1"},
        {"kind": "node-power-loss", "node": "core2"}]))
    assert set(paths_cut(loaded.topology, loaded.flows, loaded.faults)) == \
        {cf.flow.name for cf in loaded.flows}


class FakeNetwork:
    """A fake for the gate's three readings: nothing degraded, core2's vrrpd down."""

    def __init__(self, topology: Any, health: dict[tuple[str, str, int], str]) -> None:
        self.topology = topology
        self.health = health
        self.degraded_read = False

    def degraded(self) -> list[str]:
        self.degraded_read = True
        return []

    def gateway_health(self) -> dict[tuple[str, str, int], str]:
        return self.health


def test_the_gate_names_the_flow_the_group_and_why_in_one_line() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "campus-core1-power-loss.yml")
    down = {("core2", iface, vrid): "vrrpd not running"
            for iface, vrid in (("br-ed", 20), ("br-ward", 21), ("br-voip", 22))}
    network = FakeNetwork(loaded.topology, down)
    with pytest.raises(GateRefused) as err:
        check_gate(network, loaded.flows, loaded.faults,  # type: ignore[arg-type]
                   allow_last_path_cut=False)
    line = str(err.value)
    assert "\n" not in line and not network.degraded_read
    assert ("ed-patient-records, ed-ward-handover: ed's gateway 198.19.20.1 (VRRP group 20 of "
            "core1:br-ed, core2:br-ed) has no member left: core1 is taken out by the fault; "
            "core2: vrrpd not running") in line
    assert "voip-media: voip's gateway 198.19.22.1 (VRRP group 22" in line
    one_down = FakeNetwork(loaded.topology, {("core2", "br-ed", 20): "vrrpd not running"})
    with pytest.raises(GateRefused, match="ed-patient-records, ed-ward-handover: "):
        check_gate(one_down, loaded.flows, loaded.faults,  # type: ignore[arg-type]
                   allow_last_path_cut=False)
    check_gate(FakeNetwork(loaded.topology, {}), loaded.flows, loaded.faults,  # type: ignore[arg-type]
               allow_last_path_cut=False)


def test_validate_kinds_lists_the_campus_kinds(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = failover(capsys, monkeypatch, "validate", "--kinds")
    assert code == 0
    for kind in ("vrrp-master-loss (built-in lab)", "stp-root-failure (built-in lab)",
                 "vrrp-priority-drop (lab and real devices (NAPALM))"):
        assert kind in out
