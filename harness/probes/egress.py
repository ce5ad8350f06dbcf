"""Where a sender's frames go: the Ethernet header of the next hop toward a destination, as
this host's own routing and neighbour tables give it (stdlib only: it runs in the probe
agent, on a lab node or a remote host).

A sender that writes whole frames to the egress interface (AF_PACKET) costs the kernel about
half of what the IP path costs, which is what lets one 2-core machine probe 200k pps
(bench/probe_capacity.py). So that the probes still follow the host's routing, `Watcher`
listens to rtnetlink (links, addresses, routes, neighbours) and looks again after every
change. A destination without a resolved Ethernet next hop (no ARP entry yet, a route over a
non-Ethernet link, no route) is sent through the IP stack, which also resolves it.

One look is one netlink socket of the agent's own namespace: a dump of the links and of the
neighbours, and a route lookup per destination (`ip route get`). The kernel answers each in
microseconds, where an `ip` costs about 4 ms to start (48 of them ran at once when every
sender of a 50-router lab set up, and again after each routing change).
"""

from __future__ import annotations

import errno
import socket
import struct
import threading
import time
from collections.abc import Iterable

from harness.rtnetlink import ACK, CREATE, REPLACE, REQUEST, Message, Socket, attr, attributes

Key = tuple[str, str]  # (destination, source) addresses
Iface = tuple[int, bool, bytes]  # index, whether Ethernet and up, its address
Hop = tuple["Iface | None", str, "bytes | None"]  # egress link, next hop, its Ethernet address
RTMGRP = 0x1 | 0x4 | 0x10 | 0x40  # LINK | NEIGH | IPV4_IFADDR | IPV4_ROUTE
SETTLE_S = 0.005  # changes come in bursts: look once they stop
RTM_NEWNEIGH, RTM_GETNEIGH, RTM_GETROUTE = 28, 30, 26
NDA_DST, NDA_LLADDR, RTA_DST, RTA_SRC, RTA_OIF, RTA_GATEWAY = 1, 2, 1, 2, 4, 5
ARPHRD_ETHER = 1
NUD_NOARP, NUD_PERMANENT, NTF_USE = 0x40, 0x80, 0x01


class Egress:
    """The egress interface of a flow's frames and the Ethernet header they carry."""

    __slots__ = ("header", "ifindex")

    def __init__(self, ifindex: int, header: bytes) -> None:
        self.ifindex = ifindex
        self.header = header  # destination MAC, source MAC, ethertype IPv4


def _links(nl: Socket) -> dict[int, Iface]:
    return {link.index: (link.index, link.kind == ARPHRD_ETHER and link.up, link.address)
            for link in nl.links()}


def _neighbours(nl: Socket) -> dict[tuple[str, int], bytes]:
    """(address, interface index) -> Ethernet address of the IPv4 neighbours that have one
    (the kernel leaves it out of an incomplete or failed entry), but not NOARP entries (a
    broadcast or multicast address, a link without ARP): those go through IP, as `ip neigh`
    leaves them out too."""
    out = {}
    for payload in nl.dump(RTM_GETNEIGH, struct.pack("=BxxxiHBB", socket.AF_INET, 0, 0, 0, 0)):
        _, index, state, _, _ = struct.unpack_from("=BxxxiHBB", payload)
        attrs = attributes(payload, 12)
        if NDA_DST in attrs and NDA_LLADDR in attrs and not state & NUD_NOARP:
            out[socket.inet_ntoa(attrs[NDA_DST]), index] = attrs[NDA_LLADDR]
    return out


def _route(nl: Socket, dst: str, src: str) -> tuple[int, str] | None:
    """(egress interface index, next hop) toward `dst` from `src` (`ip route get DST from SRC`,
    or without the source where the kernel refuses it); None without a route."""
    for source in (src, None):
        body = struct.pack("=BBBBBBBBI", socket.AF_INET, 32, 32 if source else 0, 0, 0, 0, 0, 0, 0)
        body += attr(RTA_DST, socket.inet_aton(dst))
        if source:
            body += attr(RTA_SRC, socket.inet_aton(source))
        try:
            reply = nl.request(Message(RTM_GETROUTE, REQUEST | ACK, body))
        except OSError:
            continue
        attrs = attributes(reply[0], 12) if reply else {}
        if RTA_OIF not in attrs:
            return None
        hop = attrs.get(RTA_GATEWAY)
        return struct.unpack("=i", attrs[RTA_OIF])[0], socket.inet_ntoa(hop) if hop else dst
    return None


