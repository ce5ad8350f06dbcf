"""The built-in lab's kernel and FRR as faults change them: interfaces, qdiscs and nftables
through netlink sockets opened once per namespace, commands inside a node's namespace, and a
router's FRR killed by pid and started again. Every error is a FaultError naming the lab."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Collection, Sequence

from harness.errors import HarnessError
from harness.faults.base import FaultError, Stamp, timed
from harness.lab import procs
from harness.lab.lab import Lab
from harness.lab.netlink import NetlinkSocket, link_admin, link_query, reply_index
from harness.lab.shell import run
from harness.rtnetlink import NETLINK_ROUTE, Message
from harness.topology import Endpoint

Call = tuple[NetlinkSocket, list[Message]]
FRR_START_TIMEOUT = 15.0
LINKS_PER_DATAGRAM = 32  # their acks stay far below a socket's receive buffer


class LabKernel:
    """Sockets and interface indexes are looked up before a fault's timed call (by its
    `check`, through `socket`/`ifindex`) and kept, so the timed call is the request alone."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self._sockets: dict[tuple[str, int], NetlinkSocket] = {}
        self._index: dict[Endpoint, int] = {}

    def socket(self, node: str, protocol: int = NETLINK_ROUTE) -> NetlinkSocket:
        key = (node, protocol)
        if key not in self._sockets:
            ns = self.lab.ns(node)
            try:
                self._sockets[key] = NetlinkSocket(ns, protocol)
            except FileNotFoundError:
                raise FaultError(f"lab {self.lab.name} is not up: no namespace {ns}") from None
            except OSError as exc:
                raise FaultError(f"netlink socket in {ns}: {exc.strerror} (root needed)") \
                    from None
        return self._sockets[key]

    def ifindex(self, end: Endpoint) -> int:
        if end not in self._index:
            try:
                reply = self.socket(end.node).request(link_query(end.interface))
            except OSError as exc:
                raise FaultError(f"lab {self.lab.name}: {end}: "
                                 f"{exc.strerror or 'no answer from the kernel'}") from None
            self._index[end] = reply_index(reply[0])
        return self._index[end]

    def apply(self, what: str, calls: Sequence[Call], ignore: Collection[int] = ()) -> Stamp:
        """Send each request in turn, timed as one change; an errno in `ignore` means the
        change is already so (e.g. deleting what is gone)."""
        def send() -> None:
            for sock, messages in calls:
                try:
                    sock.request(*messages)
                except OSError as exc:
                    if exc.errno not in ignore:
                        why = exc.strerror or "no answer from the kernel"
                        raise FaultError(f"lab {self.lab.name}: {what}: {why}") from None
        return timed(what, send)

    def set_links(self, ends: Sequence[Endpoint], up: bool) -> Stamp:
        """Interfaces administratively up or down, as one timed change: a node's changes go
        in datagrams of LINKS_PER_DATAGRAM, which the kernel takes in turn without waiting
        for this process (one request per interface took 5 ms each at 50 routers)."""
        by_node: dict[str, list[Message]] = {}
        for end in ends:
            by_node.setdefault(end.node, []).append(link_admin(self.ifindex(end), up))
        calls = [(self.socket(node), messages[i:i + LINKS_PER_DATAGRAM])
                 for node, messages in by_node.items()
                 for i in range(0, len(messages), LINKS_PER_DATAGRAM)]
        return self.apply(f"{','.join(map(str, ends))} {'up' if up else 'down'}", calls)

    def run(self, node: str, argv: Sequence[str], stdin: str | None = None) -> None:
        """A command inside the node's namespace (e.g. `nft -f -`)."""
        try:
            run(["ip", "netns", "exec", self.lab.ns(node), *argv], stdin=stdin)
        except HarnessError as exc:
            raise FaultError(f"lab {self.lab.name}: {node}: {exc}") from None

    def kill_frr(self, node: str, daemons: Sequence[str]) -> list[Stamp]:
        """SIGKILL the node's watchfrr first (so it restarts nothing), then the daemons; the
        Stamp runs until they are gone."""
        pids = self.lab.frr(node).pids()
        procs.kill([pids["watchfrr"]] if "watchfrr" in pids else [])
        victims = [pids[d] for d in daemons if d in pids]
        return [timed(f"{node} {' '.join(daemons)} killed", lambda: procs.kill(victims))]

    def start_frr(self, node: str, daemons: Sequence[str]) -> list[Stamp]:
        """Every FRR daemon of the node running under watchfrr again (those still alive are
        adopted, not restarted); nothing to do when all run."""
        frr = self.lab.frr(node)
        wanted = {"watchfrr", *daemons}
        running = frr.pids()
        if wanted <= running.keys():
            return []

        def bring_up() -> None:
            if "watchfrr" not in running:  # a live watchfrr restarts what is missing itself
                proc = frr.start(tuple(daemons))
                try:
                    _, err = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    raise FaultError(f"{node}: watchfrr did not start within 30 s") from None
                if proc.returncode != 0:
                    raise FaultError(f"{node}: watchfrr failed to start: "
                                     f"{err.decode().strip()}")
            end = time.monotonic() + FRR_START_TIMEOUT
            while not wanted <= frr.pids().keys():
                if time.monotonic() > end:
                    missing = sorted(wanted - frr.pids().keys())
                    raise FaultError(f"{node}: FRR daemons not running after "
                                     f"{FRR_START_TIMEOUT:g} s: {', '.join(missing)}")
                time.sleep(0.05)
        return [timed(f"{node} FRR started", bring_up)]

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
