"""Where a sender's frames go: the Ethernet header of the next hop toward a destination, as
this host's own routing and neighbour tables give it (stdlib and iproute2 only: it runs in
the probe agent, on a lab node or a remote host).

A sender that writes whole frames to the egress interface (AF_PACKET) costs the kernel about
half of what the IP path costs, which is what lets one 2-core machine probe 200k pps
(bench/probe_capacity.py). So that the probes still follow the host's routing, `Watcher`
listens to rtnetlink (links, addresses, routes, neighbours) and looks again after every
change. A destination without a resolved Ethernet next hop (no ARP entry yet, a route over a
non-Ethernet link, no route) is sent through the IP stack, which also resolves it.

One look is one `ip -batch` (links, neighbours, a route per destination): an `ip` costs about
4 ms to start, and the agent must start fast and follow a routing change quickly.
"""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterable

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of a start-up)
if TYPE_CHECKING:
    from typing import Any

Key = tuple[str, str]  # (destination, source) addresses
Hop = tuple["dict[str, Any]", str, "dict[str, Any]"]  # egress link, next hop, its neighbour
RTMGRP = 0x1 | 0x4 | 0x10 | 0x40  # LINK | NEIGH | IPV4_IFADDR | IPV4_ROUTE
SETTLE_S = 0.005  # changes come in bursts: look once they stop
UNUSABLE = {"FAILED", "INCOMPLETE"}


class Egress:
    """The egress interface of a flow's frames and the Ethernet header they carry."""

    __slots__ = ("header", "ifindex")

    def __init__(self, ifindex: int, header: bytes) -> None:
        self.ifindex = ifindex
        self.header = header  # destination MAC, source MAC, ethertype IPv4


def _ip(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        return []
    data = json.loads(out.stdout)
    return data if isinstance(data, list) else []


def _ip_batch(commands: list[str]) -> list[list[dict[str, Any]]] | None:
    """Each command's JSON output, from one `ip -batch`; None if a command failed."""
    out = subprocess.run(["ip", "-j", "-batch", "-"], input="\n".join(commands) + "\n",
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    text, pos, outputs = out.stdout, 0, []
    decode = json.JSONDecoder().raw_decode
    while (pos := len(text) - len(text[pos:].lstrip())) < len(text):
        try:
            value, pos = decode(text, pos)
        except ValueError:  # not the JSON of this `ip`: one by one instead
            return None
        outputs.append(value if isinstance(value, list) else [])
    return outputs if len(outputs) == len(commands) else None


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _hops(keys: Iterable[Key]) -> dict[Key, Hop]:
    """Per (destination, source): the egress link, the next hop's address, its neighbour
    entry ({} if none), as the host's routing table gives them."""
    keys = sorted(set(keys))
    looked = _ip_batch(["link show", "neigh show",
                        *(f"route get {dst} from {src}" for dst, src in keys)])
    if looked is None:  # a route from that source failed: one by one, falling back
        links, neigh = _ip("link", "show"), _ip("-4", "neigh", "show")
        routes = [_ip("route", "get", dst, "from", src) or _ip("route", "get", dst)
                  for dst, src in keys]
    else:
        links, neigh, *routes = looked
    by_name = {link["ifname"]: link for link in links}
    neighbours = {(n.get("dst"), n.get("dev")): n for n in neigh}
    out = {}
    for i, key in enumerate(keys):  # (no zip(strict=...): remote hosts may run Python 3.9)
        route = next(iter(routes[i]), {})
        dev, hop = route.get("dev", ""), route.get("gateway", key[0])
        out[key] = by_name.get(dev, {}), hop, neighbours.get((hop, dev), {})
    return out


def _egresses(hops: dict[Key, Hop]) -> dict[Key, Egress | None]:
    """The egress of each (destination, source), or None where it must go through IP."""
    out: dict[Key, Egress | None] = {}
    for key, (link, _, neighbour) in hops.items():
        usable = (_ethernet(link) and "lladdr" in neighbour
                  and not UNUSABLE & set(neighbour.get("state", [])))
        out[key] = Egress(int(link["ifindex"]), _mac(neighbour["lladdr"])
                          + _mac(link["address"]) + b"\x08\x00") if usable else None
    return out


def resolve(keys: Iterable[Key]) -> dict[Key, Egress | None]:
    """The egress of each (destination, source), or None where it must go through IP."""
    return _egresses(_hops(keys))


def _ethernet(link: dict[str, Any]) -> bool:
    return link.get("link_type") == "ether" and "UP" in link.get("flags", [])


def prime(keys: Iterable[Key], timeout_s: float = 1.0) -> dict[Key, Egress | None]:
    """Have the kernel resolve every Ethernet next hop not known yet (NTF_USE: the ARP request
    a first packet would cause), and wait for them. Otherwise a flow's first probes wait in
    the kernel's queue of unresolved packets (101 at most, the rest dropped) for as long as
    the answer takes, and a loaded machine can take a long time. Returns `resolve(keys)`."""
    hops = _hops(keys)
    unknown = {key for key, (link, _, neighbour) in hops.items()
               if _ethernet(link) and "lladdr" not in neighbour}
    if not unknown:
        return _egresses(hops)
    deadline = time.monotonic() + timeout_s
    for key in unknown:
        link, hop, _ = hops[key]
        subprocess.run(["ip", "neigh", "replace", hop, "dev", link["ifname"], "use"],
                       capture_output=True, check=False)
    while None in resolve(unknown).values() and time.monotonic() < deadline:
        time.sleep(0.01)
    return resolve(hops)


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
