"""Probe sender and receiver, run where a flow starts or ends: a lab node's namespace, or a
remote host over SSH (stdlib and iproute2 only, fast start).

    python -m harness.probes.agent send|receive

Protocol: the spec is the first line of stdin (JSON). The agent writes "ready" to stderr once
it is set up; a sender then waits for a "go" line. Closing stdin, SIGTERM, the parent's death
(PR_SET_PDEATHSIG) or `max_seconds` stops the agent; its JSON summary is the last stderr
line. The receiver streams its records (`wire.RECORD`) on stdout.

The sender paces every flow at its rate with `sendmmsg`, patching the sequence number and
send time into each flow's prebuilt packet (built with scapy by the controller); it never
skips a sequence number and catches up when woken late. It writes frames to the next hop's
Ethernet address (see `egress`), or through the IP stack where that is not known. The
receiver reads probe packets from a TPACKET_V3 ring behind a classic BPF filter, with the
kernel's receive timestamps; it reports the ring's own drops, so a receiver overrun is never
mistaken for network loss.
"""

from __future__ import annotations

import ctypes
import errno
import json
import math
import mmap
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any

from harness.probes.egress import Egress, Key, Watcher
from harness.probes.wire import HEADER, MAGIC, RECORD, SEQ_TIME, STREAM_START

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
SO_ATTACH_FILTER = 26
SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
TP_STATUS_USER = 1
FLUSH_S = 0.1  # records reach the controller at least this often
# The receive ring holds RING_S of probes however long the receiver is kept off the CPU:
# the kernel hands a block over when full or after BLOCK_MS, so the ring has RING_S / BLOCK_MS
# blocks, each big enough for BLOCK_MS at the expected rate (FRAME_BYTES per probe).
RING_S, BLOCK_MS, FRAME_BYTES = 1.0, 20, 352  # slot: header, 256 bytes captured, aligned
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_LEN = 14
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


class _SockaddrLl(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint16), ("protocol", ctypes.c_uint16),
                ("ifindex", ctypes.c_int), ("hatype", ctypes.c_uint16),
                ("pkttype", ctypes.c_uint8), ("halen", ctypes.c_uint8),
                ("addr", ctypes.c_uint8 * 8)]


class _Flow:
    """One flow's frame buffer (room for an Ethernet header, then the IP packet) and its
    ready-made mmsghdr for the IP socket or, once its next hop is known, for the packet
    socket. The kernel copies a message on send, so one buffer is enough: a batch holds at
    most one packet of each flow."""

    def __init__(self, spec: dict[str, Any], sockets: _Sockets) -> None:
        self.id = int(spec["id"])
        self.key: Key = (spec["dst"], spec["src"])
        self.period = int(1e9 / float(spec["rate"]))
        self.offset = ETH_LEN + int(spec["header_offset"]) + 8
        self.enobufs = 0
        self.sockets = sockets
        self.buf = bytearray(ETH_LEN) + bytearray.fromhex(spec["packet"])
        self.cbuf = (ctypes.c_char * len(self.buf)).from_buffer(self.buf)
        self.inet = _SockaddrIn(socket.AF_INET, 0, (ctypes.c_uint8 * 4)(
            *socket.inet_aton(spec["dst"])))
        self.ll = _SockaddrLl(socket.AF_PACKET, socket.htons(ETH_P_IP))
        self.ip_iov = _Iovec(ctypes.addressof(self.cbuf) + ETH_LEN, len(self.buf) - ETH_LEN)
        self.ip_msg = _message(self.inet, self.ip_iov)
        self.frame_iov = _Iovec(ctypes.addressof(self.cbuf), len(self.buf))
        self.frame_msg = _message(self.ll, self.frame_iov)
        self.frames = False

    def use(self, egress: Egress | None) -> None:
        """Send as a frame to this egress, or through the IP stack when None."""
        self.frames = egress is not None
        if egress is not None:
            self.buf[:ETH_LEN] = egress.header
            self.ll.ifindex = egress.ifindex

    @property
    def fd(self) -> int:
        return (self.sockets.packet if self.frames else self.sockets.inet).fileno()

    @property
    def msg(self) -> _Mmsghdr:
        return self.frame_msg if self.frames else self.ip_msg


