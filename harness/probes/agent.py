"""The probe agent, one per node where flows start or end: a lab node's namespace, or a
remote host over SSH (stdlib and iproute2 only, fast start).

    python -m harness.probes.agent

Protocol: the spec is the first line of stdin (JSON): `send` (the flows sent from here),
`receive` (the UDP ports probed here, the aggregate rate), `max_seconds`. The agent forks its
sender and sets up its receiver beside it: one interpreter start-up per node, and yet the
sender runs in a process of its own (at real-time priority, never waiting for a receiver's
GIL), as when they were started apart. It writes "ready" to stderr once both are set up.
Then on stdin: "go" starts sending; "stop" stops it, and the sender's JSON summary follows on
stderr ({"send": ...}); closing stdin stops the receiver after it has handed on every probe
the kernel has handed over ({"receive": ...}, the last line). SIGTERM, the parent's death
(PR_SET_PDEATHSIG) or `max_seconds` stop it too. The receiver streams its records
(`wire.RECORD`) on stdout, one write per ring block.

The sender paces every flow at its rate with `sendmmsg`, patching the sequence number and
send time into each flow's prebuilt packet (built with scapy by the controller); it never
skips a sequence number and catches up when woken late. It writes frames to the next hop's
Ethernet address (see `egress`), or through the IP stack where that is not known. The
receiver reads probe packets from a TPACKET_V3 ring behind a classic BPF filter, with the
kernel's receive timestamps; it reports the ring's own drops, so a receiver overrun is never
mistaken for network loss.
"""

from __future__ import annotations

import contextlib
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

from harness.probes.egress import Egress, Key, Watcher
from harness.probes.wire import HEADER, MAGIC, RECORD, SEQ_TIME, STREAM_START

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of a start-up)
if TYPE_CHECKING:
    from typing import IO, Any, NoReturn

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
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
LINGER_S = 30.0  # the agent's own deadline: max_seconds after "ready", and this much more
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
    """Set by a signal or a control thread: a flag, and a pipe that turns readable once
    stopped (it wakes a receiver's poll)."""

    def __init__(self) -> None:
        self.flag = False
        self.wake_r, self.wake_w = os.pipe()

    def __call__(self, *_: object) -> None:
        """Signal-safe: a flag and a byte (an Event's lock could be held by the interrupted
        code)."""
        self.flag = True
        os.write(self.wake_w, b"x")

    def on_signals(self) -> None:
        signal.signal(signal.SIGTERM, self)
        signal.signal(signal.SIGINT, self)


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


Batches = list[tuple[int, "Any", list[_Flow]]]  # (fd, mmsghdr array, its flows)


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


class _Sender:
    """Sockets, flows and the egress watcher, set up before "ready"; `run` sends."""

    def __init__(self, spec: dict[str, Any]) -> None:
        sockets = _Sockets()
        self.flows = [_Flow(f, sockets) for f in spec["flows"]]
        self.watcher = Watcher(f.key for f in self.flows)
        self.watcher.start()  # before _realtime(): it, and the `ip` it runs, must not be real-time

    def run(self, stop: _Stop, max_seconds: float, realtime: bool) -> dict[str, Any]:
        """Send from now until stopped or `max_seconds`; the summary."""
        flows, watcher = self.flows, self.watcher
        spin_ns = 0 if realtime else SPIN_NS  # a real-time sender wakes on time anyway
        version, late_max = -1, 0
        start = time.time_ns()
        end = start + int(max_seconds * 1e9)
        cohorts = [_Cohort([f for f in flows if f.period == period], start)
                   for period in sorted({f.period for f in flows})]
        while not stop.flag:
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
            while time.time_ns() < wake and not stop.flag:
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


_U32 = struct.Struct("I")
# tpacket3_hdr (next offset, sec, nsec, snaplen, len, status, mac offset, ...), then its
# sockaddr_ll at 48 (family, protocol, ifindex)
_TPACKET3_HDR = struct.Struct("IIIIIIH22x4xi")


