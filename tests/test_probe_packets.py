"""Probe packets as scapy builds them: the fields asked for, the size asked for (no smaller
than the headers), and the probe header where the sender patches it."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, TCP, UDP

from harness.probes import packets
from harness.probes.wire import MAGIC


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
@pytest.mark.parametrize("size", [1, 64, 200, 1500])
def test_a_probe_packet_is_what_its_flow_asks(protocol: str, size: int) -> None:
    raw, offset = packets.build(7, "198.18.0.1", "198.19.0.2", protocol, 49152, 443, 46, size)
    pkt = IP(raw)
    l4 = pkt[UDP] if protocol == "udp" else pkt[TCP]
    assert (pkt.src, pkt.dst, pkt.tos >> 2, pkt.flags, pkt.len) == \
        ("198.18.0.1", "198.19.0.2", 46, "DF", len(raw))
    assert (l4.sport, l4.dport) == (49152, 443)
    assert struct.unpack_from("!II", raw, offset) == (MAGIC, 7)
    assert len(raw) == max(size, offset + 20)
    again = IP(raw)
    del again.chksum  # scapy computes it again
    assert IP(bytes(again)).chksum == pkt.chksum
