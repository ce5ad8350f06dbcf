"""A scenario run on real devices, end to end. The two-path lab stands in for a real network,
but the harness is not told: every router is reached only through its NAPALM driver over
SSH (an sshd in the router's namespaces, as on a router), every host only as an SSH probe
endpoint, through relays (the management network). Reaching the lab any other way fails
the test."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import wait_for
from sshd import relay, sshd

from harness.engine import RunObserver
from harness.engine.runner import ScenarioRunner
from harness.faults import Journal, Target, pending, recover
from harness.lab import Lab
from harness.probes.endpoints import NetnsEndpoint
from harness.scenario.load import load_scenario
from harness.scenario.network import network_for
from napalm_frr.transport import LocalTransport

pytestmark = pytest.mark.lab
PORT = 2222
ROUTERS = ("r1", "r2", "r3", "r4")


@pytest.fixture(scope="module")
def managed(two_path: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An sshd in every node, and the ssh config an engineer would keep for the window."""
    with contextlib.ExitStack() as stack:
        keys, blocks = {}, []
        for node in two_path.topology.nodes:
            ns, tmp = two_path.ns(node), tmp_path_factory.mktemp(f"sshd-{node}")
            uts = ["nsenter", "-t", str(two_path.frr(node).pids()["watchfrr"]), "-u"] \
                if node in ROUTERS else []
            stack.enter_context(sshd(ns, tmp, [f"127.0.0.1:{PORT}"], nsenter=uts))
            keys[node] = tmp / "client"
            blocks.append(f"Host {node} {node}-dead\n  HostName 127.0.0.1\n  User root\n"
                          f"  IdentityFile {tmp}/client\n  UserKnownHostsFile {tmp}/known_hosts\n"
                          f"Host {node}\n  Port {PORT}\n"
                          f"  ProxyCommand {relay(ns, tmp, '127.0.0.1', PORT)}\n"
                          f"Host {node}-dead\n  Port 2299\n"  # nothing listens there
                          f"  ProxyCommand {relay(ns, tmp, '127.0.0.1', 2299)}\n")
        config = tmp_path_factory.mktemp("mgmt") / "ssh_config"
        config.write_text("".join(blocks))
        yield {"lab": two_path, "config": config, "keys": keys}


def scenario(managed: dict[str, Any], tmp: Path, **hosts: str) -> Path:
    """interface-shutdown of r1's link to r2 (the primary path), on devices reached by SSH."""
    lab: Lab = managed["lab"]
    devices = {r: {"driver": "frr", "host": hosts.get(r, r), "username": "root",
                   "optional_args": {"transport": "ssh", "pathspace": lab.ns(r),
                                     "ssh_config_file": str(managed["config"]),
                                     "key_file": str(managed["keys"][r]), "use_keys": True,
                                     "allow_agent": False}} for r in ROUTERS}
    data = {"name": "devices-run", "topology": str(lab.topology.path), "devices": devices,
            "probes": {"h1": {"ssh": "h1", "address": "198.19.1.10"},
                       "h2": {"ssh": "h2", "address": "198.19.2.10"}},
            "ssh_config": str(managed["config"]),
            "flows": [{"name": "records", "src": "h1", "dst": "h2", "application": "https",
                       "sla": {"max_outage_ms": 1000}}],
            "faults": [{"kind": "interface-shutdown", "node": "r1", "interfaces": ["eth1"],
                        "revert_in": 600}],
            "timings": {"baseline_s": 2, "hold_s": 3, "failback_s": 2}}
    path = tmp / "devices-run.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def route(lab: Lab, node: str, dst: str) -> str:
    out = subprocess.run(["ip", "-n", lab.ns(node), "-j", "route", "get", dst],
                         capture_output=True, text=True, check=True).stdout
    return str(json.loads(out)[0].get("gateway", ""))


