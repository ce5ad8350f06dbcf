"""The redundancy gate: refuse a fault that would cut a critical flow's last path, or any
fault while redundancy is already degraded (failing a core then is the outage we prevent)."""

from __future__ import annotations

from collections.abc import Iterable

from harness.errors import HarnessError
from harness.faults import Fault
from harness.network import Network
from harness.scenario.load import CriticalFlow
from harness.topology import Link, Topology


class GateRefused(HarnessError):
    """The harness refuses to inject: say why, change nothing."""


def _connected(topology: Topology, src: str, dst: str, dead_nodes: set[str],
               dead_links: set[Link]) -> bool:
    seen, todo = {src}, [src]
    while todo:
        node = todo.pop()
        if node == dst:
            return True
        for lk in topology.links_of(node):
            nxt = lk.other(node).node
            if lk not in dead_links and nxt not in dead_nodes and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def fault_scope(topology: Topology, faults: Iterable[Fault]) -> tuple[set[str], set[Link]]:
    """Nodes and links the faults take out of the forwarding path (all of a node's links for
    a node-wide fault; a daemon crash keeps forwarding and removes nothing)."""
    nodes: set[str] = set()
    links: set[Link] = set()
    for fault in faults:
        node, link = getattr(fault, "node", None), getattr(fault, "link", None)
        interfaces = getattr(fault, "interfaces", None)
        if fault.kind == "routing-daemon-crash":
            continue
        if link:
            links.add(topology.find_link(link))
        elif node and interfaces:
            links.update(lk for lk in topology.links_of(node)
                         if lk.end(node).interface in interfaces)
        elif node and fault.kind == "node-power-loss":
            nodes.add(node)
        elif node:
            links.update(topology.links_of(node))
    return nodes, links


def paths_cut(topology: Topology, flows: list[CriticalFlow], faults: list[Fault]) -> list[str]:
    """Critical flows that would have no path left once the faults are in place."""
    nodes, links = fault_scope(topology, faults)
    return [cf.flow.name for cf in flows if cf.critical and not _connected(
        topology, cf.flow.src, cf.flow.dst, nodes, links)]


def check_gate(network: Network, flows: list[CriticalFlow], faults: list[Fault],
               allow_last_path_cut: bool) -> None:
    already = network.degraded()
    if already:
        raise GateRefused("redundancy is already degraded, refusing to inject: "
                          + "; ".join(already))
    cut = paths_cut(network.topology, flows, faults)
    if cut and not allow_last_path_cut:
        raise GateRefused(f"the fault would cut the last path of critical flow(s) "
                          f"{', '.join(cut)}; refusing (safety.allow_last_path_cut is for "
                          "control scenarios only)")
