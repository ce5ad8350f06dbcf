"""napalm_frr against real FRR 8.4.4 in the built-in two-path lab (local transport).

h1 - r1 = {r2 primary | r3 backup} = r4 - h2: r1 reaches r4's loopback over eth1 (cost
10 + 10) until eth1 costs more than the backup path (50 + 50).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_origin, get_type_hints

import pytest
from napalm import get_network_driver
from napalm.base import models
from napalm.base.exceptions import (
    CommitConfirmException,
    CommitError,
    MergeConfigException,
    ReplaceConfigException,
)

from harness.lab import Lab
from napalm_frr import FRRDriver
from napalm_frr.models import BFDPeerDict, OSPFNeighborDict

pytestmark = pytest.mark.lab
R4_LOOPBACK = "198.18.0.4/32"
COST_100 = "interface eth1\n ip ospf cost 100\nexit\n"


def model_ok(model: type, data: dict[str, Any]) -> bool:
    hints = get_type_hints(model)
    return set(hints) == set(data) and all(
        isinstance(data[k], get_origin(t) or t) for k, t in hints.items())


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.1) -> float:
    """Seconds until `check()` held; fails the test after `timeout`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not true after {timeout} s: {check.__doc__ or check}")
        time.sleep(step)
    return time.monotonic() - start


def driver_for(lab: Lab, node: str) -> FRRDriver:
    cls = get_network_driver("frr")
    return cls(node, "", "", optional_args={"transport": "local", "pathspace": lab.ns(node)})


def running(device: FRRDriver) -> str:
    return device.get_config(retrieve="running")["running"]


def exit_interface(device: FRRDriver, prefix: str = R4_LOOPBACK) -> set[str]:
    routes = device.get_route_to(prefix)
    return {r["outgoing_interface"] for r in routes.get(prefix, []) if r["current_active"]}


@pytest.fixture
def r1(two_path: Lab) -> Iterator[FRRDriver]:
    """r1's driver; afterwards no revert pending and r1's config as it was."""
    device = driver_for(two_path, "r1")
    device.open()
    before = running(device)
    try:
        yield device
    finally:
        if device.has_pending_commit():
            device.confirm_commit()
        if running(device) != before:
            device.load_replace_candidate(config=before)
            device.commit_config()
        device.close()


def test_getters_match_napalm_models(r1: FRRDriver) -> None:
    assert r1.is_alive() == {"is_alive": True}
    facts = r1.get_facts()
    assert model_ok(models.FactsDict, facts)
    assert (facts["hostname"], facts["vendor"], facts["os_version"]) == ("r1", "FRRouting", "8.4.4")
    assert facts["interface_list"] == ["eth1", "eth2", "eth3", "lo"] and facts["uptime"] > 0
    ifaces = r1.get_interfaces()
    assert all(model_ok(models.InterfaceDict, i) for i in ifaces.values())
    assert ifaces["eth1"]["is_up"] and ifaces["eth1"]["mtu"] == 1500
    assert r1.get_interfaces_ip()["eth3"]["ipv4"] == {"198.19.1.1": {"prefix_length": 24}}
    counters = r1.get_interfaces_counters()
    assert all(model_ok(models.InterfaceCounterDict, c) for c in counters.values())
    assert counters["eth1"]["rx_octets"] > 0  # OSPF hellos and BFD arrive every second
    routes = r1.get_route_to(R4_LOOPBACK)
    assert all(model_ok(models.RouteDict, r) for r in routes[R4_LOOPBACK])
    assert exit_interface(r1) == {"eth1"}
    assert r1.get_bgp_neighbors() == {"global": {"router_id": "", "peers": {}}}  # no bgpd
    assert r1.get_lldp_neighbors() == {}  # no lldpd
    ospf = r1.get_ospf_neighbors()
    assert {i: [n["router_id"] for n in ns] for i, ns in ospf.items()} == \
        {"eth1": ["198.18.0.2"], "eth2": ["198.18.0.3"]}
    assert all(model_ok(OSPFNeighborDict, n) and n["is_up"] for ns in ospf.values() for n in ns)
    bfd = r1.get_bfd_peers()
    assert {p["interface"] for p in bfd if p["is_up"]} == {"eth1", "eth2"}
    assert all(model_ok(BFDPeerDict, p) for p in bfd)
    ping = r1.ping("198.18.0.4", count=3)["success"]
    assert model_ok(models.PingDict, ping) and ping["packet_loss"] == 0
    config = r1.get_config()
    assert "hostname r1" in config["running"] and "no zebra nexthop kernel enable" in \
        config["running"] and "hostname r1" in config["startup"] and config["candidate"] == ""
    assert "Full" in r1.cli(["show ip ospf neighbor"])["show ip ospf neighbor"]
    assert r1.cli(["show bfd peers json"], encoding="json")["show bfd peers json"]


