"""napalm_frr without a device: parsers on output captured from FRR 8.4.4 (fakes), among
them the FRR JSON parser it shares with the lab, driver discovery and NAPALM's method
signatures."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, get_origin, get_type_hints

import pytest
from napalm import get_network_driver
from napalm.base import NetworkDriver, models

from harness import frrjson
from napalm_frr import FRRDriver, diff, facts, interfaces, protocols, routing
from napalm_frr.driver import _daemon_of
from napalm_frr.models import BFDPeerDict, OSPFNeighborDict
from napalm_frr.transport import LocalTransport

DATA = Path(__file__).parent / "napalm_frr_data"


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def model_ok(model: type, data: dict[str, Any]) -> bool:
    """napalm.base.test.helpers.test_model, also for models with `Dict[...]` fields."""
    hints = get_type_hints(model)
    return set(hints) == set(data) and all(
        isinstance(data[k], get_origin(t) or t) for k, t in hints.items())


def test_napalm_finds_the_driver() -> None:
    assert get_network_driver("frr") is FRRDriver


def test_only_the_documented_extras_differ_from_napalm_signatures() -> None:
    """NAPALM's test_method_signatures, allowing the two FRR extras on purpose."""
    driver = FRRDriver(hostname="test", username="admin", password="pwd")
    extras = set()
    for name, method in inspect.getmembers(driver, inspect.ismethod):
        if name.startswith("_"):
            continue
        base = getattr(NetworkDriver, name, None)
        if base is None:
            extras.add(name)
            continue
        assert inspect.getfullargspec(method)[:4] == inspect.getfullargspec(base)[:4], name
    assert extras == {"get_ospf_neighbors", "get_bfd_peers"}
    init = inspect.getfullargspec(FRRDriver.__init__)[:4]
    assert init == inspect.getfullargspec(NetworkDriver.__init__)[:4]


def test_interfaces_from_frr_json() -> None:
    shown = _json("interfaces.json")
    result = interfaces.interfaces(shown, now=1795440600.0)
    assert set(result) == {"eth1", "eth2", "eth3", "lo"}
    for entry in result.values():
        assert model_ok(models.InterfaceDict, entry)
    assert result["eth1"]["is_up"] and result["eth1"]["speed"] == 10000.0
    assert result["eth1"]["mac_address"] == "2E:1C:D4:EC:57:A8"
    assert result["eth1"]["last_flapped"] == -1.0  # never flapped
    assert result["eth3"]["last_flapped"] >= 0  # flapped once during the capture


def test_interfaces_ip_from_frr_json() -> None:
    result = interfaces.interfaces_ip(_json("interfaces.json"))
    assert result["eth1"]["ipv4"] == {"198.18.2.0": {"prefix_length": 31}}
    assert result["lo"]["ipv4"]["198.18.0.1"] == {"prefix_length": 32}
    assert all(e["prefix_length"] == 64 for e in result["eth2"]["ipv6"].values())


def test_counters_from_kernel_json() -> None:
    result = interfaces.counters(_json("ip_link.json"))
    assert set(result) == {"lo", "eth1", "eth2", "eth3"}
    for entry in result.values():
        assert model_ok(models.InterfaceCounterDict, entry)
    assert result["eth1"]["rx_octets"] > 0 and result["eth1"]["tx_unicast_packets"] > 0


def test_bgp_neighbors_from_frr_json() -> None:
    result = routing.bgp_neighbors(_json("bgp_summary.json"), _json("bgp_neighbors.json"))
    assert result["global"]["router_id"] == "198.18.0.1"
    peers = result["global"]["peers"]
    for peer in peers.values():
        assert model_ok(models.BGPStateNeighborDict, peer)
        for af in peer["address_family"].values():
            assert model_ok(models.BGPStateAddressFamilyDict, af)
    up, shut = peers["198.18.2.1"], peers["198.18.9.9"]
    assert (up["is_up"], up["is_enabled"], up["remote_as"], up["remote_id"]) == \
        (True, True, 65002, "198.18.0.2")
    assert up["description"] == "to-r2" and up["address_family"]["ipv4"]["sent_prefixes"] == 2
    assert (shut["is_up"], shut["is_enabled"]) == (False, False)