def _hops(nl: Socket, keys: Iterable[Key]) -> dict[Key, Hop]:
    """Per (destination, source): the egress link, the next hop's address, its neighbour
    Ethernet address (None if not known), as the host's routing table gives them."""
    links, neighbours = _links(nl), _neighbours(nl)
    out: dict[Key, Hop] = {}
    for key in sorted(set(keys)):
        route = _route(nl, *key)
        index, hop = route if route else (0, key[0])
        out[key] = links.get(index), hop, neighbours.get((hop, index))
    return out


def _egress(hop: Hop) -> Egress | None:
    """Where a flow's frames go over this hop, or None where they must go through IP."""
    link, _, neighbour = hop
    if link is None or not link[1] or neighbour is None:
        return None
    return Egress(link[0], neighbour + link[2] + b"\x08\x00")


def _egresses(hops: dict[Key, Hop]) -> dict[Key, Egress | None]:
    return {key: _egress(hop) for key, hop in hops.items()}


def resolve(keys: Iterable[Key]) -> dict[Key, Egress | None]:
    """The egress of each (destination, source), or None where it must go through IP."""
    with Socket() as nl:
        return _egresses(_hops(nl, keys))


def prime(keys: Iterable[Key], timeout_s: float = 1.0) -> dict[Key, Egress | None]:
    """Have the kernel resolve every Ethernet next hop not known yet (NTF_USE: the ARP request
    a first packet would cause), and wait for them. Otherwise a flow's first probes wait in
    the kernel's queue of unresolved packets (101 at most, the rest dropped) for as long as
    the answer takes, and a loaded machine can take a long time. Returns `resolve(keys)`."""
    with Socket() as nl:
        hops = _hops(nl, keys)
        unknown = {key for key, (link, _, neighbour) in hops.items()
                   if link is not None and link[1] and neighbour is None}
        if not unknown:
            return _egresses(hops)
        for key in unknown:
            link, hop, _ = hops[key]
            assert link is not None
            use = struct.pack("=BxxxiHBB", socket.AF_INET, link[0], NUD_PERMANENT, NTF_USE, 0)
            try:  # as `ip neigh replace HOP dev DEV use`
                nl.request(Message(RTM_NEWNEIGH, REQUEST | ACK | REPLACE | CREATE,
                                   use + attr(NDA_DST, socket.inet_aton(hop))))
            except OSError:
                pass  # then its probes go through IP, which resolves it
        deadline = time.monotonic() + timeout_s
        while None in _egresses(_hops(nl, unknown)).values() and time.monotonic() < deadline:
            time.sleep(0.01)
        return _egresses(_hops(nl, hops))


class Watcher(threading.Thread):
    """Resolves the keys again after every rtnetlink change; the sender picks up `result`
    (newest first) whenever `version` has moved, between two of its sends."""

    def __init__(self, keys: Iterable[Key]) -> None:
        """Listens first, then primes and resolves the keys: no change falls in between."""
        super().__init__(name="egress-watcher", daemon=True)
        self.keys = set(keys)
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, RTMGRP))
        self.result = prime(self.keys)
        self.version = 0
        self.error = ""

    def run(self) -> None:
        try:
            while True:
                self._change(None)
                while self._change(SETTLE_S):
                    pass
                self.result = resolve(self.keys)
                self.version += 1
        except Exception as exc:  # noqa: BLE001 - whatever it is, the probes must go on
            self.error = f"{type(exc).__name__}: {exc}"
            self.result = {}  # routing no longer followed here: every flow through IP
            self.version += 1

    def _change(self, timeout: float | None) -> bool:
        self.sock.settimeout(timeout)
        try:
            self.sock.recv(1 << 16)
        except (TimeoutError, socket.timeout):  # noqa: UP041 - two classes before Python 3.10 (remote hosts)
            return False
        except OSError as err:  # ENOBUFS: notifications were lost, so look again anyway
            if err.errno != errno.ENOBUFS:
                raise
        return True
