"""Probe packets built with scapy, once per flow; the sender patches sequence and time."""

from __future__ import annotations

from scapy.fields import IntField, LongField, XIntField
from scapy.layers.inet import IP, TCP, UDP
from scapy.packet import Packet, Raw

from harness.probes.wire import MAGIC


class ProbeHeader(Packet):
    """The probe header (see `wire`); also dissects captured probes for debugging."""

    name = "FailoverProbe"
    fields_desc = [XIntField("magic", MAGIC), IntField("flow", 0), IntField("seq", 0),
                   LongField("send_ns", 0)]


_IP_BYTES, _PROBE_BYTES = len(IP()), len(ProbeHeader())
_L4_BYTES = {"udp": len(UDP()), "tcp": len(TCP())}


def build(flow_id: int, src: str, dst: str, protocol: str, sport: int, dport: int, dscp: int,
          size: int) -> tuple[bytes, int]:
    """The IP packet of a flow and the offset of its probe header.

    UDP probes carry no checksum (0 is allowed in IPv4). TCP probes carry the checksum of the
    template, which patching makes stale: routers forward them (they do not check L4), and
    the destination's stack drops them after capture instead of answering with RSTs.
    """
    l4 = UDP(sport=sport, dport=dport, chksum=0) if protocol == "udp" else \
        TCP(sport=sport, dport=dport, flags="PA", seq=1, ack=1, window=65535)
    offset = _IP_BYTES + _L4_BYTES[protocol]  # headers without options: built once, not measured
    pkt = IP(src=src, dst=dst, tos=dscp << 2, ttl=64, flags="DF") / l4 / ProbeHeader(flow=flow_id)
    pad = size - offset - _PROBE_BYTES
    if pad > 0:
        pkt = pkt / Raw(b"\x00" * pad)
    return bytes(pkt), offset
