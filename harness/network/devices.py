"""Real devices as a scenario's network: routers read through their NAPALM drivers (and
TextFSM where NAPALM has no getter), probes on Linux hosts reached over SSH. Nothing here
needs the built-in lab, a namespace or vtysh on this machine.

Converged means, on two readings in a row that are equal (of the interfaces, only the
topology's links count): every router reachable; every interface the topology gives a router
up; every OSPF neighbour Full (or 2-Way, between
DROthers); every router with an active route to every probe address; and, after the
first convergence, every OSPF adjacency seen then present again (what "restored" means).
A device that cannot be read before the first convergence is an error at once; later (a
device coming back) it is waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Any

from harness.devices import DeviceSpec, connect, facts_of
from harness.devices.state import UP_STATES, DeviceState, read_state
from harness.errors import DeviceError
from harness.faults.target import Target
from harness.network.base import WORKERS, Snapshot, each
from harness.probes.ssh_endpoint import SshEndpoint
from harness.topology import Topology

if TYPE_CHECKING:
    from napalm.base import NetworkDriver

POLL_S = 0.5  # between two readings of every router
FRESH_S = 2.0  # a reading this recent stands for the state (e.g. the one proving convergence)

Reading = dict[str, DeviceState | str]  # node -> its state, or why it could not be read


class DeviceNetwork:
    kind = "devices"

    def __init__(self, name: str, topology: Topology, inventory: Mapping[str, DeviceSpec],
                 probes: Mapping[str, SshEndpoint], workers: int = WORKERS) -> None:
        """`workers`: devices read at once (each on its own session)."""
        self.name = name
        self.workers = workers
        self.topology = topology
        self.inventory = dict(inventory)
        self.probes = dict(probes)
        self._drivers: dict[str, NetworkDriver] = {}
        self._locks = {node: threading.Lock() for node in self.inventory}
        self._adjacencies: set[tuple[str, str, str]] | None = None  # at first convergence
        self._last: tuple[float, Reading] | None = None  # when it was complete, the reading

    def target(self) -> Target:
        return Target(None, self.name, self.topology)

    def forwarding(self) -> dict[str, list[tuple[IPv4Network, tuple[str, ...]]]]:
        """Not read from devices (NAPALM has no uniform whole-table getter): predictions
        come from the topology."""
        return {}

    def endpoint(self, node: str) -> SshEndpoint:
        return self.probes[node]

    def wait_converged(self, timeout: float, stop: threading.Event | None = None,
                       through: float | None = None) -> int:
        """Converged: nothing pending in two readings in a row that are the same (the
        network was converged from the first of them on), and with `through`, every reading
        until then the same."""
        deadline = time.monotonic() + timeout
        stop = stop or threading.Event()
        previous: Reading | None = None
        previous_ns = 0
        while True:
            read_ns = time.time_ns()
            reading = self._read_all()
            unreachable = [f"{node}: {why}" for node, why in reading.items()
                           if not isinstance(why, DeviceState)]
            if unreachable and self._adjacencies is None:  # before the run: do not wait
                raise DeviceError(f"{self.name}: device not reachable: " + "; ".join(unreachable))
            pending = self._pending(reading)
            converged = not pending and reading == previous
            if converged and self._adjacencies is None:
                self._adjacencies = _adjacencies(reading)
            if converged and (through is None or time.monotonic() >= through):
                return previous_ns
            if time.monotonic() > deadline:
                raise DeviceError(f"{self.name}: routing not converged after {timeout:.0f} s: "
                                  + ("; ".join(pending) or "the state is still changing"))
            if not converged:
                previous, previous_ns = (None, 0) if pending else (reading, read_ns)
            if stop.wait(POLL_S):
                raise DeviceError(f"{self.name}: convergence check stopped")

    def gateway_health(self) -> dict[tuple[str, str, int], str]:
        """NAPALM has no VRRP getter: the gate judges the members from the topology alone."""
        return {}

    def degraded(self) -> list[str]:
        return self._pending(self._read_all(FRESH_S))

    def snapshot(self) -> Snapshot:
        return {node: state.lines() if isinstance(state, DeviceState) else {"error": [state]}
                for node, state in self._read_all(FRESH_S).items()}

    def facts(self) -> dict[str, dict[str, Any]]:
        def one(node: str) -> dict[str, Any]:
            spec = self.inventory[node]
            try:
                facts = self._with_driver(node, lambda d: facts_of(d, spec.driver))
            except Exception as exc:  # any driver's error; connect() hides the password
                facts = {"error": str(exc) or type(exc).__name__}
            return {"driver": spec.driver, **facts}
        return self._each(one)

    def close(self) -> None:
        for node in list(self._drivers):
            self._drop(node)

    def _pending(self, reading: Reading) -> list[str]:
        """What keeps this reading from counting as converged, one line each."""
        out = []
        for node, state in reading.items():
            if not isinstance(state, DeviceState):
                out.append(f"{node}: unreachable: {state}")
                continue
            for lk in self.topology.links_of(node):
                ifname = lk.end(node).interface
                if ifname not in state.interfaces:
                    out.append(f"{node}: no interface {ifname} (the topology gives it link {lk})")
                elif not state.interfaces[ifname]:
                    out.append(f"{node}: {ifname} is down (link {lk})")
            out += [f"{node}: OSPF neighbour {n.router_id} on {n.interface} is {n.state}"
                    for n in state.ospf if n.state not in UP_STATES]
            out += [f"{node}: no route to {address} ({ep})" for ep, address in
                    self._addresses().items() if not state.routes.get(address)]
        if self._adjacencies is not None:
            seen = _adjacencies(reading)
            out += [f"{node}: OSPF neighbour {rid} on {ifname} is gone"
                    for node, rid, ifname in sorted(self._adjacencies - seen)
                    if isinstance(reading.get(node), DeviceState)]
        return out

    def _addresses(self) -> dict[str, str]:
        return {node: ep.address() for node, ep in self.probes.items()}

    def _read_all(self, max_age_s: float = 0.0) -> Reading:
        """Every router read in parallel; the last reading instead if it was complete at most
        `max_age_s` ago (each reading costs a few commands per router over SSH)."""
        if self._last and time.monotonic() - self._last[0] <= max_age_s:
            return self._last[1]
        addresses = sorted(set(self._addresses().values()))

        def one(node: str) -> DeviceState | str:
            spec = self.inventory[node]
            try:
                state = self._with_driver(node, lambda d: read_state(d, spec.driver, addresses))
            except Exception as exc:  # unreachable, or the driver's own error: reported
                return str(exc) or type(exc).__name__
            links = {lk.end(node).interface for lk in self.topology.links_of(node)}
            return replace(state, interfaces={name: up for name, up in state.interfaces.items()
                                              if name in links})  # not an access port's flap
        reading: Reading = self._each(one)
        self._last = (time.monotonic(), reading)
        return reading

    def _each(self, fn: Any) -> dict[str, Any]:
        return each(list(self.inventory), fn, self.workers)

    def _with_driver(self, node: str, fn: Any) -> Any:
        """`fn(driver)` on the node's session; when that fails on a session opened earlier
        (dropped, or the device rebooted), once more on a new session."""
        with self._locks[node]:
            opened = node not in self._drivers
            try:
                return fn(self._open(node))  # a device that cannot be reached: at once
            except Exception:
                self._drop(node)
                if opened:
                    raise
            try:
                return fn(self._open(node))
            except Exception:
                self._drop(node)
                raise

    def _open(self, node: str) -> NetworkDriver:
        if node not in self._drivers:
            self._drivers[node] = connect(node, self.inventory[node])
        return self._drivers[node]

    def _drop(self, node: str) -> None:
        driver = self._drivers.pop(node, None)
        if driver is not None:
            try:
                driver.close()
            except Exception:  # noqa: BLE001, S110 - a broken session: nothing to close
                pass


def _adjacencies(reading: Reading) -> set[tuple[str, str, str]]:
    return {(node, n.router_id, n.interface) for node, state in reading.items()
            if isinstance(state, DeviceState) for n in state.ospf if n.state in UP_STATES}
