"""Layer 2 and first-hop redundancy, pure logic: exec commands read, VRRP and STP judged,
the kernel check, the campus topology read (no lab: the inputs are recorded or written
here; the lab tests are in test_campus_lab.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, TOPOLOGIES, private_copy

from harness.errors import InputError
from harness.lab import stp, vrrp
from harness.lab.kernelcheck import check_kernel
from harness.topology import load_topology
from harness.topology.execs import bridge_ports, bridges, link_add, stp_seconds
from harness.topology.timers import converge_budget

CAMPUS = TOPOLOGIES / "hospital-campus.clab.yml"


# -- exec commands ---------------------------------------------------------------------------
def test_link_add_reads_name_type_and_options() -> None:
    add = link_add("ip link add vrrp4-ed link br-ed address 00:00:5e:00:01:14 "
                   "type macvlan mode bridge")
    assert add is not None
    assert (add.name, add.type, add.type_args) == ("vrrp4-ed", "macvlan", ("mode", "bridge"))
    assert add.options == {"link": "br-ed", "address": "00:00:5e:00:01:14"}
    named = link_add("ip link add name br0 type bridge stp_state 1")
    assert named is not None and (named.name, named.type) == ("br0", "bridge")
    assert link_add("ip link set eth1 master br0") is None
    assert link_add("ip addr add 198.19.20.1/32 dev x") is None


def test_bridges_ports_and_stp_time_from_exec() -> None:
    execs = ("ip link add br0 type bridge stp_state 1", "ip link set eth1 master br0",
             "ip link set dev eth2 master br0", "ip link add br1 type bridge",
             "ip link set br0 up")
    assert bridges(execs) == ("br0", "br1")
    assert bridge_ports(execs) == {"eth1", "eth2"}
    assert stp_seconds(execs) == 50.0  # 802.1D defaults: max_age 20 + 2 x forward_delay 15
    tuned = ("ip link add br0 type bridge stp_state 1 forward_delay 400 hello_time 100 "
             "max_age 600",)
    assert stp_seconds(tuned) == 14.0
    assert stp_seconds(("ip link add br1 type bridge",)) == 0.0  # no STP


# -- the campus topology -------------------------------------------------------------------
def test_campus_reads_as_routers_switches_and_hosts() -> None:
    topo = load_topology(CAMPUS)
    assert [r.name for r in topo.routers] == ["core1", "core2", "dist-dc"]
    assert "vrrpd" in topo.nodes["core1"].frr.daemons  # type: ignore[union-attr]
    assert "vrrpd" not in topo.nodes["dist-dc"].frr.daemons  # type: ignore[union-attr]
    assert topo.nodes["core1"].bridges == ("br-ed", "br-ward", "br-voip")
    assert topo.nodes["dc-lan"].kind == "bridge" and topo.nodes["dc-lan"].is_switch
    assert topo.nodes["acc-ed"].is_switch and not topo.nodes["ed"].is_switch
    # hosts reach the cores through their access switch (switches forward, hosts do not)
    assert topo.hops_from("ed")["core1"] == 2 and "ehr" in topo.hops_from("ed")
    # its layer-2 links carry no OSPF: the budget comes from the routed links
    assert "eth1" in converge_budget(topo).why


def test_default_stp_timers_lengthen_the_budget(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "hospital-campus")
    path.write_text(path.read_text().replace(" forward_delay 400 hello_time 100 max_age 600", ""))
    budget = converge_budget(load_topology(path))
    assert budget.seconds == 70.0 and "spanning tree" in budget.why


def test_bridge_node_runs_no_commands(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "hospital-campus")
    path.write_text(path.read_text().replace(
        "      kind: bridge\n", "      kind: bridge\n      exec: [ip link set dc-lan up]\n"))
    with pytest.raises(InputError) as err:
        load_topology(path)
    assert "topology.nodes.dc-lan.exec: a bridge node runs no commands" in str(err.value)


def test_failover_validate_accepts_a_campus_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "campus.yml"
    scenario.write_text(yaml.safe_dump({
        "name": "campus-core1-power-loss", "topology": str(CAMPUS),
        "flows_from": [str(ROOT / "scenarios/flows/hospital-critical.yml")],
        "faults": [{"kind": "node-power-loss", "node": "core1"}]}))
    proc = subprocess.run([sys.executable, "-m", "harness", "validate", str(scenario)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the kernel check ------------------------------------------------------------------------
def _with_exec(tmp_path: Path, command: str) -> Path:
    path = private_copy(tmp_path, "hospital-campus")
    path.write_text(path.read_text().replace(
        "        - ip link set eth3 master br0\n",
        f"        - ip link set eth3 master br0\n        - {command}\n", 1))
    return path


def test_kernel_without_bonding_refuses_one_line_naming_file_line_field(tmp_path: Path) -> None:
    path = _with_exec(tmp_path, "ip link add bond0 type bond mode 802.3ad")
    topo = load_topology(path)
    line = path.read_text().splitlines().index("        - ip link add bond0 type bond mode "
                                               "802.3ad") + 1
    with pytest.raises(InputError) as err:
        check_kernel(topo, lambda: {"CONFIG_BRIDGE": "y", "CONFIG_MACVLAN": "y"})  # fake kernel
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: topology.nodes.acc-ed.exec[4]: type bond: ")
    assert "no bonding" in message and "CONFIG_BONDING" in message and "\n" not in message
    check_kernel(topo, lambda: {"CONFIG_BONDING": "m", "CONFIG_BRIDGE": "y",
                                "CONFIG_MACVLAN": "y"})  # a module is there
    check_kernel(topo, lambda: None)  # a kernel that does not say: the command will


def test_addrgenmode_in_link_add_is_refused(tmp_path: Path) -> None:
    path = _with_exec(tmp_path, "ip link add m0 link br0 addrgenmode random type macvlan")
    with pytest.raises(InputError) as err:
        check_kernel(load_topology(path), lambda: {"CONFIG_MACVLAN": "y", "CONFIG_BRIDGE": "y"})
    assert "addrgenmode" in str(err.value) and "ip link set m0 addrgenmode random" in \
        str(err.value)


def test_the_campus_needs_nothing_this_kernel_lacks() -> None:
    check_kernel(load_topology(CAMPUS))


# -- VRRP --------------------------------------------------------------------------------------
def _shown(vrid: int, iface: str, status: str, priority: int, primary: str) -> dict[str, object]:
    """One group as FRR 8.4's `show vrrp json` lists it (recorded, v6 half left out)."""
    return {"vrid": vrid, "version": 3, "interface": iface, "preemptMode": True,
            "advertisementInterval": 100,
            "v4": {"interface": f"vrrp4-{iface}", "vmac": f"00:00:5e:00:01:{vrid:02x}",
                   "primaryAddress": primary, "status": status,
                   "effectivePriority": priority, "addresses": [f"198.19.{vrid}.1"]}}


