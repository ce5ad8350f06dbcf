"""What a running lab looks like now: nodes, links and routing adjacencies."""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.errors import LabError
from harness.lab import netns
from harness.lab.lab import Lab
from harness.lab.shell import run

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


def _oper_states(ns: str) -> dict[str, str]:
    out = run(["ip", "-n", ns, "-j", "link", "show"], check=False).stdout or "[]"
    return {i["ifname"]: i.get("operstate", "?") for i in json.loads(out)}


def lab_status(lab: Lab) -> LabStatus:
    present = netns.existing()
    nodes: Rows = []
    states: dict[str, dict[str, str]] = {}
    for name, node in lab.topology.nodes.items():
        ns = lab.ns(name)
        up = ns in present
        states[name] = _oper_states(ns) if up else {}
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
            ospf = frr.vtysh_json("show ip ospf neighbor json").get("neighbors", {})
            bfd = {p.get("peer"): p.get("status") for p in frr.vtysh_json("show bfd peers json")
                   or []} if "bfdd" in router.frr.daemons else {}  # type: ignore[union-attr]
        except LabError as exc:
            rows.append((router.name, "-", "-", f"unreachable: {exc}", "-"))
            continue
        for rid, entries in ospf.items():
            for entry in entries:
                rows.append((router.name, rid, str(entry.get("ifaceName", "")).split(":")[0],
                             str(entry.get("state", "")),
                             str(bfd.get(entry.get("ifaceAddress"), "-"))))
    return rows
