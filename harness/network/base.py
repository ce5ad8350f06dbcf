"""What the runner needs of a network: probe endpoints, convergence, state, facts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Network
from typing import Any, Protocol, TypeVar

from harness.faults.target import Target
from harness.probes.endpoints import ProbeEndpoint
from harness.topology import Topology

# node -> part ("ospf", "fib", "interfaces", ...) -> sorted text lines, stable across reads
Snapshot = dict[str, dict[str, list[str]]]
WORKERS = 20  # devices read at once, by default (as Nornir's threaded runner)
T = TypeVar("T")


def each(nodes: Sequence[str], read: Callable[[str], T], workers: int) -> dict[str, T]:
    """`read(node)` of every node, at most `workers` at a time: node -> its result."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(nodes)))) as pool:
        return dict(zip(nodes, pool.map(read, nodes), strict=True))


class Network(Protocol):
    """A network a scenario can be run on. Reading it changes nothing; faults change it
    only through the `Target` it gives (`target()`)."""

    @property
    def name(self) -> str:
        """Names the network in the journal and the results."""

    @property
    def kind(self) -> str:
        """`lab` (the built-in lab) or `devices` (reached through NAPALM and SSH)."""

    @property
    def topology(self) -> Topology: ...

    def endpoint(self, node: str) -> ProbeEndpoint:
        """Where the probes of a flow's `node` run."""

    def wait_converged(self, timeout: float, stop: threading.Event | None = None,
                       through: float | None = None) -> int:
        """Return once routing has converged, and with `through` (time.monotonic()) stayed
        so until then: when (time.time_ns) the reading that found it so started (it had
        converged by then); NetworkError naming what is pending after `timeout`, or once
        another thread sets `stop` (at the latest when the reading under way ends)."""

    def degraded(self) -> list[str]:
        """What is down that should be up (a link, a daemon, an adjacency, a device)."""

    def gateway_health(self) -> dict[tuple[str, str, int], str]:
        """The topology's VRRP members that cannot be a gateway now, by (node, interface,
        VRID), and why (empty where the network offers no live reading)."""

    def target(self) -> Target:
        """What faults act on in this network (a new one per run: it holds open sockets)."""

    def forwarding(self) -> dict[str, list[tuple[IPv4Network, tuple[str, ...]]]]:
        """Each node's IPv4 routes: prefix -> outgoing interfaces (several for ECMP); the
        nodes whose tables cannot be read are left out."""

    def snapshot(self) -> Snapshot:
        """Each router's state, to compare before and after a run."""

    def facts(self) -> dict[str, dict[str, Any]]:
        """Each router's NAPALM facts (an unreachable one says why under `error`)."""

    def close(self) -> None: ...
