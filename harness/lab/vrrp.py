"""VRRP groups as FRR's vrrpd shows them (`show vrrp json`), and whether each has converged:
exactly one master, and the expected one (RFC 5798: the highest priority among the healthy
members, a tie going to the highest primary address). Two masters in one group is a split
brain: reported by name, never judged converged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address
from typing import TYPE_CHECKING, Any

from harness.inputfile import read_text
from harness.layer2.frrconf import interfaces

if TYPE_CHECKING:
    from harness.lab.lab import Lab

SHOW_VRRP = "show vrrp json"
HEALTHY = ("Master", "Backup")  # Initialize: its interface or macvlan is down or missing
ABSENT = "not started"  # configured, but vrrpd shows no such group (yet)


@dataclass(frozen=True)
class VrrpMember:
    """One router's view of one VRRP group (IPv4)."""

    router: str
    vrid: int
    interface: str  # the group's interface (a VLAN's bridge), not its macvlan
    status: str  # Master, Backup, Initialize
    priority: int  # effective priority
    address: str  # the router's primary address on the interface ('' when it has none)
    virtual: tuple[str, ...]  # the virtual addresses
    preempt: bool = True
    link_up: bool = True  # its interface is operationally up in the kernel

    @property
    def group(self) -> str:
        """The group's name: its VRID and virtual addresses, the same on every member."""
        return f"VRRP {self.vrid} ({', '.join(self.virtual) or 'no address'})"

    @property
    def healthy(self) -> bool:
        """Running the group on a live interface (FRR 8.4 may still show a Master whose
        interface went down)."""
        return self.status in HEALTHY and self.link_up

    @property
    def master(self) -> bool:
        return self.healthy and self.status == "Master"

    def rank(self) -> tuple[int, IPv4Address]:
        """Election order: priority, then primary address (RFC 5798 6.4.3)."""
        try:
            address = ip_address(self.address)
        except ValueError:
            address = IPv4Address(0)
        return self.priority, address if isinstance(address, IPv4Address) else IPv4Address(0)


def configured(config: str) -> dict[tuple[str, int], tuple[str, ...]]:
    """(interface, VRID) -> virtual IPv4 addresses, from an FRR configuration's
    `interface` blocks (`vrrp 20 ip 198.19.20.1`; groups shut down left out)."""
    return {(iface, vrid): tuple(sorted(str(a) for a in group.addresses))
            for iface, conf in interfaces(config).items()
            for vrid, group in conf.vrrp.items() if group.addresses and not group.shutdown}


def parse_members(router: str, shown: Any, kernel: dict[str, tuple[str, str]],
                  config: dict[tuple[str, int], tuple[str, ...]] | None = None
                  ) -> list[VrrpMember]:
    """The IPv4 groups in `show vrrp json` (`shown`); `kernel`: interface -> (operational
    state, primary IPv4 address) (FRR shows a Backup's address as empty); `config`: the
    groups the router's configuration has (`configured`): one vrrpd does not show is a
    member `not started`."""
    out = []
    for group in shown if isinstance(shown, list) else []:
        v4 = group.get("v4") or {}
        iface = str(group.get("interface", ""))
        if not v4 or not v4.get("addresses"):
            continue
        state, address = kernel.get(iface, ("", ""))
        out.append(VrrpMember(
            router=router, vrid=int(group.get("vrid", 0)), interface=iface,
            status=str(v4.get("status", "Initialize")),
            priority=int(v4.get("effectivePriority", group.get("priority", 0))),
            address=str(v4.get("primaryAddress") or address),
            virtual=tuple(sorted(str(a) for a in v4.get("addresses", []))),
            preempt=bool(group.get("preemptMode", True)), link_up=state == "UP"))
    shown_keys = {(m.interface, m.vrid) for m in out}
    for (iface, vrid), virtual in (config or {}).items():
        if (iface, vrid) not in shown_keys:
            state, address = kernel.get(iface, ("", ""))
            out.append(VrrpMember(router, vrid, iface, ABSENT, 0, address, virtual,
                                  link_up=state == "UP"))
    return out


def groups(members: list[VrrpMember]) -> dict[str, list[VrrpMember]]:
    """Members by group name, each group's members by router."""
    out: dict[str, list[VrrpMember]] = {}
    for m in members:
        out.setdefault(m.group, []).append(m)
    return {name: sorted(ms, key=lambda m: m.router) for name, ms in sorted(out.items())}


def expected_master(members: list[VrrpMember]) -> VrrpMember | None:
    """Who should be master: the highest-ranked healthy member (None if none is healthy)."""
    healthy = [m for m in members if m.healthy]
    return max(healthy, key=VrrpMember.rank) if healthy else None


def judge(members: list[VrrpMember]) -> list[str]:
    """What keeps the groups from having converged, one line each (none: converged)."""
    out = [f"{m.router} {m.group} on {m.interface}: {m.status}" for m in members
           if m.link_up and not m.healthy]
    for name, ms in groups(members).items():
        masters = [m.router for m in ms if m.master]
        expected = expected_master(ms)
        if expected is None:
            continue  # no healthy member: nothing to elect
        if len(masters) > 1:
            out.append(f"{name}: split brain, {' and '.join(masters)} are both master")
        elif not masters:
            out.append(f"{name}: no master yet ({', '.join(f'{m.router} {m.status}' for m in ms)})")
        elif masters[0] != expected.router and expected.preempt:
            out.append(f"{name}: master is {masters[0]}, expected {expected.router} "
                       f"(priority {expected.priority})")
    return out


def kernel_interfaces(lab: Lab, node: str) -> dict[str, tuple[str, str]]:
    """Interface -> (operational state, first IPv4 address or '') in the node's namespace."""
    shown = json.loads(lab.run(node, ["ip", "-j", "-4", "addr", "show"], check=False) or "[]")
    return {i["ifname"]: (i.get("operstate", ""),
                          i["addr_info"][0]["local"] if i.get("addr_info") else "")
            for i in shown}


def read_members(lab: Lab, router: str, shown: Any = None) -> list[VrrpMember]:
    """The router's VRRP groups now (`shown`: its `show vrrp json`, when already read); none
    when its vrrpd does not run."""
    frr = lab.frr(router)
    spec = lab.node(router).frr
    if spec is None or not frr.running("vrrpd"):
        return []
    shown = frr.vty_jsons("vrrpd", SHOW_VRRP)[0] if shown is None else shown
    return parse_members(router, shown, kernel_interfaces(lab, router),
                         configured(read_text(spec.config)))
