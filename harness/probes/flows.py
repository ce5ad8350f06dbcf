"""Probe flows: what a critical application's traffic looks like to the routers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Protocol = Literal["udp", "tcp"]

DSCP = {"BE": 0, "CS0": 0, "CS1": 8, "AF11": 10, "AF21": 18, "CS2": 16, "AF31": 26, "CS3": 24,
        "AF41": 34, "CS4": 32, "CS5": 40, "EF": 46, "CS6": 48, "CS7": 56}

# application -> (protocol, destination port, DSCP): probes hash, filter and queue like it
APPLICATIONS: dict[str, tuple[Protocol, int, str]] = {
    "dicom": ("tcp", 104, "AF41"),        # PACS imaging
    "hl7": ("tcp", 2575, "AF31"),         # patient-record interfaces
    "https": ("tcp", 443, "AF21"),        # EHR web clients
    "ldap": ("tcp", 389, "CS3"),          # Active Directory
    "kerberos": ("udp", 88, "CS3"),       # Active Directory authentication
    "dns": ("udp", 53, "CS3"),
    "rtp": ("udp", 16384, "EF"),          # VoIP media
    "sip": ("udp", 5060, "CS3"),          # VoIP signalling
}


@dataclass(frozen=True)
class Flow:
    """A probe flow from one node to another; `both` directions are measured separately."""

    name: str
    src: str
    dst: str
    protocol: Protocol = "udp"
    port: int = 50000
    dscp: int = 0
    rate: float = 1000.0
    size: int = 64            # IP packet bytes
    direction: Literal["one-way", "both"] = "one-way"
    sport: int | None = None  # default: derived from the flow, so ECMP hashes flows apart
    src_addr: str | None = None
    dst_addr: str | None = None

    @classmethod
    def for_application(cls, name: str, src: str, dst: str, application: str,
                        **kwargs: object) -> Flow:
        protocol, port, dscp = APPLICATIONS[application]
        return cls(name=name, src=src, dst=dst, protocol=protocol, port=port,
                   dscp=DSCP[dscp], **kwargs)  # type: ignore[arg-type]

    def directions(self) -> list[tuple[str, str, str]]:
        """(label, src, dst) for each measured direction."""
        forward = [(self.name if self.direction == "one-way" else f"{self.name} →",
                    self.src, self.dst)]
        return forward + ([(f"{self.name} ←", self.dst, self.src)]
                          if self.direction == "both" else [])
