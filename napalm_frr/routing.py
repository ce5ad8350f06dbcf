"""Routes and BGP sessions from FRR's JSON (`show ip route json`, `show bgp ... json`)."""

from __future__ import annotations

import re
from typing import Any

from napalm.base import models

_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_AFI = {"ipv4Unicast": "ipv4", "ipv6Unicast": "ipv6"}


def duration(text: str) -> int:
    """Seconds in an FRR uptime: `00:05:33`, `1d02h03m`, `02w3d04h`; 0 when unparsable."""
    if ":" in text:
        parts = [int(p) for p in text.split(":") if p.isdigit()]
        return sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    match = _DURATION.match(text.strip())
    if not match or not text.strip():
        return 0
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds


def bgp_attributes(bgp_route: dict[str, Any], local_as: int) -> dict[str, Any]:
    """NAPALM's BGP `protocol_attributes` from the best path of `show bgp ... <prefix> json`."""
    paths = bgp_route.get("paths", [])
    best = next((p for p in paths if p.get("bestpath", {}).get("overall")), None)
    if best is None:
        return {}
    segments = best.get("aspath", {}).get("segments", [])
    first_as = next((asn for seg in segments for asn in seg.get("list", [])), local_as)
    return {
        "local_as": local_as,
        "remote_as": int(first_as),
        "peer_id": best.get("peer", {}).get("routerId", ""),
        "as_path": best.get("aspath", {}).get("string", ""),
        "communities": best.get("community", {}).get("string", "").split(),
        "local_preference": int(best.get("locPrf", 100)),
        "metric": int(best.get("metric", 0)),
    }


def routes(show_route: dict[str, Any], protocol: str = "",
           bgp: dict[str, dict[str, Any]] | None = None) -> dict[str, list[models.RouteDict]]:
    """NAPALM's get_route_to: one entry per next hop of each route (`protocol` filters).

    `bgp` maps a prefix to its BGP attributes (`bgp_attributes`).
    """
    out: dict[str, list[models.RouteDict]] = {}
    for prefix, entries in show_route.items():
        for route in entries:
            proto = route.get("protocol", "")
            if protocol and proto.lower() != protocol.lower():
                continue
            selected = bool(route.get("selected"))
            attrs = (bgp or {}).get(prefix, {}) if proto == "bgp" else {}
            for hop in route.get("nexthops", []):
                out.setdefault(prefix, []).append({
                    "protocol": proto,
                    "current_active": selected,
                    "last_active": False,
                    "age": duration(route.get("uptime", "")),
                    "next_hop": hop.get("ip", ""),
                    "outgoing_interface": hop.get("interfaceName", ""),
                    "selected_next_hop": selected and bool(hop.get("fib")),
                    "preference": int(route.get("distance", 0)),
                    "inactive_reason": "" if selected else "not selected",
                    "routing_table": route.get("vrfName", "default"),
                    "protocol_attributes": attrs,
                })
    return out


def bgp_neighbors(summary: dict[str, Any],
                  neighbors: dict[str, Any]) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
    """NAPALM's get_bgp_neighbors from `show bgp vrf all summary json` and `... neighbors json`.

    FRR counts a prefix as received once accepted by inbound policy, so
    `received_prefixes` equals `accepted_prefixes` unless soft-reconfiguration keeps more.
    """
    out: dict[str, models.BGPStateNeighborsPerVRFDict] = {}
    for vrf, per_af in summary.items():
        name = "global" if vrf == "default" else vrf
        vrf_peers = neighbors.get(vrf, {})
        entry: models.BGPStateNeighborsPerVRFDict = {"router_id": "", "peers": {}}
        for af_key, af in per_af.items():
            if af_key not in _AFI or not isinstance(af, dict):
                continue
            entry["router_id"] = af.get("routerId", entry["router_id"])
            for address, peer in af.get("peers", {}).items():
                detail = vrf_peers.get(address, {})
                state = entry["peers"].setdefault(address, _peer(peer, detail))
                state["address_family"][_AFI[af_key]] = {
                    "received_prefixes": int(peer.get("pfxRcd", 0)),
                    "accepted_prefixes": int(peer.get("pfxRcd", 0)),
                    "sent_prefixes": int(peer.get("pfxSnt", 0)),
                }
        for address, detail in vrf_peers.items():  # peers with no address family active
            if isinstance(detail, dict) and address not in entry["peers"]:
                entry["peers"][address] = _peer({}, detail)
        out[name] = entry
    return out


def _peer(peer: dict[str, Any], detail: dict[str, Any]) -> models.BGPStateNeighborDict:
    """One peer from its summary entry (may be empty) and its `neighbors json` entry."""
    return {
        "local_as": int(peer.get("localAs", detail.get("localAs", 0))),
        "remote_as": int(peer.get("remoteAs", detail.get("remoteAs", 0))),
        "remote_id": detail.get("remoteRouterId", ""),
        "is_up": detail.get("bgpState", peer.get("state")) == "Established",
        "is_enabled": not detail.get("adminShutDown", False),
        "description": peer.get("desc", detail.get("nbrDesc", "")),
        "uptime": int(peer.get("peerUptimeMsec", detail.get("bgpTimerUpMsec", 0))) // 1000,
        "address_family": {},
    }
