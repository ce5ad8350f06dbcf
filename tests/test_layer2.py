"""The redundancy gate's layer-2 and gateway reasoning, pure logic on hand-built topologies
(`harness.layer2`): exec commands and FRR configurations read, layer-2 reachability with a
fault applied, VRRP groups, and whether a flow keeps a path. No lab."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import layer2
from harness.faults import Scope
from harness.layer2.commands import read_exec
from harness.layer2.frrconf import interfaces
from harness.layer2.graph import Layer2
from harness.topology import Endpoint, FrrSpec, Link, Node, Topology

OSPF_DAEMONS = ("zebra", "staticd", "ospfd")
VRRP_DAEMONS = (*OSPF_DAEMONS, "vrrpd")


def core_conf(n: int, priority: int, vlan_extra: str = "") -> str:
    return (f"interface eth1\n ip address 198.18.1.{n - 1}/31\nexit\n"
            f"interface eth4\n ip address 198.18.1.{2 * n}/31\nexit\n"
            f"interface br-v\n ip address 198.19.20.{n + 1}/24\n ip ospf passive\n"
            f" vrrp 20 priority {priority}\n vrrp 20 advertisement-interval 100\n"
            f" vrrp 20 ip 198.19.20.1\n{vlan_extra}exit\n")


CORE_EXEC = ("ip link add br-v type bridge stp_state 1", "ip link set eth2 master br-v",
             "ip link set eth3 master br-v", "ip link set br-v up",
             "ip link add vrrp4-20 link br-v address 00:00:5e:00:01:14 type macvlan mode bridge",
             "ip addr add 198.19.20.1/32 dev vrrp4-20")
DC_CONF = ("interface eth1\n ip address 198.18.1.3/31\nexit\n"
           "interface eth2\n ip address 198.18.1.5/31\nexit\n"
           "interface eth3\n ip address 198.19.10.1/24\n ip ospf passive\nexit\n")
#    core1 ==eth1== core2          routed link; eth3: the VLAN's layer-2 link between cores
#     |  \eth3---eth3/  |          eth4: each core to dc (routed)
#    eth2          eth2
#       \         /
#        acc (br0)  -- h (198.19.20.10, gateway 198.19.20.1)          dc -- s (servers)
LINKS = [("core1:eth1", "core2:eth1"), ("core1:eth3", "core2:eth3"), ("core1:eth2", "acc:eth1"),
         ("core2:eth2", "acc:eth2"), ("acc:eth3", "h:eth1"), ("core1:eth4", "dc:eth1"),
         ("core2:eth4", "dc:eth2"), ("dc:eth3", "s:eth1")]


def build(tmp: Path, nodes: dict[str, tuple[str, tuple[str, ...], str | None, tuple[str, ...]]],
          links: list[tuple[str, str]]) -> Topology:
    """A topology from (kind, exec, FRR config or None, daemons) per node."""
    made = {}
    for name, (kind, execs, conf, daemons) in nodes.items():
        frr = None
        if conf is not None:
            (tmp / f"{name}.conf").write_text(conf)
            frr = FrrSpec(config=tmp / f"{name}.conf", daemons=daemons)
        made[name] = Node(name=name, kind=kind, exec=execs, frr=frr)
    ends = [Link(Endpoint(*a.split(":")), Endpoint(*b.split(":"))) for a, b in links]
    return Topology(name="hand", path=tmp / "hand.clab.yml", nodes=made, links=tuple(ends))


def campus(tmp: Path, core2_conf: str | None = None, core2_daemons: tuple[str, ...]
           = VRRP_DAEMONS, links: list[tuple[str, str]] | None = None) -> Topology:
    return build(tmp, {
        "core1": ("linux", CORE_EXEC, core_conf(1, 200), VRRP_DAEMONS),
        "core2": ("linux", CORE_EXEC, core2_conf or core_conf(2, 100), core2_daemons),
        "acc": ("linux", ("ip link add br0 type bridge stp_state 1",
                          *(f"ip link set eth{i} master br0" for i in (1, 2, 3))), None, ()),
        "h": ("linux", ("ip addr add 198.19.20.10/24 dev eth1",
                        "ip route add 198.18.0.0/15 via 198.19.20.1"), None, ()),
        "dc": ("linux", (), DC_CONF, OSPF_DAEMONS),
        "s": ("linux", ("ip addr add 198.19.10.10/24 dev eth1",
                        "ip route add 198.18.0.0/15 via 198.19.10.1"), None, ()),
    }, LINKS if links is None else links)


def out(topo: Topology, nodes: tuple[str, ...] = (), links: tuple[str, ...] = (),
        ports: tuple[tuple[str, str], ...] = (), gateways: tuple[str, ...] = ()) -> Scope:
    return Scope(nodes=frozenset(nodes), links=frozenset(topo.find_link(x) for x in links),
                 ports=frozenset(ports), gateways=frozenset(gateways))


# -- reading exec commands and FRR configurations --------------------------------------------
def test_exec_commands_build_bridges_macvlans_addresses_and_routes() -> None:
    build_ = read_exec((
        "ip link add br-v type bridge stp_state 1 priority 4096",
        "ip link set dev eth2 master br-v", "ip link set eth3 master br-v up",
        "ip link add link br-v name vrrp4-20 type macvlan mode bridge",
        "ip addr add 198.19.20.1/32 dev vrrp4-20", "ip a add 198.19.20.2/24 dev br-v",
        "ip route add 198.18.0.0/15 via 198.19.20.1",
        'sh -c "brctl addbr b2 && brctl addif b2 eth5 eth6; brctl stp b2 on"',
        "ip link set eth6 nomaster", "ip link set b2 type bridge priority 8192",
        "ip addr add 2001:db8::1/64 dev br-v", "echo unrelated", "ip link add 'broken"))
    assert build_.bridges == {"br-v": {"stp_state": "1", "priority": "4096"},
                              "b2": {"stp_state": "1", "priority": "8192"}}
    assert build_.masters == {"eth2": "br-v", "eth3": "br-v", "eth5": "b2"}
    assert build_.macvlans == {"vrrp4-20": "br-v"}
    assert [(i, str(a)) for i, a in build_.addresses] == [("vrrp4-20", "198.19.20.1/32"),
                                                          ("br-v", "198.19.20.2/24")]
    assert [str(a) for a in build_.next_hops] == ["198.19.20.1"]


def test_frr_config_gives_addresses_vrrp_groups_and_passive_interfaces() -> None:
    conf = interfaces(core_conf(1, 200, " vrrp 20 shutdown\n vrrp 30\n vrrp 30 ip 198.19.30.1\n"
                                        " no vrrp 30\n")
                      + "interface eth9\n vrrp 7 ip 198.19.7.1\nexit\n"
                        "router ospf\n passive-interface default\n no passive-interface eth1\n"
                        "exit\n")
    vlan = conf["br-v"]
    assert [str(a) for a in vlan.addresses] == ["198.19.20.2/24"] and vlan.passive
    assert list(vlan.vrrp) == [20]  # `no vrrp 30` removed the group
    group = vlan.vrrp[20]
    assert (group.priority, group.shutdown) == (200, True)
    assert conf["eth9"].vrrp[7].priority == 100  # RFC 5798's default
    assert not conf["eth1"].passive and conf["eth4"].passive and conf["eth9"].passive


def test_vrrp_groups_members_and_expected_master(tmp_path: Path) -> None:
    model = layer2.of(campus(tmp_path))
    [group] = model.groups
    assert (group.vrid, [str(a) for a in group.addresses]) == (20, ["198.19.20.1"])
    assert [str(m) for m in group.members] == ["core1:br-v", "core2:br-v"]
    assert group.master.node == "core1" and group.name() == "VRRP group 20 of core1:br-v, " \
                                                            "core2:br-v"
    found = model.member("core2", 20)
    assert not isinstance(found, str) and found[0].priority == 100
    assert "no member of VRRP group 21" in str(model.member("core2", 21))
    assert layer2.of(model.topology) is model  # read once per topology


def test_a_priority_tie_goes_to_the_highest_primary_address(tmp_path: Path) -> None:
    model = layer2.of(campus(tmp_path, core2_conf=core_conf(2, 200)))
    assert model.groups[0].master.node == "core2"  # 198.19.20.3 > 198.19.20.2


# -- layer-2 reachability ---------------------------------------------------------------------
def test_layer2_domains_join_bridge_ports_and_stop_at_routers_and_hosts(tmp_path: Path) -> None:
    topo = campus(tmp_path)
    l2 = Layer2(topo)
    domains = l2.domains()
    vlan = {p for p, n in domains.items() if n == domains[("h", "eth1")]}
    assert vlan == {("h", "eth1"), ("acc", "br0"), ("core1", "br-v"), ("core2", "br-v")}
    assert domains[("core1", "eth4")] == domains[("dc", "eth1")] != domains[("dc", "eth2")]
    assert l2.resolve(("core1", "vrrp4-20")) == ("core1", "br-v")
    # acc's uplink to core1 cut: core1 is still reached through core2 and the cores' VLAN link
    assert ("core1", "br-v") in l2.reach(("h", "eth1"), out(topo, links=("acc:eth1",)))
    # ... and not once the cores' VLAN link is cut too, nor with core1's bridge down
    assert ("core1", "br-v") not in l2.reach(("h", "eth1"),
                                             out(topo, links=("acc:eth1", "core1:eth3")))
    no_bridge = l2.reach(("h", "eth1"), out(topo, ports=(("core1", "br-v"),)))
    assert ("core2", "br-v") in no_bridge and ("core1", "eth2") not in no_bridge
    assert l2.reach(("h", "eth1"), out(topo, nodes=("h",))) == frozenset()


def test_a_kind_bridge_node_is_one_bridge_of_all_its_interfaces(tmp_path: Path) -> None:
    topo = build(tmp_path, {"sw": ("bridge", (), None, ()),
                            **{h: ("linux", (), None, ()) for h in ("a", "b", "c")}},
                 [("sw:eth1", "a:eth1"), ("sw:eth2", "b:eth1"), ("sw:eth3", "c:eth1")])
    l2 = Layer2(topo)
    assert l2.l3_ports("sw") == []
    assert {("b", "eth1"), ("c", "eth1")} <= l2.reach(("a", "eth1"))
    assert ("c", "eth1") not in l2.reach(("a", "eth1"), out(topo, links=("sw:eth3",)))


@st.composite
def switched(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], list[tuple[str, str]], set[int]]:
    """Random switches (each one bridge of all its ports, or none) and links between them."""
    n = draw(st.integers(2, 6))
    bridged = [draw(st.booleans()) for _ in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                          .filter(lambda p: p[0] != p[1]), max_size=10))
    ports: dict[int, int] = {}
    links = []
    for a, b in pairs:
        ports[a], ports[b] = ports.get(a, 0) + 1, ports.get(b, 0) + 1
        links.append((f"n{a}:e{ports[a]}", f"n{b}:e{ports[b]}"))
    execs = [("ip link add br type bridge", *(f"ip link set e{i} master br"
                                               for i in range(1, ports.get(k, 0) + 1)))
             if bridged[k] else () for k in range(n)]
    cut = draw(st.sets(st.integers(0, max(0, len(links) - 1)), max_size=3)) if links else set()
    return execs, links, cut


@settings(max_examples=40, deadline=None, derandomize=True)
@given(switched())
def test_reach_is_symmetric_and_only_shrinks_as_more_is_taken_out(
        tmp_path_factory: pytest.TempPathFactory,
        case: tuple[list[tuple[str, ...]], list[tuple[str, str]], set[int]]) -> None:
    execs, links, cut = case
    topo = build(tmp_path_factory.mktemp("h"), {f"n{k}": ("linux", e, None, ())
                                                for k, e in enumerate(execs)}, links)
    l2 = Layer2(topo)
    fewer = Scope(links=frozenset(topo.links[i] for i in cut))
    ports = [(lk.a.node, lk.a.interface) for lk in topo.links] + \
        [(lk.b.node, lk.b.interface) for lk in topo.links]
    for p in ports:
        whole, less = l2.reach(p), l2.reach(p, fewer)
        assert less <= whole and p in whole
        for q in less:
            assert p in l2.reach(q, fewer)


# -- whether a flow keeps a path ----------------------------------------------------------------
def test_core_loss_leaves_the_other_gateway_reachable(tmp_path: Path) -> None:
    topo = campus(tmp_path)
    model = layer2.of(topo)
    assert model.cut("h", "s", out(topo), {}) == ""
    assert model.cut("h", "s", out(topo, nodes=("core1",)), {}) == ""
    assert model.cut("s", "h", out(topo, nodes=("core1",)), {}) == ""
    assert model.cut("h", "s", out(topo, ports=(("core1", "br-v"),)), {}) == ""
    assert model.cut("h", "s", out(topo, links=("acc:eth1",)), {}) == ""


@pytest.mark.parametrize(("health", "core2_conf", "daemons", "why"), [
    ({("core2", "br-v", 20): "vrrpd not running"}, None, VRRP_DAEMONS,
     "core2: vrrpd not running"),
    ({}, core_conf(2, 100, " vrrp 20 shutdown\n"), VRRP_DAEMONS,
     "core2:br-v has the group shut down (its configuration)"),
    ({}, None, OSPF_DAEMONS, "core2 does not run vrrpd"),
])
def test_core_loss_is_cut_when_the_other_member_cannot_serve(
        tmp_path: Path, health: dict[tuple[str, str, int], str], core2_conf: str | None,
        daemons: tuple[str, ...], why: str) -> None:
    topo = campus(tmp_path, core2_conf=core2_conf, core2_daemons=daemons)
    model = layer2.of(topo)
    assert model.cut("h", "s", out(topo), health) == ""  # core1 still serves
    reason = model.cut("h", "s", out(topo, nodes=("core1",)), health)
    assert reason == ("h's gateway 198.19.20.1 (VRRP group 20 of core1:br-v, core2:br-v) has "
                      f"no member left: core1 is taken out by the fault; {why}")


def test_a_member_unreachable_over_layer2_cannot_serve(tmp_path: Path) -> None:
    topo = campus(tmp_path)
    reason = layer2.of(topo).cut("h", "s", out(topo, nodes=("core1",),
                                                links=("acc:eth2",)), {})
    assert "core2:br-v is not reachable from h over layer 2" in reason
    assert "core1 is taken out by the fault" in reason


def test_a_gateway_whose_vrrp_stops_cannot_serve(tmp_path: Path) -> None:
    topo = campus(tmp_path)
    model = layer2.of(topo)
    assert model.cut("h", "s", out(topo, gateways=("core1",)), {}) == ""
    assert "core2's VRRP stops (the fault)" in model.cut(
        "h", "s", out(topo, nodes=("core1",), gateways=("core2",)), {})


def test_a_master_cut_off_upstream_keeps_the_gateway_and_blackholes(tmp_path: Path) -> None:
    """VRRP tracks no uplink: core1 stays master with its routed links cut (its VLAN is
    OSPF-passive, so it cannot route through core2)."""
    topo = campus(tmp_path)
    model = layer2.of(topo)
    scope = out(topo, links=("core1:eth1", "core1:eth4"))
    assert model.cut("h", "s", scope, {}) == (
        "h's gateway (VRRP group 20 of core1:br-v, core2:br-v) stays on core1, which has no "
        "routed path to s with the fault in place (VRRP tracks no uplink)")
    assert model.cut("s", "h", scope, {}) == ""  # dc delivers through core2


def test_a_plain_gateway_and_a_host_without_one(tmp_path: Path) -> None:
    topo = campus(tmp_path)
    model = layer2.of(topo)
    assert model.cut("s", "h", out(topo, nodes=("dc",)), {}) == (
        "s's gateway 198.19.10.1 (dc:eth3) is not reachable over layer 2 with the fault in "
        "place")
    bare = build(tmp_path, {"r": ("linux", (), "interface eth1\n ip address 198.18.9.1/24\n"
                                              "exit\n", OSPF_DAEMONS),
                            "x": ("linux", (), None, ()), "y": ("linux", (), None, ())},
                 [("r:eth1", "x:eth1"), ("r:eth2", "y:eth1")])
    assert layer2.of(bare).cut("x", "y", out(bare), {}) == ""
    assert layer2.of(bare).cut("x", "y", out(bare, nodes=("r",)), {}) == \
        "no router is reachable from x over layer 2"
