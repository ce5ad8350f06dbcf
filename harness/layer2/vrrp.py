"""VRRP groups as a topology configures them: each router's `vrrp VRID` lines (its FRR
configuration), the members of one group being those of one VRID in one layer-2 domain; the
master expected is the member of highest priority (RFC 5798; a tie goes to the highest
primary address, which the topology alone may not tell)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING

from harness.inputfile import read_text
from harness.layer2.frrconf import InterfaceConf, interfaces
from harness.layer2.graph import Layer2, Port

if TYPE_CHECKING:
    from harness.lab.vrrp import VrrpMember

# a member, by (node, interface, vrid) -> why it cannot be a gateway now (a live reading)
Health = Mapping[tuple[str, str, int], str]


@dataclass(frozen=True)
class Member:
    node: str
    interface: str
    vrid: int
    priority: int
    addresses: tuple[IPv4Address, ...]
    primary: IPv4Interface | None  # the interface's own first address
    shutdown: bool = False

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.node, self.interface, self.vrid)

    @property
    def port(self) -> Port:
        return (self.node, self.interface)

    def __str__(self) -> str:
        return f"{self.node}:{self.interface}"


@dataclass(frozen=True)
class Group:
    vrid: int
    addresses: tuple[IPv4Address, ...]
    members: tuple[Member, ...]  # highest priority first

    @property
    def master(self) -> Member:
        """The member expected to be master with every member up."""
        return self.members[0]

    def name(self) -> str:
        return f"VRRP group {self.vrid} of {', '.join(map(str, self.members))}"


def router_interfaces(topology_layer2: Layer2) -> dict[str, dict[str, InterfaceConf]]:
    """Each FRR router's interfaces as its configuration gives them."""
    out = {}
    for node in topology_layer2.topology.routers:
        assert node.frr is not None
        try:
            out[node.name] = interfaces(read_text(node.frr.config))
        except OSError:
            out[node.name] = {}
    return out


def _elected(member: Member) -> tuple[int, int]:
    return (member.priority, int(member.primary.ip) if member.primary else 0)


def groups(layer2: Layer2, configs: Mapping[str, Mapping[str, InterfaceConf]]) -> list[Group]:
    """Every VRRP group with IPv4 virtual addresses: one VRID's members in one domain."""
    domains = layer2.domains()
    found: dict[tuple[int, int | Port], list[Member]] = {}
    for node, ifaces in configs.items():
        for ifname, conf in ifaces.items():
            for vrrp in conf.vrrp.values():
                if not vrrp.addresses:
                    continue
                port = layer2.resolve((node, ifname))
                member = Member(node, ifname, vrrp.vrid, vrrp.priority,
                                tuple(vrrp.addresses),
                                conf.addresses[0] if conf.addresses else None,
                                vrrp.shutdown)
                found.setdefault((vrrp.vrid, domains.get(port, port)), []).append(member)
    out = []
    for (vrid, _), members in sorted(found.items(), key=lambda kv: str(kv[0])):
        addresses = sorted({a for m in members for a in m.addresses})
        out.append(Group(vrid, tuple(addresses),
                         tuple(sorted(members, key=_elected, reverse=True))))
    return out


def addresses(layer2: Layer2, configs: Mapping[str, Mapping[str, InterfaceConf]]
              ) -> dict[IPv4Address, Port]:
    """Every node's own IPv4 addresses (routers' configurations, every node's exec) -> the
    interface that holds it."""
    out: dict[IPv4Address, Port] = {}
    for node, ifaces in configs.items():
        for ifname, conf in ifaces.items():
            out.update({a.ip: (node, ifname) for a in conf.addresses})
    for node, build in layer2.builds.items():
        out.update({a.ip: (node, ifname) for ifname, a in build.addresses
                    if ifname not in build.macvlans})
    return out


def health(members: list[Member], live: Mapping[str, list[VrrpMember] | None]
           ) -> dict[tuple[str, str, int], str]:
    """The members that cannot be a gateway now, and why, from a live reading: each node's
    groups as its vrrpd shows them, with its interface's state in the kernel
    (`harness.lab.vrrp`; None: its vrrpd is not running)."""
    out = {}
    for m in members:
        shown = live.get(m.node)
        found = next((g for g in shown or [] if (g.interface, g.vrid) == (m.interface, m.vrid)),
                     None)
        if shown is None:
            out[m.key] = "vrrpd not running"
        elif found is None:
            out[m.key] = f"no VRRP group {m.vrid} on {m.interface} (show vrrp)"
        elif not found.link_up:  # FRR 8.4's vrrpd may still show Master then
            out[m.key] = f"its interface {m.interface} is down"
        elif not found.healthy:
            out[m.key] = (f"VRRP group {m.vrid} on {m.interface} is {found.status} "
                          "(its interface or macvlan down, or the group shut down)")
    return out
