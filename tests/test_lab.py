"""The built-in lab, really brought up: FRR adjacencies, reachability, faults, cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
from conftest import route_via, wait_for

from harness.errors import LabError
from harness.lab import Lab
from harness.lab import netns as netns_mod
from harness.lab.kernelwatch import KernelState, Parsed, read_kernel
from harness.lab.names import FRR_ETC, FRR_RUN, lab_prefix, state_file
from harness.lab.netlink import NetlinkSocket
from harness.lab.procs import alive
from harness.lab.shell import run
from harness.rtnetlink import NETLINK_ROUTE
from harness.topology import load_topology

pytestmark = pytest.mark.lab
FAILOVER = [sys.executable, "-m", "harness"]


def leftovers(name: str) -> list[str]:
    prefix = lab_prefix(name)
    found = [ns for ns in netns_mod.existing() if ns.startswith(prefix)]
    found += [str(p) for root in (FRR_ETC, FRR_RUN) if root.is_dir()
              for p in root.iterdir() if p.name.startswith(prefix)]
    return found + ([str(state_file(name))] if state_file(name).exists() else [])


def test_ospf_and_bfd_up_from_frr_json(two_path: Lab) -> None:
    for router in ("r1", "r2", "r3", "r4"):
        neighbors = two_path.vtysh_json(router, "show ip ospf neighbor json")["neighbors"]
        states = [e["state"] for entries in neighbors.values() for e in entries]
        assert states == ["Full/-", "Full/-"], (router, states)
        bfd = two_path.vtysh_json(router, "show bfd peers json")
        assert sorted(p["status"] for p in bfd) == ["up", "up"], (router, bfd)
    assert "hostname r1" in two_path.vtysh("r1", "show running-config")


def test_hosts_reach_each_other_over_the_primary_path(two_path: Lab) -> None:
    out = two_path.run("h1", ["ping", "-c", "3", "-i", "0.2", "-W", "1", "198.19.2.10"])
    assert " 0% packet loss" in out
    assert route_via(two_path, "r1", "198.19.2.10") == "198.18.2.1"  # r2


def test_link_down_reroutes_and_link_up_restores(two_path: Lab) -> None:
    try:
        two_path.set_link("r1:eth1", up=False)
        assert netns_mod.oper_states(two_path.ns("r1"))["eth1"] == "DOWN"
        assert netns_mod.oper_states(two_path.ns("r2"))["eth1"] != "UP"  # its peer is down
        for node in ("r1", "r2"):  # as `ip` reads them (the harness reads netlink itself)
            shown = json.loads(two_path.run(node, ["ip", "-j", "link", "show"]))
            assert netns_mod.oper_states(two_path.ns(node)) == \
                {i["ifname"]: i["operstate"] for i in shown}
        wait_for(lambda: route_via(two_path, "r1", "198.19.2.10") == "198.18.2.3")  # via r3
        two_path.wait_converged(timeout=30)  # the return path (r4) too
        out = two_path.run("h1", ["ping", "-c", "2", "-i", "0.2", "-W", "1", "198.19.2.10"])
        assert " 0% packet loss" in out
    finally:
        two_path.set_link("r1:eth1", up=True)
    called = time.time_ns()
    convergence = two_path.wait_converged(timeout=30)
    assert called <= convergence.read_ns <= called + convergence.seconds * 1e9  # a round's start
    assert route_via(two_path, "r1", "198.19.2.10") == "198.18.2.1"
    assert netns_mod.oper_states(two_path.ns("r1"))["eth1"] == "UP"
    assert netns_mod.oper_states("fo-no-such-namespace", check=False) == {}
    with pytest.raises(LabError, match="fo-no-such-namespace: links cannot be read"):
        netns_mod.oper_states("fo-no-such-namespace")


def test_a_reused_kernel_reading_follows_route_changes(two_path: Lab) -> None:
    """Routes parsed at one reading are reused at the next only for unchanged messages."""
    sock, parsed = NetlinkSocket(two_path.ns("r1"), NETLINK_ROUTE), Parsed()

    def toward_h2(state: KernelState) -> frozenset[str]:
        return next(hops for prefix, hops in state.ospf_hops.items()
                    if ip_address("198.19.2.10") in ip_network(prefix))
    try:
        two_path.wait_converged(timeout=30)
        first = read_kernel(sock, parsed)
        again = read_kernel(sock, parsed)
        assert again.routes and all(a is b for a, b in zip(again.routes, first.routes,
                                                           strict=True))  # parsed once
        assert first.fib == read_kernel(sock).fib and toward_h2(first) == {"198.18.2.1"}
        two_path.set_link("r1:eth1", up=False)
        wait_for(lambda: route_via(two_path, "r1", "198.19.2.10") == "198.18.2.3")
        rerouted = read_kernel(sock, parsed)
        assert rerouted.fib == read_kernel(sock).fib != first.fib
        assert toward_h2(rerouted) == {"198.18.2.3"}
    finally:
        two_path.set_link("r1:eth1", up=True)
        two_path.wait_converged(timeout=30)
        back = read_kernel(sock, parsed)
        sock.close()
    assert back.fib == first.fib


def test_a_check_held_through_an_instant_reads_again_after_a_change(two_path: Lab) -> None:
    """`through`: converged and no kernel change from then until `through`, or the rounds go
    on (a route added and removed meanwhile: the reading returned is one after it); a stop
    ends the wait within a fraction of a second."""
    two_path.wait_converged(timeout=30)
    start_ns, through = time.time_ns(), time.monotonic() + 1.5
    held = two_path.wait_converged(timeout=30, through=through)
    assert time.monotonic() >= through and start_ns < held.read_ns < start_ns + 0.5e9

    changed: list[int] = []

    def change() -> None:
        time.sleep(0.5)
        for verb in ("add", "del"):
            run(["ip", "-n", two_path.ns("r1"), "route", verb, "blackhole", "198.18.250.0/24"])
        changed.append(time.time_ns())
    changing = threading.Thread(target=change)
    changing.start()
    try:
        again = two_path.wait_converged(timeout=30, through=time.monotonic() + 1.5)
    finally:
        changing.join()
    assert again.read_ns > changed[0] - 0.05e9  # a round begun once the change was seen

    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    begun = time.monotonic()
    with pytest.raises(LabError, match="convergence check stopped"):
        two_path.wait_converged(timeout=30, stop=stop, through=time.monotonic() + 10)
    assert time.monotonic() - begun < 1.0


def test_bfd_runs_before_the_other_daemons(two_path: Lab) -> None:
    """bfdd at nice -10 (a real router's BFD does not wait behind its routing daemons)."""
    nice = {daemon: os.getpriority(os.PRIO_PROCESS, pid)
            for daemon, pid in two_path.frr("r1").pids().items()}
    own = os.getpriority(os.PRIO_PROCESS, 0)  # the lab's processes inherit it
    assert nice == {"watchfrr": own, "zebra": own, "staticd": own, "ospfd": own,
                    "bfdd": max(-20, own - 10)}


def test_global_addresses_as_ip_lists_them(two_path: Lab) -> None:
    for node in two_path.topology.nodes:
        shown = json.loads(two_path.run(node, ["ip", "-j", "-4", "addr", "show", "scope",
                                               "global"]))
        listed = [a["local"] for link in shown for a in link.get("addr_info", []) if a]
        assert listed and netns_mod.global_ipv4(two_path.ns(node)) == listed, node
    with pytest.raises(LabError, match="fo-no-such-namespace: addresses cannot be read"):
        netns_mod.global_ipv4("fo-no-such-namespace")


def test_node_power_loss_and_return(two_path: Lab) -> None:
    frr_pids = set(two_path.frr("r2").pids().values())
    try:
        two_path.node_down("r2")
        assert not two_path.frr("r2").pids()
        assert not any(alive(p) for p in frr_pids)
        wait_for(lambda: route_via(two_path, "r1", "198.19.2.10") == "198.18.2.3")
    finally:
        two_path.node_up("r2")
    two_path.wait_converged(timeout=30)
    assert route_via(two_path, "r1", "198.19.2.10") == "198.18.2.1"


def test_down_leaves_no_namespace_process_or_file(lab_copy: Path) -> None:
    lab = Lab(load_topology(lab_copy))
    lab.up()
    pids = set().union(*(netns_mod.pids(lab.ns(n)) for n in lab.topology.nodes))
    assert len(pids) >= 4 * 5  # watchfrr + zebra, staticd, ospfd, bfdd on each router
    result = lab.down()
    assert len(result.namespaces) == 6
    assert leftovers(lab.name) == []
    assert [p for p in pids if alive(p)] == []


def test_second_up_is_a_no_op_and_another_topology_is_refused(lab_copy: Path,
                                                               tmp_path: Path) -> None:
    lab = Lab(load_topology(lab_copy))
    lab.up()
    assert lab.up().already_up
    other = tmp_path / "other.clab.yml"
    other.write_text(lab_copy.read_text())
    proc = subprocess.run([*FAILOVER, "lab", "up", str(other)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"lab {lab.name} already exists" in proc.stderr
    assert lab.is_up()


def test_lab_killed_half_way_is_cleaned_by_down(lab_copy: Path) -> None:
    name = load_topology(lab_copy).name
    proc = subprocess.Popen([*FAILOVER, "lab", "up", str(lab_copy)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill it once FRR is running but before convergence
    wait_for(lambda: any(p.glob("watchfrr.pid") for p in FRR_RUN.glob(f"{lab_prefix(name)}*")),
             timeout=15)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert leftovers(name), "the killed run should have left something to clean"
    out = subprocess.run([*FAILOVER, "lab", "down", str(lab_copy)], capture_output=True,
                         text=True, check=True).stdout
    assert f"lab {name} removed" in out
    assert leftovers(name) == []


def test_bad_topology_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.clab.yml"
    bad.write_text("name: bad\ntopology:\n  nodes:\n    h1: {kind: linux}\n"
                   "  links:\n    - endpoints: [h1:eth1, ghost:eth1]\n")
    before = netns_mod.existing()
    proc = subprocess.run([*FAILOVER, "lab", "up", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert f"{bad}:6: topology.links[0].endpoints: unknown node 'ghost'" in proc.stderr
    assert netns_mod.existing() == before


def test_status_shows_nodes_links_and_adjacencies(two_path: Lab) -> None:
    out = subprocess.run([*FAILOVER, "lab", "status", two_path.name], capture_output=True,
                         text=True, check=True).stdout
    assert "r1:eth1 -- r2:eth1" in out and "UP / UP" in out
    assert out.count("Full/-") == 8
