"""OSPF neighbours from text through TextFSM: real captured outputs per platform (see
textstate_data/README.md), and FRR's template checked against FRR's own JSON in the lab."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for

from harness.devices import connect
from harness.devices.textstate import OspfNeighbor, ospf_neighbors
from harness.errors import HarnessError
from harness.lab import Lab

DATA = Path(__file__).parent / "textstate_data"
SHOW_IP = "show ip ospf neighbor"
SHOW = "show ospf neighbor"


class FakeDevice:
    """Stands in for an open NAPALM driver: `cli()` answers with a stored real output."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.commands: list[str] = []

    def cli(self, commands: list[str]) -> dict[str, str]:
        self.commands += commands
        return {command: self.text for command in commands}


def neighbors(*rows: tuple[str, str, str, str]) -> list[OspfNeighbor]:
    return [OspfNeighbor(*row) for row in rows]


SAMPLES = {  # raw file: (NAPALM driver, command it must send, neighbours the text shows)
    "arista_eos_show_ip_ospf_neighbor": ("eos", SHOW_IP, neighbors(
        ("3.3.3.3", "10.3.4.3", "Ethernet2", "full"),
        ("2.2.2.2", "10.2.4.2", "Ethernet3", "full"))),
    "arista_eos_show_ip_ospf_neighbor_2": ("eos", SHOW_IP, neighbors(
        ("192.0.2.2", "192.0.2.1", "Ethernet20/1", "full"),
        ("192.0.2.6", "192.0.2.5", "Vlan100", "full"),
        ("192.0.2.10", "192.0.2.9", "Ethernet20/1.10", "full"),
        ("192.0.2.14", "192.0.2.13", "Port-Channel100.10", "full"))),
    "cisco_ios_show_ip_ospf_neighbor": ("ios", SHOW_IP, neighbors(
        ("10.0.0.1", "10.0.1.1", "Port-channel1", "full"),
        ("10.0.0.2", "10.0.2.1", "Port-channel2", "full"),
        ("10.0.0.3", "10.0.3.1", "Vlan1000", "full"))),
    "cisco_ios_four_neighbors": ("ios", SHOW_IP, neighbors(
        ("10.190.30.2", "10.190.16.11", "GigabitEthernet0/2.101", "full"),
        ("10.190.30.3", "10.190.16.12", "GigabitEthernet0/2.101", "full"),
        ("10.190.30.2", "10.190.16.3", "GigabitEthernet0/2.100", "full"),
        ("10.190.30.3", "10.190.16.4", "GigabitEthernet0/2.100", "full"))),
    "cisco_nxos_show_ip_ospf_neighbor": ("nxos", SHOW_IP, neighbors(
        ("192.168.1.8", "192.168.2.2", "Vlan2", "full"),
        ("192.168.1.3", "192.168.1.3", "Eth1/1", "full"),
        ("192.168.1.4", "192.168.1.4", "Eth1/2", "full"))),
    "cisco_xr_show_ospf_neighbor": ("iosxr", SHOW, neighbors(
        ("1.1.1.1", "10.1.2.1", "GigabitEthernet0/0/0/1", "full"),
        ("2.2.2.2", "10.1.2.2", "GigabitEthernet0/0/0/1", "full"),
        ("4.4.4.4", "10.3.4.4", "GigabitEthernet0/0/0/2", "full"),
        ("1.1.1.1", "10.1.3.1", "GigabitEthernet0/0/0/3", "full"))),
    "juniper_junos_show_ospf_neighbor": ("junos", SHOW, neighbors(
        ("2.2.2.2", "10.1.2.2", "ge-0/0/2.0", "full"),
        ("3.3.3.3", "10.1.3.3", "ge-0/0/3.0", "full"))),
    "frr_show_ip_ospf_neighbor_p2p": ("frr", SHOW_IP, neighbors(
        ("198.18.0.2", "198.18.2.1", "eth1", "full"),
        ("198.18.0.3", "198.18.2.3", "eth2", "full"))),
    "frr_show_ip_ospf_neighbor_init": ("frr", SHOW_IP, neighbors(
        ("198.18.0.2", "198.18.2.1", "eth1", "init"),
        ("198.18.0.3", "198.18.2.3", "eth2", "full"))),
    "frr_show_ip_ospf_neighbor_twoway": ("frr", SHOW_IP, neighbors(
        ("198.18.0.2", "198.18.2.1", "eth1", "2way"),
        ("198.18.0.3", "198.18.2.3", "eth2", "full"))),
    "frr_show_ip_ospf_neighbor_backup": ("frr", SHOW_IP, neighbors(
        ("198.18.0.1", "198.18.2.0", "eth1", "full"),
        ("198.18.0.4", "198.18.2.5", "eth2", "full"))),
}


