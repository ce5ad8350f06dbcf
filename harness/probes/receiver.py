"""The probe receiver, in the agent (stdlib only: see `agent`): it reads probe packets from
a TPACKET_V3 ring behind a classic BPF filter, with the kernel's receive timestamps, and
streams their records (`wire.RECORD`) on stdout, one write per ring block. It reports the
ring's own drops, so a receiver overrun is never mistaken for network loss.
"""

from __future__ import annotations

import ctypes
import errno
import math
import mmap
import select
import socket
import struct
import sys
import time

from harness.probes.control import Stop
from harness.probes.wire import HEADER, MAGIC, RECORD, STREAM_START

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of a start-up)
if TYPE_CHECKING:
    from typing import Any

SO_ATTACH_FILTER = 26
SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
TP_STATUS_USER = 1
# The receive ring holds RING_S of probes however long the receiver is kept off the CPU:
# the kernel hands a block over when full or after BLOCK_MS, so the ring has RING_S / BLOCK_MS
# blocks, each big enough for BLOCK_MS at the expected rate (FRAME_BYTES per probe).
RING_S, BLOCK_MS, FRAME_BYTES = 1.0, 20, 352  # slot: header, 256 bytes captured, aligned
POLL_MS = 50  # an idle receiver looks at its deadline this often
# a block holds 46 probes at least (2.3k pps for BLOCK_MS; a fuller block is handed over
# early): the kernel zeroes the whole ring at set-up, 0.8 MB here (was 3.2 MB with 64 KiB
# blocks: 48 agents' rings at 50 routers were 154 MB of fresh pages during the preflight)
MIN_BLOCK = 16 << 10
ETH_P_ALL = 0x0003


def _bpf(snap: int = 256) -> bytes:
    """Accept incoming IPv4 UDP/TCP packets whose payload starts with the probe magic."""
    def ins(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)
    prog = [ins(0x28, 0, 0, 12),            # 0 ldh [12] ethertype
            ins(0x15, 0, 11, 0x0800),       # 1 IPv4 ? 2 : drop
            ins(0x20, 0, 0, -0x1000 + 4),   # 2 ld pkttype
            ins(0x15, 9, 0, 4),             # 3 outgoing ? drop : 4
            ins(0xB1, 0, 0, 14),            # 4 x = IP header length
            ins(0x30, 0, 0, 23),            # 5 ldb [23] protocol
            ins(0x15, 0, 2, 17),            # 6 UDP ? 7 : 9
            ins(0x40, 0, 0, 14 + 8),        # 7 ld [x + 22] magic after UDP
            ins(0x15, 3, 4, MAGIC),         # 8 ? accept : drop
            ins(0x15, 0, 3, 6),             # 9 TCP ? 10 : drop
            ins(0x40, 0, 0, 14 + 20),       # 10 ld [x + 34] magic after TCP (no options)
            ins(0x15, 0, 1, MAGIC),         # 11 ? accept : drop
            ins(0x06, 0, 0, snap),          # 12 accept
            ins(0x06, 0, 0, 0)]             # 13 drop
    return b"".join(prog)


