"""What a running lab looks like now: nodes, links and routing adjacencies."""

from __future__ import annotations

from dataclasses import dataclass

from harness import frrjson
from harness.errors import LabError
from harness.lab import netns
from harness.lab.lab import Lab

Rows = list[tuple[str, ...]]


@dataclass
class LabStatus:
    nodes: Rows
    links: Rows
    adjacencies: Rows

    def tables(self) -> list[tuple[str, tuple[str, ...], Rows]]:
        return [("nodes", ("node", "kind", "namespace", "FRR daemons"), self.nodes),
                ("links", ("link", "state"), self.links),
                ("OSPF / BFD", ("router", "neighbor", "interface", "OSPF", "BFD"),
                 self.adjacencies)]


def lab_status(lab: Lab) -> LabStatus:
    present = netns.existing()
    nodes: Rows = []
    states: dict[str, dict[str, str]] = {}
    for name, node in lab.topology.nodes.items():
        ns = lab.ns(name)
        up = ns in present
        states[name] = netns.oper_states(ns, check=False) if up else {}
        daemons = ", ".join(sorted(lab.frr(name).pids())) if node.is_router else "-"
        nodes.append((name, node.kind, ns if up else f"{ns} (missing)", daemons or "none"))
    links: Rows = [(str(lk), f"{states[lk.a.node].get(lk.a.interface, 'absent')} / "
                             f"{states[lk.b.node].get(lk.b.interface, 'absent')}")
                   for lk in lab.topology.links]
    return LabStatus(nodes=nodes, links=links, adjacencies=_adjacencies(lab))


def _adjacencies(lab: Lab) -> Rows:
    rows: Rows = []
    for router in lab.topology.routers:
        try:
            frr = lab.frr(router.name)
            ospf = frrjson.ospf_neighbors(frr.vtysh_json(frrjson.OSPF_NEIGHBORS))
            bfdd = "bfdd" in router.frr.daemons  # type: ignore[union-attr]
            bfd = frrjson.bfd_peers(frr.vtysh_json(frrjson.BFD_PEERS)) if bfdd else []
        except LabError as exc:
            rows.append((router.name, "-", "-", f"unreachable: {exc}", "-"))
            continue
        status = {s["peer"]: s["status"] for s in bfd}
        rows += [(router.name, n.router_id, n.interface, n.state, status.get(n.address, "-"))
                 for n in ospf]
    return rows
