"""A reading of each lab namespace's kernel state, taken again only after that kernel announced
a change of its links or routes (netlink events): watching a settled lab costs nothing."""

from __future__ import annotations

import errno
import select
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from harness.lab.netlink import NETLINK_ROUTE, NetlinkSocket

T = TypeVar("T")
# RTNLGRP_LINK (1), RTNLGRP_IPV4_ROUTE (7), RTNLGRP_IPV6_ROUTE (11): group n is bit n - 1
GROUPS = 1 << 0 | 1 << 6 | 1 << 10


class KernelWatch(Generic[T]):
    """`get(node)`: `read(node)` as of the node's last kernel change; `last_change`: when the
    latest change of any node was seen (`time.monotonic()`)."""

    def __init__(self, namespaces: dict[str, str], read: Callable[[str], T]) -> None:
        self._read = read
        self._socks: dict[str, NetlinkSocket] = {}
        self._readings: dict[str, T] = {}
        self.last_change = time.monotonic()
        try:
            for node, ns in namespaces.items():
                self._socks[node] = NetlinkSocket(ns, NETLINK_ROUTE, GROUPS)
                self._socks[node].sock.setblocking(False)
        except BaseException:
            self.close()
            raise

    def get(self, node: str) -> T:
        if self._drain(node) or node not in self._readings:
            self._readings[node] = self._read(node)
        return self._readings[node]

    def quiet(self, seconds: float) -> bool:
        """Whether no kernel announces a change for `seconds` (returns at the first one)."""
        ready, _, _ = select.select([s.sock for s in self._socks.values()], [], [],
                                    max(0.0, seconds))
        return not ready

    def _drain(self, node: str) -> bool:
        """Whether events arrived since the last drain (a lost event counts as one)."""
        changed = False
        while True:
            try:
                if not self._socks[node].sock.recv(1 << 16):
                    break
            except BlockingIOError:
                break
            except OSError as exc:  # ENOBUFS: events were dropped, so something changed
                if exc.errno != errno.ENOBUFS:
                    raise
            changed = True
        if changed:
            self.last_change = time.monotonic()
        return changed

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()

    def __enter__(self) -> KernelWatch[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
