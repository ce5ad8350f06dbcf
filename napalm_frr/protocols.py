"""OSPF adjacencies per local interface, for failover checks: `get_ospf_neighbors()` from
FRR's JSON as `harness.frrjson` (shared with the built-in lab) parses it. (Its BFD sessions
are already `get_bfd_peers()`'s.)"""

from __future__ import annotations

from typing import Any

from harness import frrjson
from napalm_frr.models import OSPFNeighborDict


def ospf_neighbors(show: dict[str, Any]) -> dict[str, list[OSPFNeighborDict]]:
    """Adjacencies per local interface from `show ip ospf neighbor json`."""
    out: dict[str, list[OSPFNeighborDict]] = {}
    for adj in frrjson.ospf_neighbors(show):
        out.setdefault(adj.interface, []).append({
            "router_id": adj.router_id,
            "address": adj.address,
            "state": adj.adjacency,
            "is_up": adj.adjacency == "Full",
            "role": adj.role,
            "priority": adj.priority,
            "uptime": adj.uptime,
            "dead_time": adj.dead_time,
        })
    return out
