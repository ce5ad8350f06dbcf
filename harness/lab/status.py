"""What a running lab looks like now: nodes, links, routing adjacencies, VRRP groups and
spanning trees."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import frrjson
from harness.errors import LabError
from harness.lab import netns, vrrp
from harness.lab.lab import Lab
from harness.lab.layer2 import Layer2, has_layer2, read_layer2

Rows = list[tuple[str, ...]]


@dataclass
class LabStatus:
    nodes: Rows
    links: Rows
    adjacencies: Rows
    vrrp: Rows = field(default_factory=list)
    stp: Rows = field(default_factory=list)

    def tables(self) -> list[tuple[str, tuple[str, ...], Rows]]:
        return [("nodes", ("node", "kind", "namespace", "FRR daemons"), self.nodes),
                ("links", ("link", "state"), self.links),
                ("OSPF / BFD", ("router", "neighbor", "interface", "OSPF", "BFD"),
                 self.adjacencies)] + [
            (title, columns, rows) for title, columns, rows in (
                ("VRRP", ("group", "router", "interface", "state", "priority", "expected"),
                 self.vrrp),
                ("STP", ("bridge", "root", "root port", "ports"), self.stp)) if rows]


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
    status = LabStatus(nodes=nodes, links=links, adjacencies=_adjacencies(lab))
    if has_layer2(lab):
        status.vrrp, status.stp = _layer2_rows(read_layer2(lab))
    return status


def _layer2_rows(l2: Layer2) -> tuple[Rows, Rows]:
    """One row per VRRP member (the problems of its group under it), one per bridge."""
    vrrp_rows: Rows = []
    problems = l2.waiting()
    for name, members in vrrp.groups(l2.members).items():
        best = vrrp.expected_master(members)
        vrrp_rows += [(name, m.router, m.interface, m.status, str(m.priority),
                       "master" if best is m else "backup" if m.healthy else "-")
                      for m in members]
        vrrp_rows += [(name, "!", "", p.removeprefix(f"{name}: "), "", "")
                      for p in problems if p.startswith(f"{name}: ")]
    stp_rows: Rows = [(str(b), l2.root_of(b) if b.stp else "stp off",
                       b.root_port_name or "-",
                       ", ".join(f"{p} {s}" for p, s in sorted(b.ports.items())))
                      for b in l2.bridges]
    return vrrp_rows, stp_rows


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