def test_a_run_on_real_devices_goes_through_napalm_and_ssh_only(
        managed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab: Lab = managed["lab"]
    monkeypatch.setenv("FAILOVER_JOURNAL_DIR", str(tmp_path / "journal"))
    ns = {node: lab.ns(node) for node in lab.topology.nodes}
    loaded = load_scenario(scenario(managed, tmp_path))
    assert loaded.on_devices and loaded.real_devices() == ["r1 (frr at r1)"]

    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("the run reached the lab directly, not through NAPALM or SSH")
    for cls, name in ((Lab, "ns"), (Lab, "frr"), (Lab, "wait_converged"),
                      (LocalTransport, "exec"), (NetnsEndpoint, "spawn")):
        monkeypatch.setattr(cls, name, forbidden)
    during: list[str] = []

    class LookAtR1(RunObserver):  # the test's own look at r1 during the hold
        def tick(self, phase: str, seconds_left: float, flows: object) -> None:
            if phase == "hold" and seconds_left < 1.5 and not during:
                out = subprocess.run(["ip", "-n", ns["r1"], "-j", "route", "get",
                                      "198.19.2.10"], capture_output=True, text=True,
                                     check=True).stdout
                during.append(json.loads(out)[0].get("gateway", ""))
    network = network_for(loaded, None)
    try:
        result = ScenarioRunner(loaded, network, tmp_path / "run", LookAtR1()).run()
    finally:
        network.close()
    monkeypatch.undo()

    assert result.network == "devices"
    assert result.sla_met and result.outcome_as_expected, (
        [(v.direction, v.failover, v.failback) for v in result.flows], result.state_diff,
        result.probe_problems)
    assert during == ["198.18.2.3"], "the shutdown did not move r1's traffic to r3"
    assert route(lab, "r1", "198.19.2.10") == "198.18.2.1"  # back on r2 after the restore
    assert "interface eth1" in result.inject_stamps[0].detail and \
        "shutdown" in result.inject_stamps[0].detail
    assert result.devices["r1"]["hostname"] == "r1"  # get_facts over SSH
    assert len(result.devices["r1"]["ospf_neighbors"]) == 2  # TextFSM over SSH
    before = result.snapshots["before"]["r1"]
    assert "eth1 up" in before["interfaces"] and len(before["ospf"]) == 2
    assert any(line.startswith("198.19.2.10: ") for line in before["routes"])
    assert result.snapshots["after"] == result.snapshots["before"] and not result.state_diff
    running = subprocess.run(["vtysh", "-N", ns["r1"], "-c", "show running-config"],
                             capture_output=True, text=True, check=True).stdout
    assert " shutdown" not in running  # rolled back on the device
    assert pending(tmp_path / "journal", include_live=True) == []


def test_an_unreachable_device_stops_the_run_before_anything_changes(
        managed: dict[str, Any], tmp_path: Path) -> None:
    path = scenario(managed, tmp_path, r2="r2-dead")
    env = {**os.environ, "FAILOVER_JOURNAL_DIR": str(tmp_path / "journal")}
    refused = subprocess.run([sys.executable, "-m", "harness", "run", str(path)], env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "give --commit" in refused.stderr
    run = subprocess.run([sys.executable, "-m", "harness", "run", str(path), "--commit",
                          "--reports", str(tmp_path / "reports")], env=env,
                         capture_output=True, text=True, timeout=120)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert run.returncode == 2 and len(lines) == 1, run.stdout + run.stderr
    assert "device not reachable: r2: " in lines[0] and "r2-dead" in lines[0]
    assert not (tmp_path / "journal").exists() or not pending(tmp_path / "journal")
    assert not list((tmp_path / "reports").glob("*/results.json"))


def test_recover_undoes_a_fault_on_a_real_device_through_napalm(
        managed: dict[str, Any], tmp_path: Path) -> None:
    """After a kill -9, the journal names a network that is no lab: the fault is undone on
    the device (not taken as gone with a lab)."""
    lab: Lab = managed["lab"]
    fault = load_scenario(scenario(managed, tmp_path)).faults[0]
    journal = Journal(tmp_path / "journal")
    journal.record("two-path-devices", fault)  # as a run does before injecting...
    fault.inject(Target(None, "two-path-devices"))  # ...and then it is killed
    assert route(lab, "r1", "198.19.2.10") == "198.18.2.3" or wait_for(
        lambda: route(lab, "r1", "198.19.2.10") == "198.18.2.3")
    done = recover(tmp_path / "journal", include_live=True)
    assert [(r.entry.lab, r.outcome) for r in done] == [("two-path-devices", "restored")]
    assert wait_for(lambda: route(lab, "r1", "198.19.2.10") == "198.18.2.1")
    running = subprocess.run(["vtysh", "-N", lab.ns("r1"), "-c", "show running-config"],
                             capture_output=True, text=True, check=True).stdout
    assert " shutdown" not in running and pending(tmp_path / "journal") == []
