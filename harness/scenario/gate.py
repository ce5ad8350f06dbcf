"""The redundancy gate: refuse a fault that would cut a critical flow's last path, or any
fault while redundancy is already degraded (failing a core then is the outage we prevent).
What a fault takes out is what it declares (`Fault.scope`), whatever its kind; whether a flow
keeps a path with it in place is reasoned through its gateway, layer 2 and the routed network
(`harness.layer2`), with the network's live reading of its VRRP members."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from harness import layer2
from harness.errors import HarnessError
from harness.faults import Fault, Scope
from harness.layer2 import Health
from harness.network import Network
from harness.scenario.load import FlowUnderTest
from harness.topology import Topology


class GateRefused(HarnessError):
    """The harness refuses to inject: say why, change nothing."""


@dataclass(frozen=True)
class Cut:
    flow: str
    why: str


def fault_scope(topology: Topology, faults: Iterable[Fault]) -> Scope:
    """What the faults together take out of forwarding."""
    return reduce(lambda a, b: a | b, (f.scope(topology) for f in faults), Scope())


def cuts(topology: Topology, flows: list[FlowUnderTest], faults: list[Fault],
         health: Health | None = None) -> list[Cut]:
    """Critical flows that would have no path left once the faults are in place (in either
    direction they are measured), and why."""
    out = fault_scope(topology, faults)
    model = layer2.of(topology)
    found = []
    for cf in (cf for cf in flows if cf.critical):
        whys = [model.cut(src, dst, out, health or {}) for _, src, dst in cf.flow.directions()]
        if any(whys):
            found.append(Cut(cf.flow.name, next(w for w in whys if w)))
    return found


def paths_cut(topology: Topology, flows: list[FlowUnderTest], faults: list[Fault]) -> list[str]:
    """The critical flows the faults would leave without a path (from the topology alone)."""
    return [c.flow for c in cuts(topology, flows, faults)]


def refusal(cut: list[Cut]) -> str:
    """One line: the flows cut, grouped by why."""
    by_why: dict[str, list[str]] = {}
    for c in cut:
        by_why.setdefault(c.why, []).append(c.flow)
    return "; ".join(f"{', '.join(names)}: {why}" for why, names in by_why.items())


def check_gate(network: Network, flows: list[FlowUnderTest], faults: list[Fault],
               allow_last_path_cut: bool) -> None:
    cut = cuts(network.topology, flows, faults, network.gateway_health())
    if cut and not allow_last_path_cut:
        raise GateRefused(f"the fault would cut the last path of critical flow(s) "
                          f"{refusal(cut)}; refusing (safety.allow_last_path_cut is for "
                          "control scenarios only)")
    already = network.degraded()
    if already:
        raise GateRefused("redundancy is already degraded, refusing to inject: "
                          + "; ".join(already))