def raw(name: str) -> str:
    return (DATA / f"{name}.raw").read_text()


@pytest.mark.parametrize("name", SAMPLES)
def test_real_output_reads_as_the_device_shows(name: str) -> None:
    driver, command, expected = SAMPLES[name]
    device = FakeDevice(raw(name))
    assert ospf_neighbors(device, driver) == expected
    assert device.commands == [command]


def test_nxos_over_ssh_reads_like_nxapi() -> None:
    text = raw("cisco_nxos_show_ip_ospf_neighbor")
    assert ospf_neighbors(FakeDevice(text), "nxos_ssh") == \
        ospf_neighbors(FakeDevice(text), "nxos")


def test_two_way_reads_as_2way_however_spelled() -> None:
    """NX-OS prints 2-Way between DROthers as TWOWAY/DROTHER (the captured output, one row
    edited so): the steady state of a broadcast segment, not a pending adjacency."""
    text = raw("cisco_nxos_show_ip_ospf_neighbor").replace(
        "192.168.1.8       1 FULL/ -    ", "192.168.1.8       1 TWOWAY/DROTHER")
    assert [n.state for n in ospf_neighbors(FakeDevice(text), "nxos")] == \
        ["2way", "full", "full"]


def test_driver_without_template_is_a_clear_error() -> None:
    device = FakeDevice(raw("juniper_junos_show_ospf_neighbor"))
    with pytest.raises(HarnessError, match="no TextFSM template for OSPF neighbours on "
                                           "driver vyos"):
        ospf_neighbors(device, "vyos")
    assert device.commands == []


def test_frr_template_rejects_other_text_instead_of_finding_no_neighbours() -> None:
    with pytest.raises(HarnessError, match="frr template"):
        ospf_neighbors(FakeDevice(raw("arista_eos_show_ip_ospf_neighbor")), "frr")


# -- FRR's template against FRR's own JSON, in the real lab -------------------------------
ROUTERS = ("r1", "r2", "r3", "r4")
BROADCAST = ("r1", "r2")  # both ends of r1-r2 (eth1 on each)


def by_link(found: Iterable[OspfNeighbor]) -> list[OspfNeighbor]:
    return sorted(found, key=lambda n: (n.interface, n.address))


def from_json(lab: Lab, node: str) -> list[OspfNeighbor]:
    """The adjacencies as `show ip ospf neighbor json` gives them: the template's oracle."""
    shown: dict[str, Any] = lab.frr(node).vtysh_json("show ip ospf neighbor json")
    return by_link(OspfNeighbor(router_id=router_id, address=adj["ifaceAddress"],
                                interface=adj["ifaceName"].split(":")[0],
                                state=adj["nbrState"].split("/")[0].lower().replace("-", ""))
                   for router_id, adjs in shown["neighbors"].items() for adj in adjs)


def from_text(lab: Lab, node: str) -> list[OspfNeighbor]:
    """The adjacencies through the real NAPALM frr driver, opened as the harness opens it."""
    device = connect(node, lab=lab)
    try:
        return by_link(ospf_neighbors(device, "frr"))
    finally:
        device.close()


def eth1_role(lab: Lab, node: str) -> str:
    """The DR role `node`'s text shows for its full neighbour on eth1 ('' while not full)."""
    found = re.search(r"^\S+\s+\d+\s+Full/(\S+)\s.*\seth1:", lab.vtysh(node, SHOW_IP), re.M)
    return found.group(1) if found else ""


@pytest.fixture
def broadcast(two_path: Lab) -> Iterator[Lab]:
    """r1-r2 as a broadcast link, full with a DR and a Backup; point-to-point and full again
    after (not waiting for the whole lab to converge: the DR's network-LSA takes up to a
    minute to age out of every LSDB)."""
    ospf_network = ("configure terminal", "interface eth1")
    try:
        for node in BROADCAST:
            two_path.vtysh(node, *ospf_network, "no ip ospf network point-to-point")
        wait_for(lambda: {eth1_role(two_path, n) for n in BROADCAST} == {"DR", "Backup"}, 30)
        yield two_path
    finally:
        for node in BROADCAST:
            two_path.vtysh(node, *ospf_network, "ip ospf network point-to-point")
        wait_for(lambda: {eth1_role(two_path, n) for n in BROADCAST} == {"-"}, 30)


@pytest.mark.lab
def test_frr_template_reads_as_frr_json(two_path: Lab) -> None:
    for node in ROUTERS:
        found = from_text(two_path, node)
        assert found == from_json(two_path, node), node
        assert len(found) == 2 and all(n.state == "full" for n in found), node


@pytest.mark.lab
def test_frr_template_reads_dr_roles_as_frr_json(broadcast: Lab) -> None:
    for node in BROADCAST:
        assert from_text(broadcast, node) == from_json(broadcast, node), node
