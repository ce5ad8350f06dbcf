"""How long a topology's routing may take to converge, from its routers' own OSPF timers
and its bridges' spanning-tree timers.

An OSPF adjacency can take the dead interval to form: on a broadcast segment the router first
waits its wait timer (RFC 2328: as long as the dead interval) before electing a designated
router. FRR's default is hello 10 s, dead 40 s; a lab with those needs ~55 s here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.inputfile import read_text
from harness.topology.execs import bridge_ports, stp_seconds
from harness.topology.model import Node, Topology

FRR_DEAD_S = 40  # FRR's default dead interval (4 hellos of 10 s), for ospfd and ospf6d
MIN_TIMEOUT_S = 60.0
_INTERFACE = re.compile(r"^interface\s+(\S+)", re.M)
_DEAD = re.compile(r"^[ \t]+ipv?6?[ \t]+ospf6?[ \t]+dead-interval[ \t]+(minimal|\d+)", re.M)


@dataclass(frozen=True)
class ConvergeBudget:
    seconds: float
    why: str


def _dead_intervals(config: str) -> dict[str, int]:
    """Interface -> the dead interval its `interface` block sets (`minimal`: 1 s)."""
    out: dict[str, int] = {}
    starts = list(_INTERFACE.finditer(config))
    for start, end in zip(starts, [*starts[1:], None], strict=True):
        block = config[start.end():end.start() if end else len(config)]
        block = re.split(r"^\S", block, maxsplit=1, flags=re.M)[0]  # to the block's end
        if dead := _DEAD.search(block):
            out[start[1]] = 1 if dead[1] == "minimal" else int(dead[1])
    return out


def _runs_ospf(node: Node) -> bool:
    return node.frr is not None and bool({"ospfd", "ospf6d"} & set(node.frr.daemons))


def converge_budget(topology: Topology) -> ConvergeBudget:
    """Twice the largest dead interval on a link between OSPF routers (the adjacencies
    convergence waits for), plus 20 s for FRR's start, LSDB exchange and SPF, or a spanning
    tree's longest reconvergence (max_age + 2 x forward_delay) plus 20 s if longer; never
    below `MIN_TIMEOUT_S`."""
    ospf = _ospf_budget(topology)
    stp, where = max(((stp_seconds(n.exec), n.name) for n in topology.nodes.values()),
                     default=(0.0, ""))
    if stp + 20 > ospf.seconds:
        return ConvergeBudget(stp + 20, f"spanning tree on {where}: max_age + 2 x "
                                        f"forward_delay = {stp:g} s")
    return ospf


def _ospf_budget(topology: Topology) -> ConvergeBudget:
    configs: dict[Path, dict[str, int]] = {}  # routers often share one
    dead, where = 0, ""
    ports = {n.name: bridge_ports(n.exec) for n in topology.nodes.values()}
    for link in topology.links:
        ends = [(topology.nodes[end.node], end.interface) for end in (link.a, link.b)]
        if any(iface in ports[n.name] for n, iface in ends):
            continue  # a layer-2 link between bridges: no OSPF on it
        for node, iface in ends if all(_runs_ospf(n) for n, _ in ends) else ():
            assert node.frr is not None
            if node.frr.config not in configs:
                configs[node.frr.config] = _dead_intervals(read_text(node.frr.config))
            seconds = configs[node.frr.config].get(iface, FRR_DEAD_S)
            if seconds > dead:
                dead, where = seconds, f"{node.name}:{iface}"
    if not dead:
        return ConvergeBudget(MIN_TIMEOUT_S, "no link between OSPF routers")
    return ConvergeBudget(max(MIN_TIMEOUT_S, 2.0 * dead + 20),
                          f"largest OSPF dead interval {dead} s, on {where}")