def _attach_bpf(sock: socket.socket) -> None:
    prog = _bpf()
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HL", len(prog) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def _ring_socket(block_size: int, blocks: int,
                 block_timeout_ms: int) -> tuple[socket.socket, mmap.mmap]:
    """An AF_PACKET socket with a TPACKET_V3 receive ring (kernel timestamps in the ring)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    _attach_bpf(sock)
    sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
    frame = 2048
    req = struct.pack("IIIIIII", block_size, blocks, frame, block_size * blocks // frame,
                      block_timeout_ms, 0, 0)
    sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
    ring = mmap.mmap(sock.fileno(), block_size * blocks, mmap.MAP_SHARED,
                     mmap.PROT_READ | mmap.PROT_WRITE)
    return sock, ring


def _ring_for(rate: float) -> tuple[socket.socket, mmap.mmap, int, int]:
    """The ring for `rate` probes per second (see RING_S): socket, ring, block size, blocks."""
    blocks = math.ceil(RING_S * 1000 / BLOCK_MS)
    need = rate * BLOCK_MS / 1000 * FRAME_BYTES
    block = min(4 << 20, max(MIN_BLOCK, mmap.PAGESIZE,  # a block is whole pages
                             1 << math.ceil(math.log2(max(need, 1)))))
    sock, ring = _ring_socket(block, blocks, BLOCK_MS)
    return sock, ring, block, blocks


def _sinks(ports: list[int]) -> list[socket.socket]:
    """A socket bound on each probed UDP port, so the kernel does not answer every probe with
    ICMP port-unreachable; none where a real service listens already (it answers instead)."""
    sinks = []
    for port in ports:
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            sink.bind(("0.0.0.0", int(port)))
        except OSError as err:
            sink.close()
            if err.errno != errno.EADDRINUSE:
                raise
            continue
        sinks.append(sink)
    return sinks


_U32 = struct.Struct("I")
# tpacket3_hdr (next offset, sec, nsec, snaplen, len, status, mac offset, ...), then its
# sockaddr_ll at 48 (family, protocol, ifindex)
_TPACKET3_HDR = struct.Struct("IIIIIIH22x4xi")


class Receiver:
    """The ring behind its BPF filter and the UDP sinks, set up before "ready"; `run`
    receives."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.sock, self.ring, self.block, self.blocks = _ring_for(float(spec["rate"]))
        self.sinks = _sinks(spec.get("udp_ports", []))
        self.last: dict[int, tuple[int, int]] = {}  # flow: its last probe's number, ifindex

    def run(self, stop: Stop, deadline: float) -> dict[str, Any]:
        """Hand every block of probes on as records until stopped, then the blocks the
        kernel has handed over by then; the summary."""
        out = sys.stdout.buffer
        out.write(STREAM_START)  # whatever a login shell printed before it is not a record
        out.flush()
        poller = select.poll()
        poller.register(self.sock, select.POLLIN | select.POLLERR)
        poller.register(stop.wake_r, select.POLLIN)  # a stop ends the wait at once
        current, lingered = 0, False
        while time.monotonic() < deadline:
            base = current * self.block
            if not _U32.unpack_from(self.ring, base + 8)[0] & TP_STATUS_USER:
                if not stop.flag:
                    poller.poll(POLL_MS)
                elif lingered or not _U32.unpack_from(self.ring, base + 12)[0]:
                    break
                else:  # probes in the block being filled: the kernel hands it over soon
                    lingered = True
                    poller.unregister(stop.wake_r)
                    poller.poll(2 * BLOCK_MS)
                continue
            out.write(self._records(base))  # the controller follows the file for live views
            out.flush()
            current = (current + 1) % self.blocks
        _, drops, _ = struct.unpack("III", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
        for sink in self.sinks:
            sink.close()
        return {"ring_drops": drops}

    def _records(self, base: int) -> bytearray:
        """The records of the block at `base`, which goes back to the kernel. A flow's probe
        seen again, right after, on another interface is one packet passing a stacked device
        (a bond, bridge or VLAN over the interface it came in on): handed on once. (A
        duplicate the network made comes in on the same interface, and counts.)"""
        ring, last, records = self.ring, self.last, bytearray()
        u32, hdr3 = _U32.unpack_from, _TPACKET3_HDR.unpack_from
        unpack_hdr, pack_rec = HEADER.unpack_from, RECORD.pack
        nobody = (-1, -1)
        pos = base + u32(ring, base + 16)[0]
        for _ in range(u32(ring, base + 12)[0]):
            nxt, sec, nsec, _, _, _, mac, ifindex = hdr3(ring, pos)
            pkt = pos + mac
            pos += nxt
            off = pkt + 14 + (ring[pkt + 14] & 0x0F) * 4 + (8 if ring[pkt + 23] == 17 else 20)
            _, flow, seq, sent = unpack_hdr(ring, off)
            seen_seq, seen_if = last.get(flow, nobody)
            if seq == seen_seq and ifindex != seen_if:
                continue
            last[flow] = seq, ifindex
            records += pack_rec(flow, seq, sent, sec * 1_000_000_000 + nsec)
        _U32.pack_into(ring, base + 8, 0)  # TP_STATUS_KERNEL
        return records