def _member(router: str, status: str, priority: int, address: str, vrid: int = 20,
            link_up: bool = True) -> vrrp.VrrpMember:
    return vrrp.VrrpMember(router, vrid, "br-ed", status, priority, address,
                           (f"198.19.{vrid}.1",), link_up=link_up)


def test_parse_members_fills_a_backups_address_from_the_kernel() -> None:
    kernel = {"br-ed": ("UP", "198.19.20.3")}
    members = vrrp.parse_members("core2", [_shown(20, "br-ed", "Backup", 100, "")], kernel)
    assert members == [_member("core2", "Backup", 100, "198.19.20.3")]
    assert members[0].group == "VRRP 20 (198.19.20.1)"


def test_a_configured_group_vrrpd_does_not_show_is_waited_for() -> None:
    config = ("interface br-ed\n ip address 198.19.20.2/24\n vrrp 20 version 3\n"
              " vrrp 20 ip 198.19.20.1\nexit\n!\ninterface br-ward\n vrrp 21 ip 198.19.21.1\n")
    assert vrrp.configured(config) == {("br-ed", 20): ("198.19.20.1",),
                                       ("br-ward", 21): ("198.19.21.1",)}
    kernel = {"br-ed": ("UP", "198.19.20.2"), "br-ward": ("DOWN", "198.19.21.2")}
    members = vrrp.parse_members("core1", [], kernel, vrrp.configured(config))
    assert vrrp.judge(members) == ["core1 VRRP 20 (198.19.20.1) on br-ed: not started"]


def test_one_master_the_expected_one_is_converged() -> None:
    assert vrrp.judge([_member("core1", "Master", 200, "198.19.20.2"),
                       _member("core2", "Backup", 100, "198.19.20.3")]) == []


def test_split_brain_is_named() -> None:
    assert vrrp.judge([_member("core1", "Master", 200, "198.19.20.2"),
                       _member("core2", "Master", 100, "198.19.20.3")]) == [
        "VRRP 20 (198.19.20.1): split brain, core1 and core2 are both master"]


def test_wrong_master_no_master_and_unhealthy_members() -> None:
    assert vrrp.judge([_member("core1", "Backup", 200, "198.19.20.2"),
                       _member("core2", "Master", 100, "198.19.20.3")]) == [
        "VRRP 20 (198.19.20.1): master is core2, expected core1 (priority 200)"]
    assert vrrp.judge([_member("core1", "Backup", 200, "198.19.20.2"),
                       _member("core2", "Backup", 100, "198.19.20.3")]) == [
        "VRRP 20 (198.19.20.1): no master yet (core1 Backup, core2 Backup)"]
    # core1's interface is down (a fault): core2 is the one expected, and converged, even
    # while FRR 8.4 still shows core1 Master
    for shown in ("Initialize", "Master"):
        assert vrrp.judge([_member("core1", shown, 200, "198.19.20.2", link_up=False),
                           _member("core2", "Master", 100, "198.19.20.3")]) == []
    # its interface is up yet it is not running the group: not converged
    assert vrrp.judge([_member("core1", "Initialize", 200, "198.19.20.2"),
                       _member("core2", "Master", 100, "198.19.20.3")]) == [
        "core1 VRRP 20 (198.19.20.1) on br-ed: Initialize"]