def test_merge_commit_reroutes_and_rollback_restores(r1: FRRDriver) -> None:
    before = running(r1)
    r1.load_merge_candidate(config=COST_100)
    assert r1.compare_config() == "  interface eth1\n-  ip ospf cost 10\n+  ip ospf cost 100"
    assert running(r1) == before  # loading changes nothing
    assert r1.get_config()["candidate"] == COST_100

    start = time.monotonic()
    r1.commit_config(message="eth1 cost 100")
    commit_s = time.monotonic() - start
    assert " ip ospf cost 100" in running(r1) and r1.compare_config() == ""
    reroute_s = wait_for(lambda: exit_interface(r1) == {"eth2"}, timeout=10)

    start = time.monotonic()
    r1.rollback()
    rollback_s = time.monotonic() - start
    assert running(r1) == before
    restore_s = wait_for(lambda: exit_interface(r1) == {"eth1"}, timeout=10)
    print(f"commit {commit_s:.2f} s, reroute {reroute_s:.2f} s, "
          f"rollback {rollback_s:.2f} s, restore {restore_s:.2f} s")


def test_replace_applies_exactly_the_candidate(r1: FRRDriver) -> None:
    before = running(r1)
    candidate = before.replace(" ip ospf cost 50\n", " ip ospf cost 60\n").replace(
        "interface eth3\n", "interface eth3\n description to-h1\n")
    r1.load_replace_candidate(config=candidate)
    assert r1.compare_config() == ("  interface eth2\n-  ip ospf cost 50\n+  ip ospf cost 60\n"
                                   "  interface eth3\n+  description to-h1")
    start = time.monotonic()
    r1.commit_config()
    print(f"replace commit {time.monotonic() - start:.2f} s")
    assert running(r1) == candidate
    assert r1.get_interfaces()["eth3"]["description"] == "to-h1"
    r1.load_replace_candidate(config=candidate)
    assert r1.compare_config() == ""
    r1.discard_config()
    assert r1.compare_config() == "" and r1.get_config()["candidate"] == ""


def test_broken_candidates_are_rejected_and_change_nothing(r1: FRRDriver) -> None:
    before = running(r1)
    broken = before.replace(" ip ospf cost 10\n", " ip ospf cost 10\n ip ospf bogus 3\n")
    with pytest.raises(ReplaceConfigException, match="Unknown command.*ip ospf bogus 3"):
        r1.load_replace_candidate(config=broken)
    with pytest.raises(MergeConfigException, match="needs bgpd, which is not running"):
        r1.load_merge_candidate(config="router bgp 65001\n bgp router-id 1.1.1.1\nexit\n")
    with pytest.raises(CommitError, match="nothing to commit"):
        r1.commit_config()
    # Valid syntax that ospfd refuses: vtysh applies the first half, the driver undoes it.
    r1.load_merge_candidate(config="interface eth1\n description half-applied\nexit\n"
                                   "router ospf\n network 198.18.2.0/31 area 0\nexit\n")
    with pytest.raises(CommitError, match="(?s)restored the previous config.*ip ospf area"):
        r1.commit_config()
    assert running(r1) == before
    # The same refusal inside a replace: frr-reload applies part of it, the driver undoes it.
    r1.load_replace_candidate(config=before.replace(" ip ospf cost 50\n", " ip ospf cost 60\n")
                              + "router ospf\n network 198.18.2.0/31 area 0\nexit\n")
    with pytest.raises(CommitError, match="restored the previous config"):
        r1.commit_config()
    assert running(r1) == before


def test_revert_in_reverts_unless_confirmed(r1: FRRDriver) -> None:
    before = running(r1)
    r1.load_merge_candidate(config=COST_100)
    start = time.monotonic()
    r1.commit_config(revert_in=3)
    assert r1.has_pending_commit() and " ip ospf cost 100" in running(r1)
    r1.load_merge_candidate(config="interface eth1\n ip ospf cost 200\nexit\n")
    with pytest.raises(CommitError, match="waiting for confirmation"):
        r1.commit_config()
    r1.discard_config()
    wait_for(lambda: not r1.has_pending_commit(), timeout=10)
    print(f"reverted {time.monotonic() - start:.2f} s after commit_config(revert_in=3)")
    assert running(r1) == before
    with pytest.raises(CommitConfirmException, match="no commit is waiting"):
        r1.confirm_commit()


def test_confirm_commit_cancels_the_revert(r1: FRRDriver) -> None:
    r1.load_merge_candidate(config=COST_100)
    r1.commit_config(revert_in=2)
    r1.confirm_commit()
    assert not r1.has_pending_commit()
    time.sleep(3)
    assert " ip ospf cost 100" in running(r1)


def test_rollback_during_a_pending_commit_cancels_it(r1: FRRDriver) -> None:
    before = running(r1)
    r1.load_merge_candidate(config=COST_100)
    r1.commit_config(revert_in=30)
    r1.rollback()
    assert not r1.has_pending_commit() and running(r1) == before


COMMITTER = """
import sys, time
from napalm import get_network_driver
device = get_network_driver("frr")("r1", "", "", optional_args={"pathspace": sys.argv[1]})
device.open()
device.load_merge_candidate(config=sys.argv[2])
device.commit_config(revert_in=3)
print("committed", flush=True)
time.sleep(60)
"""


