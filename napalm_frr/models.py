"""Result shapes of the FRR-only getters (NAPALM has no model for OSPF or BFD state)."""

from typing import TypedDict


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


class BFDPeerDict(TypedDict):
    """One BFD session, as `get_bfd_peers()` lists them."""

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
