"""OSPF adjacencies and BFD sessions from FRR's JSON, for failover checks."""

from __future__ import annotations

from typing import Any

from napalm_frr.models import BFDPeerDict, OSPFNeighborDict


def ospf_neighbors(show: dict[str, Any]) -> dict[str, list[OSPFNeighborDict]]:
    """Adjacencies per local interface from `show ip ospf neighbor json`."""
    out: dict[str, list[OSPFNeighborDict]] = {}
    for router_id, adjacencies in show.get("neighbors", {}).items():
        for adj in adjacencies:
            state = adj.get("nbrState", adj.get("state", "")).split("/")[0]
            interface = adj.get("ifaceName", "").split(":")[0]
            out.setdefault(interface, []).append({
                "router_id": router_id,
                "address": adj.get("ifaceAddress", adj.get("address", "")),
                "state": state,
                "is_up": state == "Full",
                "role": adj.get("role", ""),
                "priority": int(adj.get("nbrPriority", adj.get("priority", 0))),
                "uptime": int(adj.get("upTimeInMsec", 0)) / 1000,
                "dead_time": int(adj.get("routerDeadIntervalTimerDueMsec",
                                         adj.get("deadTimeMsecs", 0))) / 1000,
            })
    return out


def bfd_peers(show: list[dict[str, Any]]) -> list[BFDPeerDict]:
    """Sessions from `show bfd peers json`."""
    return [{
        "peer": p.get("peer", ""),
        "local_address": p.get("local", ""),
        "interface": p.get("interface", ""),
        "vrf": p.get("vrf", "default"),
        "multihop": bool(p.get("multihop", False)),
        "status": p.get("status", ""),
        "is_up": p.get("status") == "up",
        "uptime": int(p.get("uptime", 0)) if p.get("status") == "up" else 0,
        "diagnostic": p.get("diagnostic", ""),
        "remote_diagnostic": p.get("remote-diagnostic", ""),
        "detect_multiplier": int(p.get("detect-multiplier", 0)),
        "receive_interval": int(p.get("receive-interval", 0)),
        "transmit_interval": int(p.get("transmit-interval", 0)),
    } for p in show]