def _message(addr: ctypes.Structure, iov: _Iovec) -> _Mmsghdr:
    return _Mmsghdr(_Msghdr(ctypes.addressof(addr), ctypes.sizeof(addr), ctypes.pointer(iov),
                            1, None, 0, 0), 0)


class _Sockets:
    def __init__(self) -> None:
        self.inet = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.packet = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # 0: receives nothing
        for sock in (self.inet, self.packet):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)


class _Stop:
    flag = False
    go = threading.Event()  # a sender starts on "go", so receivers can start beside it
    wake_r, wake_w = os.pipe()  # readable once stopped: wakes a receiver's poll

    @classmethod
    def handler(cls, *_: Any) -> None:
        """Signal-safe: a flag and a byte (an Event's lock could be held by the interrupted
        code)."""
        cls.flag = True
        os.write(cls.wake_w, b"x")


def _realtime() -> bool:
    """Run the sender at the lowest real-time priority, if allowed: on a loaded 2-core machine
    an ordinary sender fell seconds behind its schedule (bench/probe_accuracy.py), and a late
    sender miscounts outages. It sleeps between ticks, so the routers are not starved."""
    if os.sched_getscheduler(0) == os.SCHED_FIFO:  # already (e.g. bench --rt-sender)
        return True
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (PermissionError, OSError):
        return False
    return True


Batches = list[tuple[int, Any, list[_Flow]]]


class _Cohort:
    """The flows of one rate. They start together, so they are always due together and share
    their sequence numbers: one time stamp, one sendmmsg per socket, per tick.

    About once a second a tick goes through the IP stack even where frames could go: that
    use keeps the host's neighbour entries verified as real traffic would (a next hop whose
    MAC changed without a gratuitous ARP is noticed, and the watcher follows)."""

    def __init__(self, flows: list[_Flow], start_ns: int) -> None:
        self.flows = flows
        self.period = flows[0].period
        self.next_due = start_ns
        self.seq = 0
        self.first_ns = 0
        self.every_ip = max(1, round(1e9 / self.period))
        self.batches: Batches = []
        self.ip_batches = _batches(flows, ip=True)

    def rebuild(self) -> None:
        self.batches = _batches(self.flows, ip=False)

    def send(self, now: int) -> None:
        if not self.seq:
            self.first_ns = now
        seq, pack = self.seq & 0xFFFFFFFF, SEQ_TIME.pack_into
        for f in self.flows:
            pack(f.buf, f.offset, seq, now)
        for fd, batch, owners in self.batches if seq % self.every_ip else self.ip_batches:
            _sendmmsg(fd, batch, owners)
        self.seq += 1
        self.next_due += self.period


def _batches(flows: list[_Flow], ip: bool) -> Batches:
    """One batch per socket the flows use (all through IP if `ip`): (fd, batch, its flows)."""
    out = []
    for fd in sorted({f.sockets.inet.fileno() if ip else f.fd for f in flows}):
        owners = [f for f in flows if ip or f.fd == fd]
        batch = (_Mmsghdr * len(owners))()
        for i, f in enumerate(owners):
            batch[i] = f.ip_msg if ip else f.msg
        out.append((fd, batch, owners))
    return out


def _send(spec: dict[str, Any]) -> dict[str, Any]:
    sockets = _Sockets()
    flows = [_Flow(f, sockets) for f in spec["flows"]]
    watcher = Watcher(f.key for f in flows)
    version = -1
    watcher.start()  # before _realtime(): it, and the `ip` it runs, must not be real-time
    spin_ns = SPIN_NS if not _realtime() else 0  # a real-time sender wakes on time anyway
    late_max = 0
    _await_go()
    start = time.time_ns()
    end = start + int(float(spec["max_seconds"]) * 1e9)
    cohorts = [_Cohort([f for f in flows if f.period == period], start)
               for period in sorted({f.period for f in flows})]
    while not _Stop.flag:
        if watcher.version != version:  # the host's routing changed: frames or IP, per flow
            version = watcher.version
            result = watcher.result
            for f in flows:
                f.use(result.get(f.key))
            for c in cohorts:
                c.rebuild()
        now = time.time_ns()
        if now >= end:
            break
        for c in cohorts:
            while c.next_due <= now:  # more than once only when woken late: catch up
                late_max = max(late_max, now - c.next_due)
                c.send(now)
        wake = min(c.next_due for c in cohorts)
        gap = wake - time.time_ns()
        if gap > spin_ns:
            time.sleep((gap - spin_ns) / 1e9)
        while time.time_ns() < wake and not _Stop.flag:
            pass
    cohort = {f.id: c for c in cohorts for f in c.flows}
    return {"flows": {f.id: {"sent": cohort[f.id].seq, "first_ns": cohort[f.id].first_ns,
                             "enobufs": f.enobufs, "frames": f.frames}
                      for f in flows},
            "late_max_ns": late_max, "watcher_error": watcher.error}


