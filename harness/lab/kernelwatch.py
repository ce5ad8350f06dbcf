"""Each lab namespace's kernel routes and links, read over netlink from this process (no `ip`
run), and read again only after that kernel announced a change (netlink events): watching a
settled lab costs nothing, and the time of the last change is known to the event."""

from __future__ import annotations

import errno
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import ip_address

from harness.lab.netlink import NetlinkSocket
from harness.rtnetlink import NETLINK_ROUTE, attributes

# RTNLGRP_LINK (1), RTNLGRP_IPV4_ROUTE (7), RTNLGRP_IPV6_ROUTE (11): group n is bit n - 1
GROUPS = 1 << 0 | 1 << 6 | 1 << 10
STOP_POLL_S = 0.1  # a wait with a stop event looks at it this often
_RTM_GETROUTE = 26
_RTA_DST, _RTA_OIF, _RTA_GATEWAY, _RTA_PRIORITY, _RTA_MULTIPATH, _RTA_TABLE = 1, 4, 5, 6, 9, 15
_RT_TABLE_MAIN, _RTN_UNICAST, RTPROT_OSPF = 254, 1, 188
_PROTOCOLS = {2: "kernel", 3: "boot", 4: "static", 186: "bgp", 188: "ospf", 196: "static"}


@dataclass(frozen=True)
class Route:
    """One route of the main table: prefix, protocol and its next hops (gateway, device)."""

    prefix: str
    protocol: int
    hops: tuple[tuple[str, str], ...]
    metric: int
    kind: int = _RTN_UNICAST

    def __str__(self) -> str:
        return self.line

    @cached_property
    def line(self) -> str:
        """As `ip route` shows it (the FIB text's line), made once per route."""
        hops = " ".join(f"via {gw} dev {dev}" if gw else f"dev {dev}" for gw, dev in self.hops)
        kind = "" if self.kind == _RTN_UNICAST else f" type {self.kind}"
        return (f"{self.prefix}{kind} {hops} proto "
                f"{_PROTOCOLS.get(self.protocol, self.protocol)} metric {self.metric}")


@dataclass(frozen=True)
class KernelState:
    """A namespace's main-table routes (IPv4 and IPv6) and its interfaces set up (`ip link set
    up`: the operational state follows up to a second later, when the kernel's link watch runs);
    `fib`: the routes as sorted lines (equal texts, equal forwarding tables); `ospf_hops`:
    prefix -> the gateways of its route, for routes that OSPF installed."""

    routes: tuple[Route, ...]
    admin_up: frozenset[str]
    fib: str = field(init=False)
    ospf_hops: dict[str, frozenset[str]] = field(init=False)

    def __post_init__(self) -> None:  # computed once: a reading is compared every round
        object.__setattr__(self, "fib", "\n".join(sorted(str(r) for r in self.routes)))
        object.__setattr__(self, "ospf_hops", {
            r.prefix: frozenset(gw for gw, _ in r.hops) for r in self.routes
            if r.protocol == RTPROT_OSPF})


@dataclass
class Parsed:
    """A namespace's routes of its last reading by netlink message (None: not of the main
    table), and the interface names they were parsed with: a message seen again with the
    same names is not parsed again (a route parses in ~8 us; a router of a 50-router lab
    holds ~250). One attribute, swapped whole: readers on other threads see one reading."""

    last: tuple[dict[int, str], dict[bytes, Route | None]] = ({}, {})


def read_kernel(sock: NetlinkSocket, parsed: Parsed | None = None) -> KernelState:
    """Links, then routes, dumped over `sock` (a NETLINK_ROUTE socket in the namespace);
    `parsed` reused, and updated to this reading."""
    links = sock.links()
    names = {link.index: link.name for link in links}
    up = {link.name for link in links if link.up}
    known, before = parsed.last if parsed is not None else ({}, {})
    if known != names:
        before = {}
    routes: list[Route] = []
    now: dict[bytes, Route | None] = {}
    for payload in sock.dump(_RTM_GETROUTE, struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 0, 0)):
        route = before[payload] if payload in before else _route(payload, names)
        if route is not None:
            routes.append(route)
        now[payload] = route
    if parsed is not None:
        parsed.last = (names, now)
    return KernelState(tuple(routes), frozenset(up))


def _route(payload: bytes, names: dict[int, str]) -> Route | None:
    """An RTM_NEWROUTE message's route, if of the main table and IPv4 or IPv6."""
    family, dst_len, _, _, table, protocol, _, kind, _ = struct.unpack_from("=BBBBBBBBI", payload)
    attrs = attributes(payload, 12)
    if _RTA_TABLE in attrs:
        table = struct.unpack("=I", attrs[_RTA_TABLE])[0]
    if table != _RT_TABLE_MAIN or family not in (socket.AF_INET, socket.AF_INET6):
        return None
    dst = _address(attrs[_RTA_DST]) if _RTA_DST in attrs else \
        ("0.0.0.0" if family == socket.AF_INET else "::")
    metric = struct.unpack("=I", attrs[_RTA_PRIORITY])[0] if _RTA_PRIORITY in attrs else 0
    return Route(f"{dst}/{dst_len}", protocol, _hops(attrs, names), metric, kind)


