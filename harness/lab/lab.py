"""A running built-in lab: bring a topology up and down, and act on its nodes.

This is the small API the rest of the harness uses: run a command in a node, reach a
router's FRR, find a node's interfaces, take a link or a node down and up.
"""

from __future__ import annotations

import os
import shlex
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import LabError
from harness.lab import netns
from harness.lab.converge import Baseline, Convergence, wait_converged
from harness.lab.frr import FRR_LIB, LAB_ADAPTATIONS, FrrInstance
from harness.lab.kernelcheck import check_kernel
from harness.lab.kernelwatch import Parsed
from harness.lab.names import namespace
from harness.lab.state import LabState
from harness.lab.teardown import Teardown, teardown
from harness.topology import Link, Node, Topology, load_topology
from harness.topology.model import BRIDGE_KINDS
from harness.topology.timers import converge_budget

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class UpReport:
    """How a `lab up` went, phase by phase (seconds)."""

    phases: dict[str, float] = field(default_factory=dict)
    convergence: Convergence | None = None
    already_up: bool = False

    @property
    def total(self) -> float:
        return sum(self.phases.values())


class Lab:
    """A topology brought up as network namespaces with one FRR instance per router."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.name = topology.name
        self._parsed: dict[str, Parsed] = {}

    @classmethod
    def attach(cls, name: str) -> Lab:
        """The running lab called `name` (from its journal)."""
        state = LabState.load(name)
        if state is None:
            raise LabError(f"no lab named {name!r} is up (see `failover lab status`)")
        # by the name it was brought up with: a pool's lab may be named apart from its
        # topology file (`LabPool(suffix=)`)
        return cls(replace(load_topology(state.topology), name=name))

    # -- naming and access -------------------------------------------------------------
    def ns(self, node: str) -> str:
        self.node(node)
        return namespace(self.name, node)

    def node(self, name: str) -> Node:
        try:
            return self.topology.nodes[name]
        except KeyError:
            raise LabError(f"lab {self.name} has no node {name!r} "
                           f"(nodes: {', '.join(self.topology.nodes)})") from None

    def frr(self, node: str) -> FrrInstance:
        if not self.node(node).is_router:
            raise LabError(f"{node} is not an FRR router in lab {self.name}")
        return FrrInstance(pathspace=self.ns(node), hostname=node)

    def parsed_routes(self, node: str) -> Parsed:
        """The node's kernel routes as last read through this object (`read_kernel`)."""
        return self._parsed.setdefault(node, Parsed())

    def interfaces(self, node: str) -> list[str]:
        return [lk.end(node).interface for lk in self.topology.links_of(node)]

    def run(self, node: str, argv: list[str], check: bool = True, timeout: float = 30.0) -> str:
        """Run a command inside the node's namespace; returns its stdout."""
        return netns.exec_in(self.ns(node), argv, check=check, timeout=timeout)

    def vtysh(self, node: str, *commands: str) -> str:
        return self.frr(node).vtysh(*commands)

    def vtysh_json(self, node: str, command: str) -> Any:
        return self.frr(node).vtysh_json(command)

    # -- state changes -----------------------------------------------------------------
    def set_link(self, link: Link | str, up: bool) -> None:
        """Set both ends of a link administratively up or down."""
        lk = self.topology.find_link(link) if isinstance(link, str) else link
        for end in (lk.a, lk.b):
            netns.set_link(self.ns(end.node), end.interface, up)

    def node_down(self, node: str) -> None:
        """Power loss: every interface of the node down, its routing daemons killed."""
        for ifname in self.interfaces(node):
            netns.set_link(self.ns(node), ifname, False)
        if self.node(node).is_router:
            self.frr(node).stop()

    def node_up(self, node: str) -> None:
        """Power restored: FRR started again, interfaces up."""
        spec = self.node(node).frr
        if spec is not None:
            _wait_started([self.frr(node).start(spec.daemons)])
        netns.batch([f"link set dev {i} up" for i in self.interfaces(node)], self.ns(node))

    # -- lifecycle ---------------------------------------------------------------------
    def is_up(self) -> bool:
        state = LabState.load(self.name)
        return state is not None and state.phase == "up" and \
            set(state.namespaces.values()) <= netns.existing()

    def up(self, progress: Progress = _quiet, timeout: float | None = None) -> UpReport:
        """Build the lab and wait until it has converged (by default as long as its OSPF
        timers may need: `converge_budget`); on any failure, remove it all."""
        report = UpReport()
        if self._already_running(progress):
            report.already_up = True
            return report
        _check_host()
        check_kernel(self.topology)
        nodes = self.topology.nodes
        state = LabState(name=self.name, topology=str(self.topology.path),
                         namespaces={n: self.ns(n) for n in nodes},
                         routers=[r.name for r in self.topology.routers], started=time.time(),
                         notes=list(self.topology.notes))
        state.save()  # journal first: `down` finds everything from here on
        try:
            self._build(report, progress)
            budget = converge_budget(self.topology)
            progress(f"waiting up to {timeout or budget.seconds:.0f} s for "
                     f"{len(state.routers)} routers to converge: OSPF adjacencies, LSDBs, BFD, "
                     f"BGP, stable routes ({budget.why}"
                     + ("; --timeout given)" if timeout else ")"))
            t = time.monotonic()
            report.convergence = wait_converged(self, timeout=timeout or budget.seconds,
                                                progress=progress)
            report.phases["converge"] = time.monotonic() - t
        except BaseException:
            progress("lab up failed: removing what was built")
            teardown(self.name)
            raise
        state.phase = "up"
        state.ospf_links = report.convergence.ospf_links
        state.fibs = report.convergence.fibs
        state.save()
        return report

    def wait_converged(self, timeout: float | None = None, progress: Progress = _quiet,
                       stop: threading.Event | None = None, through: float | None = None
                       ) -> Convergence:
        """Wait until routing has reconverged around what is down now, or is fully restored
        (by default as long as its OSPF timers may need); `stop`, `through`: as
        `converge.wait_converged`'s."""
        state = LabState.load(self.name)
        baseline = Baseline(set(state.ospf_links), state.fibs) if state else None
        return wait_converged(self, timeout=timeout or converge_budget(self.topology).seconds,
                              progress=progress, baseline=baseline, stop=stop, through=through)

    def down(self) -> Teardown:
        return teardown(self.name)

    def _already_running(self, progress: Progress) -> bool:
        state = LabState.load(self.name)
        if state is None:
            return False
        if state.topology == str(self.topology.path) and self.is_up():
            progress(f"lab {self.name} is already up: nothing to do")
            return True
        raise LabError(f"lab {self.name} already exists (from {state.topology}, "
                       f"phase {state.phase}): run `failover lab down {self.name}` first")

    def _build(self, report: UpReport, progress: Progress) -> None:
        t = time.monotonic()
        topo = self.topology
        progress(f"creating {len(topo.nodes)} namespaces and {len(topo.links)} links")
        netns.batch([f"netns add {self.ns(n)}" for n in topo.nodes] + [
            netns.veth_command(self.ns(lk.a.node), lk.a.interface, lk.a.mac,
                               self.ns(lk.b.node), lk.b.interface, lk.b.mac, lk.mtu)
            for lk in topo.links])
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._wire_node, topo.nodes.values()))
        report.phases["namespaces"] = time.monotonic() - t
        t = time.monotonic()
        progress(f"starting FRR on {', '.join(r.name for r in topo.routers)}")
        for r in topo.routers:
            assert r.frr is not None
            self.frr(r.name).prepare(r.frr)
        _wait_started([self.frr(r.name).start(r.frr.daemons) for r in topo.routers
                       if r.frr is not None])
        report.phases["frr"] = time.monotonic() - t
        for line, why in LAB_ADAPTATIONS:
            progress(f"note: added '{line}' to every router's config ({why})")

    def _wire_node(self, node: Node) -> None:
        ns = self.ns(node.name)
        ports = self.interfaces(node.name)
        bridge = [f"link add {node.name} type bridge", f"link set dev {node.name} up",
                  *(f"link set dev {i} master {node.name}" for i in ports)] \
            if node.kind in BRIDGE_KINDS else []
        netns.batch(["link set dev lo up", *bridge, *(f"link set dev {i} up" for i in ports)],
                    ns)
        if node.is_router:
            netns.exec_in(ns, ["sysctl", "-q", "-w", *netns.ROUTER_SYSCTLS])
        for i, command in enumerate(node.exec):
            try:
                netns.exec_in(ns, shlex.split(command))
            except LabError as exc:
                raise LabError(f"{self.topology.path}: topology.nodes.{node.name}.exec[{i}]: "
                               f"{exc}") from None


def _wait_started(procs: list[Any]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=30)
        if proc.returncode != 0:
            raise LabError(f"watchfrr failed to start: {err.decode().strip()}")


def _check_host() -> None:
    """What the built-in lab needs, checked before anything is created."""
    if os.geteuid() != 0:
        raise LabError("the built-in lab needs root (network namespaces, FRR)")
    missing = [tool for tool in ("ip", "vtysh", "unshare", "nsenter", "sysctl")
               if shutil.which(tool) is None]
    if not (FRR_LIB / "watchfrr").exists():
        missing.append(str(FRR_LIB / "watchfrr"))
    if missing:
        raise LabError(f"missing on this host: {', '.join(missing)} "
                       "(apt-get install frr frr-pythontools iproute2)")
    for path in (Path("/usr/lib/frr/watchfrr.sh"),):
        if not path.exists():
            raise LabError(f"missing on this host: {path} (apt-get install frr)")
