"""Where a sender's frames go: the Ethernet header of the next hop toward a destination, as
this host's own routing and neighbour tables give it (stdlib and iproute2 only: it runs in
the probe agent, on a lab node or a remote host).

A sender that writes whole frames to the egress interface (AF_PACKET) costs the kernel about
half of what the IP path costs, which is what lets one 2-core machine probe 200k pps
(bench/probe_capacity.py). So that the probes still follow the host's routing, `Watcher`
listens to rtnetlink (links, addresses, routes, neighbours) and looks again after every
change. A destination without a resolved Ethernet next hop (no ARP entry yet, a route over a
non-Ethernet link, no route) is sent through the IP stack, which also resolves it.
"""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]  # (destination, source) addresses
RTMGRP = 0x1 | 0x4 | 0x10 | 0x40  # LINK | NEIGH | IPV4_IFADDR | IPV4_ROUTE
SETTLE_S = 0.005  # changes come in bursts: look once they stop
UNUSABLE = {"FAILED", "INCOMPLETE"}


@dataclass(frozen=True)
class Egress:
    ifindex: int
    header: bytes  # destination MAC, source MAC, ethertype IPv4


def _ip(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        return []
    data = json.loads(out.stdout)
    return data if isinstance(data, list) else []


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _hops(keys: Iterable[Key]) -> dict[Key, tuple[dict[str, Any], str, dict[str, Any]]]:
    """Per (destination, source): the egress link, the next hop's address, its neighbour
    entry ({} if none), as the host's routing table gives them."""
    links = {link["ifname"]: link for link in _ip("link", "show")}
    neighbours = {(n["dst"], n["dev"]): n for n in _ip("-4", "neigh", "show")}
    out = {}
    for dst, src in set(keys):
        route = next(iter(_ip("route", "get", dst, "from", src) or _ip("route", "get", dst)),
                     {})
        dev, hop = route.get("dev", ""), route.get("gateway", dst)
        out[dst, src] = links.get(dev, {}), hop, neighbours.get((hop, dev), {})
    return out


def resolve(keys: Iterable[Key]) -> dict[Key, Egress | None]:
    """The egress of each (destination, source), or None where it must go through IP."""
    out: dict[Key, Egress | None] = {}
    for key, (link, _, neighbour) in _hops(keys).items():
        usable = (_ethernet(link) and "lladdr" in neighbour
                  and not UNUSABLE & set(neighbour.get("state", [])))
        out[key] = Egress(int(link["ifindex"]), _mac(neighbour["lladdr"])
                          + _mac(link["address"]) + b"\x08\x00") if usable else None
    return out


def _ethernet(link: dict[str, Any]) -> bool:
    return link.get("link_type") == "ether" and "UP" in link.get("flags", [])


def prime(keys: Iterable[Key], timeout_s: float = 1.0) -> dict[Key, Egress | None]:
    """Have the kernel resolve every Ethernet next hop not known yet (NTF_USE: the ARP request
    a first packet would cause), and wait for them. Otherwise a flow's first probes wait in
    the kernel's queue of unresolved packets (101 at most, the rest dropped) for as long as
    the answer takes, and a loaded machine can take a long time. Returns `resolve(keys)`."""
    keys = set(keys)
    deadline = time.monotonic() + timeout_s
    unknown = set()
    for key, (link, hop, neighbour) in _hops(keys).items():
        if _ethernet(link) and "lladdr" not in neighbour:
            unknown.add(key)
            subprocess.run(["ip", "neigh", "replace", hop, "dev", link["ifname"], "use"],
                           capture_output=True, check=False)
    while unknown and None in resolve(unknown).values() and time.monotonic() < deadline:
        time.sleep(0.01)
    return resolve(keys)


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
