"""Probe sender and receiver, run inside a lab node's namespace (stdlib only, fast start).

    python -m harness.probes.agent send|receive   < spec.json

The sender paces every flow at its rate with `sendmmsg` on a raw IP socket, patching the
sequence number and send time into each flow's prebuilt packet (built with scapy by the
controller); it never skips a sequence number and catches up when woken late. The receiver
reads probe packets from a TPACKET_V3 ring behind a classic BPF filter, with the kernel's
receive timestamps, and writes fixed-size records; it reports the ring's own drops, so a
receiver overrun is never mistaken for network loss. Both stop on SIGTERM, when their
parent dies (PR_SET_PDEATHSIG), or after `max_seconds`, and print a JSON summary.
"""

from __future__ import annotations

import ctypes
import errno
import json
import mmap
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

from harness.probes.wire import HEADER, MAGIC, RECORD, SEQ_TIME

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
SO_ATTACH_FILTER = 26
SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
TP_STATUS_USER = 1
FLUSH_S = 0.1  # records reach the output file at least this often
ETH_P_ALL = 0x0003
SPIN_NS = 100_000  # sleep until this close to the next send, then spin
# Flows are not staggered inside a tick: every flow due is sent in one sendmmsg batch, so the
# sender sleeps between ticks. (Staggered flows put a send every few µs and the spin turned
# into a busy loop that starved the lab's routers: BFD flapped under probing.)


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(_Iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", _Msghdr), ("len", ctypes.c_uint)]


class _SockaddrIn(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint16), ("port", ctypes.c_uint16),
                ("addr", ctypes.c_uint8 * 4), ("zero", ctypes.c_uint8 * 8)]


class _Flow:
    """One flow's packet buffer and its ready-made mmsghdr (the kernel copies it on send,
    so one buffer is enough: a batch holds at most one packet of each flow)."""

    def __init__(self, spec: dict[str, Any], start_ns: int) -> None:
        self.id = int(spec["id"])
        self.period = int(1e9 / float(spec["rate"]))
        self.offset = int(spec["header_offset"]) + 8
        self.next_due = start_ns
        self.seq = 0
        self.enobufs = 0
        self.first_ns = 0
        self.buf = bytearray.fromhex(spec["packet"])
        self.addr = _SockaddrIn(socket.AF_INET, 0, (ctypes.c_uint8 * 4)(
            *socket.inet_aton(spec["dst"])))
        self.cbuf = (ctypes.c_char * len(self.buf)).from_buffer(self.buf)
        self.iov = _Iovec(ctypes.addressof(self.cbuf), len(self.buf))
        self.msg = _Mmsghdr(_Msghdr(ctypes.addressof(self.addr), ctypes.sizeof(self.addr),
                                    ctypes.pointer(self.iov), 1, None, 0, 0), 0)


class _Stop:
    flag = False

    @classmethod
    def handler(cls, *_: Any) -> None:
        cls.flag = True


