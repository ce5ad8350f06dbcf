"""N-1 sweep logic without a lab (pure logic): elements selected, predictions from given
forwarding tables, surprises, the campaign's outcome with accepted single points, and
`compare`'s tolerance."""

from __future__ import annotations

import copy
import re
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from test_scenario_load import _real_core1

from harness.errors import HarnessError, InputError
from harness.faults.link_cut import LinkCut
from harness.faults.node_power_loss import NodePowerLoss
from harness.faults.vrrp_master_loss import VrrpMasterLoss
from harness.scenario.load import load_scenario, require_commit
from harness.sweep.compare import compare
from harness.sweep.elements import Failure, SweepError, failures
from harness.sweep.model import Selection, SweepSpec
from harness.sweep.predict import flow_paths, predict, topology_paths
from harness.topology import load_topology

HOSPITAL = ROOT / "topologies/hospital-core.clab.yml"


def test_selections_pick_links_and_nodes_by_kind_group_label_and_name() -> None:
    topo = load_topology(HOSPITAL)
    spec = SweepSpec(each=[Selection(elements="router-links", fault="link-cut",
                                     labels={"role": "core"}, match="core2"),
                           Selection(elements="routers", fault="routing-daemon-crash",
                                     group="distribution")])
    found = [f.element for f in failures(topo, spec)]
    assert found == ["link core1:eth1 -- core2:eth1", "link core2:eth2 -- dist-dc:eth2",
                     "link core2:eth3 -- dist-care:eth2", "router dist-dc", "router dist-care"]
    hosts = SweepSpec(each=[Selection(elements="host-links", fault="silent-blackhole")])
    assert len(failures(topo, hosts)) == 7
    with pytest.raises(SweepError, match=r"sweep.each\[0\]: no routers of topology"):
        failures(topo, SweepSpec(each=[Selection(elements="routers", fault="link-cut",
                                                 match="nosuch*")]))
    with pytest.raises(SweepError, match=r"sweep.each\[0\].fault: unknown fault kind"):
        failures(topo, SweepSpec(each=[Selection(elements="routers", fault="meteor")]))


def test_predictions_follow_the_tables_and_fall_back_to_the_topology() -> None:
    loaded = load_scenario(ROOT / "scenarios/hospital-core-n1.yml")
    topo = loaded.topology
    ed, ehr = IPv4Address("198.19.20.10"), IPv4Address("198.19.10.10")
    net = IPv4Network("198.19.10.0/24")
    default = IPv4Network("0.0.0.0/0")
    fwd = {"ed": [(default, ("eth1",))], "dist-care": [(net, ("eth1",))],  # only via core1
           "core1": [(net, ("eth2",))], "dist-dc": [(net, ("eth3",))]}
    from_tables = flow_paths(topo, fwd, "ed", "ehr", ehr)
    assert from_tables.source == "forwarding tables"
    assert from_tables.nodes == {"ed", "dist-care", "core1", "dist-dc", "ehr"}
    fallback = flow_paths(topo, {}, "ed", "ehr", ed)
    assert fallback.source == "topology" and fallback == topology_paths(topo, "ed", "ehr")
    assert {"core1", "core2"} <= fallback.nodes  # both shortest paths
    paths = {"ed->ehr": from_tables, "fallback": fallback}
    by = {p.failure.element: p for p in predict(topo, loaded.flows, loaded.failures, paths)}
    assert by["router core1"].certain == {"ed->ehr"}  # its only path
    assert by["router core1"].affected == {"ed->ehr", "fallback"}
    assert "fallback" not in by["router core1"].certain  # core2 is a way around
    assert by["router core2"].affected == {"fallback"}
    assert by["link core1:eth1 -- core2:eth1"].affected == set()
    assert by["router dist-dc"].cuts and not by["router core1"].cuts