def test_routes_one_entry_per_next_hop() -> None:
    shown = _json("routes.json")
    result = routing.routes(shown)
    for entries in result.values():
        for entry in entries:
            assert model_ok(models.RouteDict, entry)
    active = [r for r in result["198.18.0.4/32"] if r["current_active"]]
    assert {r["protocol"] for r in active} == {"ospf"}
    assert {r["outgoing_interface"] for r in active} == {"eth1"}
    assert routing.routes(shown, protocol="CONNECTED").keys() <= result.keys()
    assert all(r["protocol"] == "connected"
               for rs in routing.routes(shown, protocol="connected").values() for r in rs)


def test_bgp_route_attributes() -> None:
    attrs = routing.bgp_attributes(_json("bgp_route.json"), local_as=65001)
    assert attrs == {"local_as": 65001, "remote_as": 65002, "peer_id": "198.18.0.2",
                     "as_path": "65002", "communities": [], "local_preference": 100,
                     "metric": 0}


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:05:33", 333), ("1d02h03m", 93780), ("02w3d04h", 1483200), ("never", 0), ("", 0)])
def test_frr_durations(text: str, seconds: int) -> None:
    assert routing.duration(text) == seconds


def test_ospf_neighbors_per_interface() -> None:
    result = protocols.ospf_neighbors(_json("ospf_neighbors.json"))
    assert set(result) == {"eth1", "eth2"}
    adj = result["eth1"][0]
    assert model_ok(OSPFNeighborDict, adj)
    assert (adj["router_id"], adj["address"], adj["state"], adj["is_up"]) == \
        ("198.18.0.2", "198.18.2.1", "Full", True)


def test_bfd_peers() -> None:
    result = frrjson.bfd_peers(_json("bfd_peers.json"))
    assert {p["peer"] for p in result} == {"198.18.2.1", "198.18.2.3"}
    for peer in result:
        assert model_ok(BFDPeerDict, peer)
        assert peer["is_up"] and peer["receive_interval"] == 100


def test_frr_json_as_the_lab_shows_it() -> None:
    """The shared parser keeps FRR's own spellings too: the lab's status and snapshots show
    them ("Full/-", "eth1:198.18.2.0"); a daemon that prints nothing ({}) has nothing."""
    adj = frrjson.ospf_neighbors(_json("ospf_neighbors.json"))[0]
    assert (adj.iface, adj.interface, adj.state, adj.adjacency) == \
        ("eth1:198.18.2.0", "eth1", "Full/-", "Full")
    assert frrjson.ospf_neighbors({}) == frrjson.bfd_peers({}) == []


def test_facts_from_show_version() -> None:
    running = "frr version 8.4.4\nhostname r1\ndomainname lab.example\n"
    result = facts.facts((DATA / "version.txt").read_text(), running, ["eth2", "eth1"], 12.5)
    assert model_ok(models.FactsDict, result)
    assert (result["os_version"], result["hostname"], result["fqdn"], result["model"]) == \
        ("8.4.4", "r1", "r1.lab.example", "FRRouting on Linux")
    assert result["interface_list"] == ["eth1", "eth2"]


def test_lldp_neighbors_from_lldpcli_json0() -> None:
    result = facts.lldp_neighbors(_json("lldp_json0.json"))
    assert result == {"eth3": [{"hostname": "vm", "port": "eth1"}]}
    assert model_ok(models.LLDPNeighborDict, result["eth3"][0])
    assert facts.lldp_neighbors({"lldp": [{}]}) == {}


