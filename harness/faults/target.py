"""A network as faults act on it: names resolved, one open netlink socket per namespace of
the built-in lab. On real devices (no lab) only faults acting through NAPALM can run."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from harness.errors import LabError
from harness.faults.base import FaultError, Stamp, require, timed
from harness.faults.netlink import (
    NETLINK_ROUTE,
    Message,
    NetlinkSocket,
    link_admin,
    link_query,
    reply_index,
)
from harness.lab import Lab
from harness.topology import Endpoint
from harness.topology.model import FrrSpec

Call = tuple[NetlinkSocket, list[Message]]


def ends_text(ends: Sequence[Endpoint]) -> str:
    return ",".join(map(str, ends))


class Target:
    """Resolves a fault's node and link names in a lab, and sends its netlink requests.

    Sockets and interface indexes are looked up by `check` (through `socket`/`ifindex`) and
    kept, so the timed call of `inject`/`restore` is only the request itself. `built_in` is
    the lab, or None for a network of real devices named `name`.
    """

    def __init__(self, built_in: Lab | None, name: str = "") -> None:
        self.built_in = built_in
        self.name = name or (built_in.name if built_in else "")
        self._sockets: dict[tuple[str, int], NetlinkSocket] = {}
        self._index: dict[Endpoint, int] = {}

    @property
    def lab(self) -> Lab:
        """The built-in lab; FaultError on real devices (the fault acts on a lab's kernel)."""
        if self.built_in is None:
            raise FaultError(f"network {self.name} is not the built-in lab: only faults made "
                             "through NAPALM (planned-drain, interface-shutdown) run there")
        return self.built_in

    def router(self, node: str) -> FrrSpec:
        """The node's FRR spec; FaultError if it is unknown or not a router."""
        try:
            spec = self.lab.node(node).frr
        except LabError as exc:
            raise FaultError(str(exc)) from None
        if spec is None:
            raise FaultError(f"{node} is not an FRR router in lab {self.lab.name}")
        return spec

    def endpoints(self, link: str | None, node: str | None, one_end: bool) -> list[Endpoint]:
        """The interfaces a link names (both ends, or only the `node:ifname` given), or every
        interface of a node."""
        topo = self.lab.topology
        if node is not None:
            require(node in topo.nodes, f"lab {self.lab.name} has no node {node!r} "
                                        f"(nodes: {', '.join(topo.nodes)})")
            return [lk.end(node) for lk in topo.links_of(node)]
        assert link is not None
        try:
            found = topo.find_link(link)
        except KeyError as exc:
            raise FaultError(f"lab {self.lab.name}: {exc.args[0]}") from None
        return [found.end(link.partition(":")[0])] if one_end else [found.a, found.b]

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
        """Interfaces administratively up or down, as one timed change."""
        calls = [(self.socket(e.node), [link_admin(self.ifindex(e), up)]) for e in ends]
        return self.apply(f"{ends_text(ends)} {'up' if up else 'down'}", calls)

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
