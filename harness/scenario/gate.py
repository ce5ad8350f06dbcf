"""The redundancy gate: refuse a fault that would cut a critical flow's last path, or any
fault while redundancy is already degraded (failing a core then is the outage we prevent).
What a fault takes out is what it declares (`Fault.scope`), whatever its kind."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce

from harness.errors import HarnessError
from harness.faults import Fault, Scope
from harness.network import Network
from harness.scenario.load import FlowUnderTest
from harness.topology import Topology


class GateRefused(HarnessError):
    """The harness refuses to inject: say why, change nothing."""


def connected(topology: Topology, src: str, dst: str, out: Scope) -> bool:
    """Whether a path from `src` to `dst` is left with what `out` takes out."""
    seen, todo = {src}, [src]
    while todo:
        node = todo.pop()
        if node == dst:
            return True
        for lk in topology.links_of(node):
            nxt = lk.other(node).node
            if lk not in out.links and nxt not in out.nodes and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def fault_scope(topology: Topology, faults: Iterable[Fault]) -> Scope:
    """What the faults together take out of forwarding."""
    return reduce(lambda a, b: a | b, (f.scope(topology) for f in faults), Scope())


def paths_cut(topology: Topology, flows: list[FlowUnderTest], faults: list[Fault]) -> list[str]:
    """Critical flows that would have no path left once the faults are in place."""
    out = fault_scope(topology, faults)
    return [cf.flow.name for cf in flows
            if cf.critical and not connected(topology, cf.flow.src, cf.flow.dst, out)]


def check_gate(network: Network, flows: list[FlowUnderTest], faults: list[Fault],
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