def test_ping_results() -> None:
    ok = facts.ping((DATA / "ping_ok.txt").read_text())
    assert model_ok(models.PingDict, ok["success"])
    assert ok["success"]["packet_loss"] == 0 and len(ok["success"]["results"]) == 3
    lost = facts.ping((DATA / "ping_loss.txt").read_text())["success"]
    assert (lost["probes_sent"], lost["packet_loss"], lost["results"]) == (3, 3, [])
    assert facts.ping("ping: connect: Network is unreachable\n") == \
        {"error": "ping: connect: Network is unreachable"}


def test_reload_test_output_to_diff() -> None:
    changes = diff.parse_reload_test((DATA / "reload_test.txt").read_text())
    assert diff.Change("-", (), "no zebra nexthop kernel enable") in changes
    assert diff.Change("-", (), "router ospf") in changes
    assert diff.Change("-", ("bfd", "profile fast"), "transmit-interval 100") in changes
    assert diff.Change("+", ("router bgp 65001", "address-family ipv4 unicast"),
                       "network 198.18.0.11/32") in changes
    text = diff.render(changes)
    assert "  interface eth1\n-  ip ospf cost 10\n+  ip ospf cost 20" in text
    assert "  bfd\n   profile fast\n-   transmit-interval 100\n+   transmit-interval 300" in text


def test_added_context_is_not_repeated_as_a_header() -> None:
    output = "\nLines To Add\n============\nrouter bgp 1\nrouter bgp 1\n bgp router-id 1.1.1.1\n"
    assert diff.render(diff.parse_reload_test(output)) == \
        "+ router bgp 1\n+  bgp router-id 1.1.1.1"


def test_merge_prediction_shows_what_a_snippet_replaces() -> None:
    running = diff.index("interface eth1\n ip ospf cost 10\n ip ospf bfd\n ip ospf bfd profile f\n"
                         " ip address 10.0.0.1/31\nexit\n")
    ctx = ("interface eth1",)
    added = [diff.Change("+", ctx, "ip ospf cost 20"), diff.Change("+", ctx, "no ip ospf bfd"),
             diff.Change("+", ctx, "ip address 10.0.0.3/31")]
    assert diff.predict_merge(added, running) == [
        diff.Change("-", ctx, "ip ospf cost 10"), diff.Change("+", ctx, "ip ospf cost 20"),
        diff.Change("-", ctx, "ip ospf bfd"), diff.Change("-", ctx, "ip ospf bfd profile f"),
        diff.Change("+", ctx, "ip address 10.0.0.3/31")]


def test_normalize_strips_the_show_running_header() -> None:
    text = "Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\n"
    assert diff.normalize(text) == "!\nfrr version 8.4.4\n"


def test_sanitize_removes_secrets() -> None:
    config = ("password zebra\nrouter bgp 1\n neighbor 10.0.0.1 password s3cret\n"
              "interface eth1\n ip ospf message-digest-key 1 md5 k3y\nkey chain k\n key 1\n"
              "  key-string abc\n")
    clean = diff.sanitize(config)
    assert not any(s in clean for s in ("zebra", "s3cret", "k3y", "abc"))
    assert " neighbor 10.0.0.1 password <removed>" in clean


def test_commands_one_daemon_answers_go_to_it_alone() -> None:
    assert [_daemon_of(c) for c in ("show version", "show interface json",
                                    "show ip ospf neighbor json", "show ipv6 route json",
                                    "show bfd peers json", "show bgp vrf all summary json",
                                    "show vrrp json")] == \
        ["zebra", "zebra", "ospfd", "zebra", "bfdd", "bgpd", "vrrpd"]
    # every daemon's, or not one daemon's: vtysh asks them all
    assert [_daemon_of(c) for c in ("show running-config", "show interfaces", "show ip",
                                    "write terminal")] == [None] * 4


def test_a_daemon_without_its_socket_is_not_running(tmp_path: Path) -> None:
    result = LocalTransport(f"nons-{tmp_path.name}").vtysh("show version", daemon="zebra")
    assert (result.ok, result.message) == (False, "zebra is not running")