def _sendmmsg(fd: int, batch: Any, owner: list[_Flow]) -> None:
    """Send the batch; a message refused locally (a full or dropping queue, no route, the
    interface down or gone) counts as sent-and-lost."""
    done, n = 0, len(owner)
    while done < n:
        ref = ctypes.byref(batch, done * ctypes.sizeof(_Mmsghdr))
        sent = LIBC.sendmmsg(fd, ref, n - done, 0)
        if sent > 0:
            done += sent
            continue
        err = ctypes.get_errno()
        if err not in (errno.ENOBUFS, errno.EAGAIN, errno.ENETUNREACH, errno.EHOSTUNREACH,
                       errno.ENETDOWN, errno.ENXIO, errno.EINTR):
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


def _ring_for(rate: float) -> tuple[socket.socket, mmap.mmap, int, int]:
    """The ring for `rate` probes per second (see RING_S): socket, ring, block size, blocks."""
    blocks = math.ceil(RING_S * 1000 / BLOCK_MS)
    need = rate * BLOCK_MS / 1000 * FRAME_BYTES
    block = min(4 << 20, max(64 << 10, 1 << math.ceil(math.log2(max(need, 1)))))
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


def _receive(spec: dict[str, Any]) -> dict[str, Any]:
    sock, ring, block, blocks = _ring_for(float(spec["rate"]))
    tov = BLOCK_MS
    sinks = _sinks(spec.get("udp_ports", []))
    out = sys.stdout.buffer
    out.write(STREAM_START)  # whatever a login shell printed before it is not a record
    records = bytearray()
    counts: dict[int, int] = {}
    deadline = time.monotonic() + float(spec["max_seconds"])
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR)
    poller.register(_Stop.wake_r, select.POLLIN)  # a stop ends the wait at once
    waking = True
    u32, hdr3 = struct.Struct("I").unpack_from, struct.Struct("IIIIIIH").unpack_from
    unpack_hdr, pack_rec, give_back = HEADER.unpack_from, RECORD.pack, struct.Struct("I").pack_into
    _ready()
    current = 0
    next_flush = time.monotonic() + FLUSH_S
    while time.monotonic() < deadline:
        base = current * block
        if not u32(ring, base + 8)[0] & TP_STATUS_USER:
            # nothing ready: after a stop, one block timeout more drains the last block
            if _Stop.flag and waking:
                poller.unregister(_Stop.wake_r)
                waking = False
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
    out.flush()
    packets, drops, _ = struct.unpack("III", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
    for sink in sinks:
        sink.close()
    return {"received": counts, "ring_drops": drops}


def _await_go() -> None:
    """Say "ready", then wait for "go" (or a stop)."""
    _ready()
    while not _Stop.go.wait(0.1) and not _Stop.flag:
        pass


def _ready() -> None:
    print("ready", file=sys.stderr, flush=True)


def _control() -> None:
    """"go" on stdin starts a sender; closing stdin stops the agent (that works through SSH
    too, signals do not)."""
    for line in sys.stdin:
        if line.strip() == "go":
            _Stop.go.set()
    _Stop.handler()


def main() -> None:
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGTERM, _Stop.handler)
    signal.signal(signal.SIGINT, _Stop.handler)
    spec = json.loads(sys.stdin.readline())
    threading.Thread(target=_control, daemon=True).start()
    result = _send(spec) if sys.argv[1] == "send" else _receive(spec)
    print(json.dumps(result), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