def test_revert_happens_after_the_committing_process_is_killed(
        r1: FRRDriver, two_path: Lab) -> None:
    before = running(r1)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", COMMITTER, two_path.ns("r1"), COST_100],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "committed"
        start = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        assert r1.has_pending_commit() and " ip ospf cost 100" in running(r1)
        wait_for(lambda: not r1.has_pending_commit(), timeout=10)
        print(f"reverted {time.monotonic() - start:.2f} s after SIGKILL of the committer")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert running(r1) == before


def _start_bgpd(lab: Lab, node: str) -> int:
    """bgpd for a lab router (the lab runs none); its pid, for killing it afterwards."""
    frr = lab.frr(node)
    watchfrr = frr.pids()["watchfrr"]
    subprocess.run(["nsenter", "-t", str(watchfrr), "-u", "-n", "/usr/lib/frr/bgpd", "-N",
                    frr.pathspace, "-d", "-A", "127.0.0.1"], check=True, timeout=10)
    return int((frr.rundir / "bgpd.pid").read_text().split()[0])


BGP = """router bgp {asn}
 bgp router-id {rid}
 timers bgp 1 3
 neighbor {peer} remote-as {peer_as}
 neighbor {peer} description {desc}
 neighbor {peer} timers connect 1
 address-family ipv4 unicast
  network {rid}/32
  neighbor {peer} route-map ALL in
  neighbor {peer} route-map ALL out
 exit-address-family
exit
route-map ALL permit 10
exit
"""


def test_bgp_session_and_route(two_path: Lab, r1: FRRDriver) -> None:
    r2 = driver_for(two_path, "r2")
    r2.open()
    r2_before = running(r2)
    pids = []
    try:
        pids = [_start_bgpd(two_path, "r1"), _start_bgpd(two_path, "r2")]
        r1.load_merge_candidate(config=BGP.format(asn=65001, rid="198.18.0.1", peer="198.18.2.1",
                                                  peer_as=65002, desc="to-r2"))
        r1.commit_config()
        r2.load_merge_candidate(config=BGP.format(asn=65002, rid="198.18.0.2", peer="198.18.2.0",
                                                  peer_as=65001, desc="to-r1"))
        r2.commit_config()

        def established() -> bool:
            """r1's session to r2 is up with r2's loopback received, and in zebra's RIB"""
            peer = r1.get_bgp_neighbors()["global"]["peers"].get("198.18.2.1")
            return bool(peer and peer["is_up"] and peer["address_family"]["ipv4"][
                "received_prefixes"] and r1.get_route_to("198.18.0.2/32", protocol="bgp"))
        print(f"BGP established in {wait_for(established, timeout=15):.2f} s")
        result = r1.get_bgp_neighbors()
        assert result["global"]["router_id"] == "198.18.0.1"
        peer = result["global"]["peers"]["198.18.2.1"]
        assert model_ok(models.BGPStateNeighborDict, peer)
        assert (peer["remote_as"], peer["remote_id"], peer["description"]) == \
            (65002, "198.18.0.2", "to-r2")
        bgp = r1.get_route_to("198.18.0.2/32", protocol="bgp")["198.18.0.2/32"]
        assert [(r["current_active"], r["next_hop"]) for r in bgp] == [(True, "198.18.2.1")]
        assert bgp[0]["protocol_attributes"]["as_path"] == "65002"
    finally:
        if running(r2) != r2_before:
            r2.load_replace_candidate(config=r2_before)
            r2.commit_config()
        r2.close()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)


def test_lldp_neighbors_from_a_real_lldpd(two_path: Lab) -> None:
    """lldpd on both ends of r1:eth3 - h1:eth1, one control socket per namespace."""
    if shutil.which("lldpd") is None:
        pytest.fail("lldpd is not installed (scripts/install.sh installs it)")
    procs = []
    # lldpcli drops root: the sockets' directory must be reachable by lldpd's user.
    tmp_path = Path(tempfile.mkdtemp(prefix="napalm-frr-lldp-"))
    tmp_path.chmod(0o755)
    try:
        for node, iface in (("r1", "eth3"), ("h1", "eth1")):
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", two_path.ns(node), "lldpd", "-d", "-I", iface,
                 "-u", str(tmp_path / f"{node}.sock")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        update = ["ip", "netns", "exec", two_path.ns("h1"), "lldpcli", "-u",
                  str(tmp_path / "h1.sock"), "update"]  # send now, not in 30 s
        wait_for(lambda: subprocess.run(update, capture_output=True).returncode == 0, timeout=10)
        device = get_network_driver("frr")("r1", "", "", optional_args={
            "pathspace": two_path.ns("r1"), "lldp_socket": str(tmp_path / "r1.sock")})
        device.open()
        found = wait_for(lambda: bool(device.get_lldp_neighbors()), timeout=15, step=0.3)
        neighbors = device.get_lldp_neighbors()
        print(f"LLDP neighbour seen after {found:.2f} s")
        assert list(neighbors) == ["eth3"] and neighbors["eth3"][0]["port"] == "eth1"
        assert model_ok(models.LLDPNeighborDict, neighbors["eth3"][0])
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp_path, ignore_errors=True)