def test_predictions_cross_layer_2_domains_and_know_a_hosts_gateways() -> None:
    """hospital-campus: ED's hosts reach the datacenter through a VRRP gateway on either core,
    over a dual-homed access switch (its tables as the lab reads them: switches have none)."""
    loaded = load_scenario(ROOT / "scenarios/campus-core1-power-loss.yml")
    topo = loaded.topology
    lab, dc = IPv4Network("198.18.0.0/15"), IPv4Network("198.19.10.0/24")
    ed_net = IPv4Network("198.19.20.0/24")
    fwd = {"ed": [(lab, ("eth1",)), (ed_net, ("eth1",))], "acc-ed": [], "dc-lan": [],
           "core1": [(dc, ("eth2",)), (ed_net, ("br-ed",))],
           "core2": [(dc, ("eth2",)), (ed_net, ("br-ed",))],
           "dist-dc": [(dc, ("eth3",)), (ed_net, ("eth1", "eth2"))],
           "ehr": [(dc, ("eth1",)), (lab, ("eth1",))]}
    there = flow_paths(topo, fwd, "ed", "ehr", IPv4Address("198.19.10.10"))
    back = flow_paths(topo, fwd, "ehr", "ed", IPv4Address("198.19.20.10"))
    assert there.source == back.source == "forwarding tables"
    assert there.gateways == {"core1", "core2"} and back.gateways == {"dist-dc"}
    assert {"acc-ed", "core1", "core2", "dist-dc", "dc-lan", "ehr"} <= there.nodes
    assert "ad" not in there.nodes | back.nodes  # on dc-lan, but not where ehr's traffic goes
    assert ("core1", "br-ed") in there.ports and ("dc-lan", "dc-lan") in there.ports
    failures = [Failure("router core1", NodePowerLoss(node="core1")),
                Failure("uplink", LinkCut(link="acc-ed:eth2")),
                Failure("vrrpd", VrrpMasterLoss(node="core1", vrid=20, how="daemon")),
                Failure("lan", VrrpMasterLoss(node="core1", vrid=20)),
                Failure("host ad", NodePowerLoss(node="ad"))]
    by = {p.failure.element: p for p in predict(topo, loaded.flows, failures,
                                                {"there": there, "back": back})}
    assert by["router core1"].affected == {"there", "back"} and not by["router core1"].certain
    assert by["uplink"].affected == {"there", "back"} and not by["uplink"].certain
    assert by["vrrpd"].affected == {"there"}  # only the way out enters through the gateway
    assert by["lan"].affected == {"there", "back"}
    assert by["host ad"].affected == set()


def cell(direction: str, outage: float, passed: bool = True) -> dict[str, Any]:
    return {"direction": direction, "critical": True, "passed": passed, "outage_ms": outage,
            "sla_ms": 300.0}


def campaign(*cells: dict[str, Any], cuts: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"scenario": "s", "started_ns": 0, "incomplete": None, "failures": [
        {"element": "router core1", "cuts": [], "cells": list(cells)},
        {"element": "router dist-dc", "cuts": list(cuts), "cells": []}]}


def test_compare_flags_what_got_worse_beyond_the_tolerance() -> None:
    old = campaign(cell("a", 100.0), cell("b", 5.0), cell("c", 100.0))
    assert not compare(old, copy.deepcopy(old)).regressed
    within = campaign(cell("a", 120.0), cell("b", 15.0), cell("c", 100.0))  # 20 %, 10 ms
    assert not compare(old, within).regressed
    worse = campaign(cell("a", 121.0), cell("b", 16.0), cell("c", 400.0, passed=False),
                     cuts=("voip",))
    got = compare(old, worse).regressions
    assert got == ["router core1 :: a: outage 100 -> 121 ms",
                   "router core1 :: b: outage 5 -> 16 ms",
                   "router core1 :: c: new SLA miss (400 ms > SLA 300 ms; was 100 ms)",
                   "router dist-dc: new single point of failure (cuts voip)"]
    assert compare(old, worse, min_ms=20, pct=25).regressions[0].startswith("router core1 :: c")


def _device_sweep(tmp_path: Path, fault: str) -> Path:
    path = _real_core1(tmp_path)
    text = re.sub(r"faults:\n(  - .*\n)+", f"sweep:\n  each:\n    - {{elements: router-links, "
                  f"fault: {fault}, match: core1}}\n", path.read_text())
    path.write_text(text)
    return path


def test_a_sweep_on_real_devices_uses_napalm_faults_and_needs_commit(tmp_path: Path) -> None:
    loaded = load_scenario(_device_sweep(tmp_path, "interface-shutdown"))
    shut = [f.fault for f in loaded.failures]
    assert [(f.node, f.interfaces) for f in shut] == [  # type: ignore[attr-defined]
        ("core1", ["eth1"]), ("core1", ["eth2"]), ("core1", ["eth3"])]
    assert all(f.spec.host == "core1.mgmt.example" for f in shut)  # type: ignore[attr-defined]
    with pytest.raises(HarnessError, match="would change real devices: core1 .eos at "
                                           "core1.mgmt.example.*give --commit"):
        require_commit(loaded, commit=False)
    with pytest.raises(InputError, match=r": sweep: link-cut act\(s\) on the built-in lab's "
                                         "kernel; on real devices use planned-drain"):
        load_scenario(_device_sweep(tmp_path, "link-cut"))


def test_a_topology_and_a_flows_file_are_enough_to_plan_a_sweep() -> None:
    from typer.testing import CliRunner

    from harness.cli import app
    out = CliRunner().invoke(app, ["sweep", "--topology",
                                   str(ROOT / "topologies/hospital-core.clab.yml"), "--flows",
                                   str(ROOT / "scenarios/flows/hospital-critical.yml"),
                                   "--dry-run"], terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "N-1 sweep hospital-core-n1 on hospital-core: 9 single failures" in out.output
    assert out.output.count("SINGLE POINT OF FAILURE") == 2  # the distribution routers
    faults = CliRunner().invoke(app, ["sweep", str(ROOT / "scenarios/core1-power-loss.yml")])
    assert isinstance(faults.exception, InputError)  # main() prints it as one line, exit 2
    assert ": sweep: not a sweep (it has faults: use `failover run`)" in str(faults.exception)