def _realtime() -> bool:
    """Run the sender at the lowest real-time priority, if allowed: on a loaded 2-core machine
    an ordinary sender fell seconds behind its schedule (bench/probe_accuracy.py), and a late
    sender miscounts outages. It sleeps between ticks, so the routers are not starved."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (PermissionError, OSError):
        return False
    return True


def _batch_of(flows: list[_Flow]) -> Any:
    batch = (_Mmsghdr * len(flows))()
    for i, f in enumerate(flows):
        batch[i] = f.msg
    return batch


def _send(spec: dict[str, Any]) -> dict[str, Any]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    start = time.time_ns()
    flows = [_Flow(f, start) for f in spec["flows"]]
    end = start + int(float(spec["max_seconds"]) * 1e9)
    every = _batch_of(flows)  # the usual tick: every flow due at once
    spin_ns = SPIN_NS if not _realtime() else 0  # a real-time sender wakes on time anyway
    late_max = 0
    fd = sock.fileno()
    pack = SEQ_TIME.pack_into
    print("ready", flush=True)
    while not _Stop.flag:
        now = time.time_ns()
        if now >= end:
            break
        due = [f for f in flows if f.next_due <= now]
        for f in due:
            if not f.seq:
                f.first_ns = now
        while due:  # more than one round only when woken late: catch up, skip nothing
            late_max = max(late_max, now - min(f.next_due for f in due))
            for f in due:
                pack(f.buf, f.offset, f.seq & 0xFFFFFFFF, now)
                f.seq += 1
                f.next_due += f.period
            _sendmmsg(fd, every if len(due) == len(flows) else _batch_of(due), due)
            due = [f for f in due if f.next_due <= now]
        wake = min(f.next_due for f in flows)
        gap = wake - time.time_ns()
        if gap > spin_ns:
            time.sleep((gap - spin_ns) / 1e9)
        while time.time_ns() < wake and not _Stop.flag:
            pass
    return {"flows": {f.id: {"sent": f.seq, "first_ns": f.first_ns, "enobufs": f.enobufs}
                      for f in flows},
            "late_max_ns": late_max}


def _sendmmsg(fd: int, batch: Any, owner: list[_Flow]) -> None:
    """Send the batch; a message refused by a local queue (ENOBUFS) counts as sent-and-lost."""
    done, n = 0, len(owner)
    while done < n:
        ref = ctypes.byref(batch, done * ctypes.sizeof(_Mmsghdr))
        sent = LIBC.sendmmsg(fd, ref, n - done, 0)
        if sent > 0:
            done += sent
            continue
        err = ctypes.get_errno()
        if err not in (errno.ENOBUFS, errno.EAGAIN, errno.ENETUNREACH, errno.EHOSTUNREACH,
                       errno.EINTR):
            raise OSError(err, os.strerror(err))
        if err != errno.EINTR:
            owner[done].enobufs += 1
            done += 1


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


def _receive(spec: dict[str, Any]) -> dict[str, Any]:
    block, blocks, tov = 1 << 20, 64, 5
    sock, ring = _ring_socket(block, blocks, tov)
    sinks = []
    for port in spec.get("udp_ports", []):  # no ICMP port-unreachable for every probe
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sink.bind(("0.0.0.0", int(port)))
        sinks.append(sink)
    out = open(spec["output"], "wb")  # noqa: SIM115 - closed below
    records = bytearray()
    counts: dict[int, int] = {}
    deadline = time.monotonic() + float(spec["max_seconds"])
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR)
    u32, hdr3 = struct.Struct("I").unpack_from, struct.Struct("IIIIIIH").unpack_from
    unpack_hdr, pack_rec, give_back = HEADER.unpack_from, RECORD.pack, struct.Struct("I").pack_into
    print("ready", flush=True)
    current = 0
    next_flush = time.monotonic() + FLUSH_S
    while time.monotonic() < deadline:
        base = current * block
        if not u32(ring, base + 8)[0] & TP_STATUS_USER:
            # nothing ready: after a stop, one block timeout more drains the last block
            if not poller.poll(50 if not _Stop.flag else 3 * tov) and _Stop.flag:
                break
            if records and time.monotonic() >= next_flush:
                out.write(records)
                out.flush()
                records.clear()
                next_flush = time.monotonic() + FLUSH_S
            continue
        pos = base + u32(ring, base + 16)[0]
        for _ in range(u32(ring, base + 12)[0]):
            nxt, sec, nsec, _, _, _, mac = hdr3(ring, pos)
            pkt = pos + mac
            off = pkt + 14 + (ring[pkt + 14] & 0x0F) * 4 + (8 if ring[pkt + 23] == 17 else 20)
            _, flow, seq, sent = unpack_hdr(ring, off)
            records += pack_rec(flow, seq, sent, sec * 1_000_000_000 + nsec)
            counts[flow] = counts.get(flow, 0) + 1
            pos += nxt
        give_back(ring, base + 8, 0)  # TP_STATUS_KERNEL
        current = (current + 1) % blocks
        if time.monotonic() >= next_flush:  # the controller tails the file for live views
            out.write(records)
            out.flush()
            records.clear()
            next_flush = time.monotonic() + FLUSH_S
    out.write(records)
    out.close()
    packets, drops, _ = struct.unpack("III", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
    return {"received": counts, "ring_drops": drops}


def main() -> None:
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGTERM, _Stop.handler)
    signal.signal(signal.SIGINT, _Stop.handler)
    spec = json.load(sys.stdin)
    result = _send(spec) if sys.argv[1] == "send" else _receive(spec)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
