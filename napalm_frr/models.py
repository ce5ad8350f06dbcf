"""Result shapes of the FRR-only getters (NAPALM has no model for OSPF or BFD state)."""

from typing import TypedDict

from harness.frrjson import BFDPeerDict as BFDPeerDict  # as parsed, shared with the lab


class OSPFNeighborDict(TypedDict):
    """One OSPF adjacency; `get_ospf_neighbors()` lists them per local interface."""

    router_id: str
    address: str
    state: str  # FRR's neighbour state without the DR role: Full, 2-Way, Init, ...
    is_up: bool  # state is Full
    role: str  # DR, Backup, DROther
    priority: int
    uptime: float  # seconds in the current state
    dead_time: float  # seconds until the adjacency times out
