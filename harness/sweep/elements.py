"""The single failures a sweep runs: each selected element of the topology (a link or a
node) with the fault kind chosen for it, built as that kind's fault."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.faults import FAULTS, Fault, build
from harness.sweep.model import Selection, SweepSpec
from harness.topology import Link, Node, Topology


class SweepError(HarnessError):
    """A sweep selection that cannot be run: names its field."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Failure:
    element: str  # "link core1:eth1 -- core2:eth1" or "router core1"
    fault: Fault


def _chosen(node: Node, sel: Selection) -> bool:
    return (sel.group is None or node.group == sel.group) \
        and all(node.labels.get(k) == v for k, v in sel.labels.items()) \
        and (sel.match is None or fnmatch.fnmatchcase(node.name, sel.match))


def _links(topology: Topology, sel: Selection) -> list[Link]:
    routers = {n.name for n in topology.routers}
    wanted = {"router-links": lambda ends: ends <= routers,
              "host-links": lambda ends: not ends <= routers,
              "links": lambda ends: True}[sel.elements]
    return [lk for lk in topology.links
            if wanted({lk.a.node, lk.b.node})
            and any(_chosen(topology.nodes[e.node], sel) for e in (lk.a, lk.b))]


def _nodes(topology: Topology, sel: Selection) -> list[Node]:
    return [n for n in topology.nodes.values()
            if (sel.elements == "nodes" or n.is_router) and _chosen(n, sel)]


def _link_target(topology: Topology, lk: Link, sel: Selection,
                 params: set[str]) -> dict[str, Any]:
    """How a link is named to the fault: the link itself, or, for a kind made on a device's
    interfaces (interface-shutdown), the chosen end's node and interface (a router's)."""
    if "interfaces" not in params:
        return {"link": str(lk.a)}
    ends = [e for e in (lk.a, lk.b) if _chosen(topology.nodes[e.node], sel)
            and topology.nodes[e.node].is_router] or [lk.a]
    return {"node": ends[0].node, "interfaces": [ends[0].interface]}


def failures(topology: Topology, spec: SweepSpec,
             devices: Mapping[str, dict[str, Any]] | None = None) -> list[Failure]:
    """Every single failure the sweep selects, in the order of its selections and of the
    topology (a kind made through NAPALM gets its node's `devices` entry); SweepError (naming
    the selection) when none matches or a fault cannot be built for one."""
    out: list[Failure] = []
    for i, sel in enumerate(spec.each):
        cls = FAULTS.get(sel.fault)
        params = {f.name for f in dataclasses.fields(cls)} if cls else set()  # type: ignore[arg-type]
        if sel.elements.endswith("links"):
            targets = [(f"link {lk}", _link_target(topology, lk, sel, params))
                       for lk in _links(topology, sel)]
        else:
            kind = "router" if sel.elements == "routers" else "node"
            targets = [(f"{kind} {n.name}", {"node": n.name}) for n in _nodes(topology, sel)]
        if not targets:
            raise SweepError(f"sweep.each[{i}]", f"no {sel.elements} of topology "
                             f"{topology.name} match this selection")
        for element, where in targets:
            device = (devices or {}).get(where.get("node", ""))
            if device is not None and "device" in params:
                where = {**where, "device": device}
            try:
                out.append(Failure(element, build(sel.fault, {**sel.params, **where})))
            except HarnessError as exc:
                raise SweepError(f"sweep.each[{i}].fault", str(exc)) from None
    return out