def test_a_priority_tie_goes_to_the_highest_address() -> None:
    members = [_member("core1", "Backup", 100, "198.19.20.2"),
               _member("core2", "Master", 100, "198.19.20.3")]
    assert vrrp.expected_master(members) is members[1]
    assert vrrp.judge(members) == []
    assert vrrp.judge([_member("core1", "Master", 100, "198.19.20.2"),
                       _member("core2", "Backup", 100, "198.19.20.3")]) == [
        "VRRP 20 (198.19.20.1): master is core1, expected core2 (priority 100)"]


def test_without_preemption_a_lower_priority_master_stays() -> None:
    keep = vrrp.VrrpMember("core1", 20, "br-ed", "Backup", 200, "198.19.20.2",
                           ("198.19.20.1",), preempt=False)
    assert vrrp.judge([keep, _member("core2", "Master", 100, "198.19.20.3")]) == []


# -- STP ----------------------------------------------------------------------------------------
ACCESS = """br0/bridge/stp_state:1
br0/bridge/bridge_id:8000.aa3ff570302b
br0/bridge/root_id:1000.7aa058f7b2a2
br0/bridge/root_port:1
br0/bridge/forward_delay:400
br0/bridge/hello_time:100
br0/bridge/max_age:600
br0/brif/eth1/state:3
br0/brif/eth2/state:4
br0/brif/eth3/state:3
br0/brif/eth1/port_no:0x1
br0/brif/eth2/port_no:0x2
br0/brif/eth3/port_no:0x3
br0/operstate:up
eth1/operstate:up
eth2/operstate:lowerlayerdown
lo/operstate:unknown
"""  # recorded in an access switch's namespace (grep . in /sys/class/net)


def _bridge(node: str, name: str, own: str, root: str, **ports: str) -> stp.Bridge:
    return stp.Bridge(node, name, stp=True, bridge_id=own, root_id=root, ports=ports)


def test_parse_sysfs_reads_ids_ports_and_states() -> None:
    (br0,), oper = stp.parse_sysfs("acc-ed", ACCESS)
    assert (br0.bridge_id, br0.root_id, br0.root_port_name) == \
        ("8000.aa3ff570302b", "1000.7aa058f7b2a2", "eth1")
    assert br0.ports == {"eth1": "forwarding", "eth2": "blocking", "eth3": "forwarding"}
    assert oper["eth2"] == "lowerlayerdown" and not br0.is_root


def test_domains_follow_up_links_between_bridge_ports() -> None:
    core1 = _bridge("core1", "br-ed", "1000.01", "1000.01", eth3="forwarding")
    core2 = _bridge("core2", "br-ed", "2000.02", "1000.01", eth3="forwarding")
    acc = _bridge("acc-ed", "br0", "8000.03", "1000.01", eth1="forwarding", eth2="blocking")
    links = [(("core1", "eth3"), ("acc-ed", "eth1")), (("core2", "eth3"), ("acc-ed", "eth2"))]
    (domain,) = stp.domains([core1, core2, acc], links)
    assert stp.judge(domain) == []
    apart = stp.domains([core1, core2, acc], links[:1])  # core2's link is down
    assert [[str(b) for b in d] for d in apart] == [["core1 br-ed", "acc-ed br0"],
                                                     ["core2 br-ed"]]


def test_two_roots_a_wrong_root_and_ports_in_transition_are_waited_for() -> None:
    core1 = _bridge("core1", "br-ed", "1000.01", "1000.01", eth3="forwarding")
    acc = _bridge("acc-ed", "br0", "8000.03", "8000.03", eth1="listening")
    link = [(("core1", "eth3"), ("acc-ed", "eth1"))]
    (domain,) = stp.domains([core1, acc], link)
    assert stp.judge(domain) == [
        "STP domain core1 br-ed, acc-ed br0: 2 roots (core1 br-ed, acc-ed br0 claim root)",
        "acc-ed br0 eth1 listening"]
    acc.root_id, acc.ports["eth1"], core1.root_id = "8000.03", "learning", "8000.03"
    assert stp.judge(domain) == [
        "STP domain core1 br-ed, acc-ed br0: root 8000.03, expected core1 br-ed",
        "acc-ed br0 eth1 learning"]