class _Receiver:
    """The ring behind its BPF filter and the UDP sinks, set up before "ready"; `run`
    receives."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.sock, self.ring, self.block, self.blocks = _ring_for(float(spec["rate"]))
        self.sinks = _sinks(spec.get("udp_ports", []))
        self.last: dict[int, tuple[int, int]] = {}  # flow: its last probe's number, ifindex

    def run(self, stop: _Stop, deadline: float) -> dict[str, Any]:
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


class _Forked:
    """The sender's process as the agent sees it: a control pipe ("go"; closing it stops the
    sender) and an answer pipe (a JSON line: ready or an error, then its summary)."""

    def __init__(self, spec: dict[str, Any], max_seconds: float, nice: int) -> None:
        control, self.control = os.pipe()
        answers, answers_w = os.pipe()
        parent = os.getpid()
        self.pid = os.fork()  # before any thread or socket of the agent's
        if not self.pid:
            try:
                os.close(self.control)
                os.close(answers)
                _sender_process(spec, max_seconds, (parent, nice), control, answers_w)
            finally:
                os._exit(1)  # never back into the agent's code
        os.close(control)
        os.close(answers_w)
        self.answers = os.fdopen(answers, "rb")
        self.lock = threading.Lock()
        self.done = False

    def answer(self) -> dict[str, Any]:
        line = self.answers.readline()
        try:
            return json.loads(line) if line else {"error": "the sender exited without a word"}
        except ValueError:
            return {"error": f"the sender said: {line[:200]!r}"}

    def go(self) -> None:
        with self.lock, contextlib.suppress(OSError):  # it is gone: `finish` says why
            if not self.done:
                os.write(self.control, b"go\n")

    def finish(self) -> None:
        """Stop it (if it still sends), say its summary, reap it; once."""
        with self.lock:
            if self.done:
                return
            self.done = True
            os.close(self.control)
            _say(json.dumps({"send": self.answer()}))
            os.waitpid(self.pid, 0)


def _sender_process(spec: dict[str, Any], max_seconds: float, parent: tuple[int, int],
                    control: int, answers_fd: int) -> NoReturn:
    """The forked sender: set up, answer ready, send from "go" until its control pipe
    closes, answer its summary, exit (never returning into the agent's code). `parent`: the
    agent's pid and the nice value to return to."""
    code = 0
    answers = os.fdopen(answers_fd, "w")
    try:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # dies with the agent
        stop, go = _Stop(), threading.Event()
        stop.on_signals()
        if os.getppid() != parent[0]:  # the agent died before prctl
            stop()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # stdin and the record stream are the agent's
        os.dup2(null, 1)
        os.close(null)
        _niceness(parent[1])  # before its threads start
        sender = _Sender(spec)
        threading.Thread(target=_follow, args=(control, stop, go), daemon=True).start()
        realtime = _realtime()
        _answer(answers, {"ready": True})
        while not go.wait(0.1) and not stop.flag:
            pass
        summary = sender.run(stop, max_seconds, realtime)
    except BaseException as exc:  # noqa: BLE001 - the agent reports it
        import traceback
        traceback.print_exc()
        summary, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    try:
        _answer(answers, summary)
    except OSError:  # the agent is gone
        code = 1
    os._exit(code)


def _answer(answers: IO[str], message: dict[str, Any]) -> None:
    answers.write(json.dumps(message) + "\n")
    answers.flush()


def _follow(control: int, stop: _Stop, go: threading.Event) -> None:
    """The sender's control pipe: "go" starts it, the pipe's end stops it."""
    with os.fdopen(control) as lines:
        for line in lines:
            if line.strip() == "go":
                go.set()
    stop()
    go.set()


def _control(stop: _Stop, sender: _Forked | None) -> None:
    """stdin: "go" and "stop" are for the sender; its end stops the agent (closing stdin
    works through SSH too, signals do not)."""
    try:
        for line in sys.stdin:
            if sender is not None and line.strip() == "go":
                sender.go()
            elif sender is not None and line.strip() == "stop":
                sender.finish()
    finally:
        stop()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _niceness(ceiling: int) -> None:
    """Back to the priority of the process that started the agent (`ceiling`, a nice value)
    if it is lower now: a local endpoint starts agents niced, so that they set up in the CPU
    that a run's preflight leaves (see `endpoints`). Where that is not allowed, as it was."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) > ceiling:
            os.setpriority(os.PRIO_PROCESS, 0, ceiling)  # this thread, and those it starts
    except OSError:
        pass


def main() -> None:
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    nice = os.getpriority(os.PRIO_PROCESS, os.getppid())
    spec = json.loads(sys.stdin.readline())
    max_seconds = float(spec["max_seconds"])
    sender = _Forked(spec["send"], max_seconds, nice) if spec.get("send") else None  # beside
    stop = _Stop()
    stop.on_signals()
    receiver = _Receiver(spec["receive"]) if spec.get("receive") else None
    if sender is not None and "error" in (ready := sender.answer()):
        os.waitpid(sender.pid, 0)
        sys.exit(f"sender: {ready['error']}")
    _niceness(nice)  # before any thread: the receiver must not be starved
    _say("ready")
    threading.Thread(target=_control, args=(stop, sender), daemon=True).start()
    deadline = time.monotonic() + max_seconds + LINGER_S
    received: dict[str, Any] = {}
    if receiver is not None:
        received = receiver.run(stop, deadline)
    else:
        select.select([stop.wake_r], [], [], max(0.0, deadline - time.monotonic()))
    if sender is not None:
        sender.finish()
    if receiver is not None:
        _say(json.dumps({"receive": received}))
    os._exit(0)  # all said and flushed: the interpreter's teardown took ~60 ms of a stop


if __name__ == "__main__":
    main()
