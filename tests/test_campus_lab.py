"""The hospital campus really brought up: VRRP gateways on the cores, STP on the access
bridges, convergence that waits for one master per group and one root per layer-2 domain,
and a split brain reported, not judged converged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import private_copy, wait_for

from harness.errors import LabError
from harness.faults.target import Target
from harness.lab import Lab
from harness.lab import netns as netns_mod
from harness.lab.kernelcheck import NEEDS, kernel_options
from harness.lab.layer2 import Layer2, read_layer2
from harness.lab.names import lab_prefix
from harness.lab.status import lab_status
from harness.lab.teardown import teardown
from harness.network.lab import LabNetwork
from harness.topology import load_topology

pytestmark = pytest.mark.lab
GROUPS = {"VRRP 20 (198.19.20.1)", "VRRP 21 (198.19.21.1)", "VRRP 22 (198.19.22.1)"}


def masters(l2: Layer2) -> dict[str, list[str]]:
    """Each VRRP group's masters now."""
    out: dict[str, list[str]] = {}
    for m in l2.members:
        out.setdefault(m.group, [])
        if m.status == "Master":
            out[m.group].append(m.router)
    return out


def test_up_returns_with_core1_the_one_master_and_root_everywhere(campus: Lab) -> None:
    # while the access bridges listen and learn (8 s) both cores are master: up waited it out
    l2 = read_layer2(campus)
    assert masters(l2) == dict.fromkeys(GROUPS, ["core1"])
    assert l2.waiting() == []
    stp_domains = [sorted(str(b) for b in d) for d in l2.domains]
    assert len(stp_domains) == 3 and all(len(d) == 3 for d in stp_domains)
    assert {l2.root_of(b) for b in l2.bridges if b.stp} == \
        {"core1 br-ed", "core1 br-ward", "core1 br-voip"}
    access = {str(b): b.ports for b in l2.bridges if b.node.startswith("acc-")}
    assert all(ports == {"eth1": "forwarding", "eth2": "blocking", "eth3": "forwarding"}
               for ports in access.values()), access
    for host, server in (("ed", "198.19.10.10"), ("voip", "198.19.10.13")):
        out = campus.run(host, ["ping", "-c", "3", "-i", "0.2", "-W", "1", server])
        assert " 0% packet loss" in out and "duplicates" not in out  # one core routes
    neigh = campus.run("ed", ["ip", "neigh", "show", "198.19.20.1"])
    assert "00:00:5e:00:01:14" in neigh  # the gateway answers with the virtual MAC


def test_status_and_snapshot_show_vrrp_and_stp(campus: Lab) -> None:
    status = lab_status(campus)
    assert ("VRRP 20 (198.19.20.1)", "core2", "br-ed", "Backup", "100", "backup") in status.vrrp
    assert ("acc-ed br0", "core1 br-ed", "eth1",
            "eth1 forwarding, eth2 blocking, eth3 forwarding") in status.stp
    out = subprocess.run([sys.executable, "-m", "harness", "lab", "status", campus.name],
                         capture_output=True, text=True, timeout=60).stdout
    assert "VRRP" in out and "STP" in out
    snap = LabNetwork(campus).snapshot()
    assert "VRRP 21 (198.19.21.1) br-ward Master priority 200" in snap["core1"]["vrrp"]
    assert "br0 eth2 blocking" in snap["acc-ward"]["stp"]
    assert "br-ed root core1 br-ed" in snap["core2"]["stp"]
    assert snap["core1"]["fib"]  # the routing parts are still there


def test_convergence_waits_for_core1_to_be_master_again(campus: Lab) -> None:
    kernel = Target(campus).kernel
    daemons = campus.node("core1").frr.daemons  # type: ignore[union-attr]
    try:
        kernel.kill_frr("core1", ["vrrpd"])
        wait_for(lambda: masters(read_layer2(campus)) == dict.fromkeys(GROUPS, ["core2"]),
                 timeout=10)
        kernel.start_frr("core1", daemons)  # vrrpd back: core1 preempts
        campus.wait_converged(timeout=30)
        assert masters(read_layer2(campus)) == dict.fromkeys(GROUPS, ["core1"])
    finally:
        kernel.start_frr("core1", daemons)
        kernel.close()
    campus.wait_converged(timeout=30)


def test_split_brain_is_reported_not_converged(campus: Lab) -> None:
    # VLAN 20's layer-2 path between the cores cut twice: their own link, and the access
    # switch's uplink to core2 taken out of its bridge (core2's end stays up, alone)
    detach = ["ip", "link", "set", "eth2", "nomaster"]
    try:
        campus.set_link("core1:eth6", up=False)
        campus.run("acc-ed", detach)
        wait_for(lambda: masters(read_layer2(campus))["VRRP 20 (198.19.20.1)"] ==
                 ["core1", "core2"], timeout=25)  # core2's bridge forwards after 8 s
        with pytest.raises(LabError) as err:
            campus.wait_converged(timeout=3)
        assert "VRRP 20 (198.19.20.1): split brain, core1 and core2 are both master" in \
            str(err.value)
        assert "\n" not in str(err.value)
    finally:
        campus.run("acc-ed", ["ip", "link", "set", "eth2", "master", "br0"])
        campus.set_link("core1:eth6", up=True)
    campus.wait_converged(timeout=40)
    assert masters(read_layer2(campus)) == dict.fromkeys(GROUPS, ["core1"])


def test_a_device_type_this_kernel_lacks_is_refused_before_anything(tmp_path: Path) -> None:
    options = kernel_options() or {}
    lacking = [kind for kind, (option, _) in NEEDS.items() if options.get(option, "n") == "n"]
    if not lacking:
        pytest.skip("this kernel has every device type the check knows")
    path = private_copy(tmp_path, "hospital-campus")
    path.write_text(path.read_text().replace(
        "        - ip link set br0 up\n", f"        - ip link set br0 up\n"
                                          f"        - ip link add x0 type {lacking[0]}\n", 1))
    name = load_topology(path).name
    proc = subprocess.run([sys.executable, "-m", "harness", "lab", "up", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"topology.nodes.acc-ed.exec[5]: type {lacking[0]}: this " \
        "kernel" in lines[0] and str(path) in lines[0], proc.stderr
    assert not [ns for ns in netns_mod.existing() if ns.startswith(lab_prefix(name))]
    teardown(name)