def _address(raw: bytes) -> str:
    return str(ip_address(raw))


def _hops(attrs: dict[int, bytes], names: dict[int, str]) -> tuple[tuple[str, str], ...]:
    """A route's next hops: each (gateway or '', device), sorted."""
    def one(a: dict[int, bytes], index: int) -> tuple[str, str]:
        gw = _address(a[_RTA_GATEWAY]) if _RTA_GATEWAY in a else ""
        return gw, names.get(index, str(index))
    if _RTA_MULTIPATH not in attrs:
        oif = struct.unpack("=i", attrs[_RTA_OIF])[0] if _RTA_OIF in attrs else 0
        return (one(attrs, oif),)
    raw, hops, offset = attrs[_RTA_MULTIPATH], [], 0
    while offset + 8 <= len(raw):  # struct rtnexthop: len, flags, hops, ifindex; attributes
        size, _, _, index = struct.unpack_from("=HBBi", raw, offset)
        hops.append(one(attributes(raw[offset: offset + size], 8), index))
        offset += max(8, (size + 3) & ~3)
    return tuple(sorted(hops))


class KernelWatch:
    """`get(node)`: the node's kernel state as of its last announced change. `wait(seconds)`:
    sleep, noting which kernels announce changes; `last_change`: when the latest was seen."""

    def __init__(self, namespaces: dict[str, str], parsed: dict[str, Parsed] | None = None,
                 stop: threading.Event | None = None) -> None:
        """`parsed`: each node's routes of its last reading (`Parsed`), kept by the caller
        for the next watch. `stop`: once another thread sets it, a wait ends within
        STOP_POLL_S (see `stopped`)."""
        self._stop = stop
        self._events: dict[str, NetlinkSocket] = {}
        self._queries: dict[str, NetlinkSocket] = {}
        self._readings: dict[str, KernelState] = {}
        self._parsed = {node: (parsed or {}).get(node) or Parsed() for node in namespaces}
        self._changed: set[str] = set()
        self.last_change = time.monotonic()
        try:
            for node, ns in namespaces.items():
                events = NetlinkSocket(ns, NETLINK_ROUTE, GROUPS)
                self._events[node] = events
                events.sock.setblocking(False)
                events.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                self._queries[node] = NetlinkSocket(ns, NETLINK_ROUTE)
        except BaseException:
            self.close()
            raise

    def get(self, node: str) -> KernelState:
        """Safe from one thread per node: an event arriving during the read marks the node
        changed again, so the next `get` reads it again."""
        if node in self._changed or node not in self._readings:
            self._changed.discard(node)
            self._readings[node] = read_kernel(self._queries[node], self._parsed[node])
        return self._readings[node]

    @property
    def stopped(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def wait(self, seconds: float, *, quiet: float | None = None, since: float = 0.0,
             at_least: float = 0.0) -> bool:
        """Sleep `seconds`, draining the events that arrive; whether any did. With `quiet`:
        end early (but not before `at_least`) once the kernels, having announced a change
        after `since`, have been quiet that long. Ends early once `stopped`."""
        start = time.monotonic()
        deadline, seen = start + seconds, False
        by_fd = {s.sock.fileno(): node for node, s in self._events.items()}
        while True:
            until = deadline
            if quiet is not None and self.last_change > since:
                until = max(start + at_least, min(deadline, self.last_change + quiet))
            left = max(0.0, until - time.monotonic())
            ready, _, _ = select.select(list(by_fd), [], [],
                                        left if self._stop is None else min(left, STOP_POLL_S))
            if not ready and (self.stopped or time.monotonic() >= until):
                return seen
            if not ready:
                continue
            self.last_change, seen = time.monotonic(), True
            for fd in ready:
                self._drain(by_fd[fd])
            if time.monotonic() >= deadline:
                return seen

    def _drain(self, node: str) -> None:
        sock = self._events[node].sock
        while True:
            try:
                if not sock.recv(1 << 16):
                    break
            except BlockingIOError:
                break
            except OSError as exc:  # ENOBUFS: events were dropped, so something changed
                if exc.errno != errno.ENOBUFS:
                    raise
        self._changed.add(node)

    def close(self) -> None:
        for sock in (*self._events.values(), *self._queries.values()):
            sock.close()

    def __enter__(self) -> KernelWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
