"""OSPF neighbours and BFD peers from FRR's JSON: the one parser of the built-in lab
(convergence, status, snapshots) and of the FRR NAPALM driver (`napalm_frr.protocols`).

Stdlib only and independent of the rest of the harness, so that the driver does not depend
on the lab. It lives here, not in `napalm_frr`, because importing `napalm_frr` imports NAPALM
(~0.4 s), which every `failover` command would then pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

OSPF_NEIGHBORS = "show ip ospf neighbor json"
BFD_PEERS = "show bfd peers json"


@dataclass(frozen=True)
class OspfAdjacency:
    """One OSPF neighbour as FRR shows it."""

    router_id: str
    iface: str  # FRR's ifaceName: the local interface and its address, "eth1:198.18.2.0"
    address: str  # the neighbour's address on the link
    state: str  # the adjacency and the neighbour's DR role, "Full/-"
    role: str  # DR, Backup, DROther
    priority: int
    uptime: float  # seconds in the current state
    dead_time: float  # seconds until the adjacency times out

    @property
    def interface(self) -> str:
        return self.iface.split(":")[0]

    @property
    def adjacency(self) -> str:
        """The state without the DR role: Full, 2-Way, Init, ..."""
        return self.state.split("/")[0]


class BFDPeerDict(TypedDict):
    """One BFD session, as the driver's `get_bfd_peers()` lists them (`napalm_frr.models`)."""

    peer: str
    local_address: str
    interface: str
    vrf: str
    multihop: bool
    status: str  # up, down, init, shutdown
    is_up: bool
    uptime: int  # seconds up, 0 when not up
    diagnostic: str
    remote_diagnostic: str
    detect_multiplier: int
    receive_interval: int  # ms
    transmit_interval: int  # ms


def ospf_neighbors(shown: Any) -> list[OspfAdjacency]:
    """The adjacencies of `show ip ospf neighbor json` (none in anything but a JSON object,
    such as the {} of an ospfd that prints nothing)."""
    neighbors = shown.get("neighbors", {}) if isinstance(shown, dict) else {}
    return [OspfAdjacency(
        router_id=router_id,
        iface=adj.get("ifaceName", ""),
        address=adj.get("ifaceAddress", adj.get("address", "")),
        state=adj.get("nbrState", adj.get("state", "")),
        role=adj.get("role", ""),
        priority=int(adj.get("nbrPriority", adj.get("priority", 0))),
        uptime=int(adj.get("upTimeInMsec", 0)) / 1000,
        dead_time=int(adj.get("routerDeadIntervalTimerDueMsec",
                              adj.get("deadTimeMsecs", 0))) / 1000,
    ) for router_id, adjacencies in neighbors.items() for adj in adjacencies]


def bfd_peers(shown: Any) -> list[BFDPeerDict]:
    """The sessions of `show bfd peers json` (none in anything but a JSON list, such as the {}
    of a bfdd that prints nothing)."""
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
    } for p in (shown if isinstance(shown, list) else [])]
