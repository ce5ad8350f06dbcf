"""The probe sender, forked by the agent (stdlib only: see `agent`): it paces every flow at
its rate with `sendmmsg`, patching the sequence number and send time into each flow's
prebuilt packet (built with scapy by the controller); it never skips a sequence number and
catches up when woken late. It writes frames to the next hop's Ethernet address (see
`egress`), or through the IP stack where that is not known. `serve` is its process: set up,
answer ready, send from "go" until its control pipe closes, answer its summary (`control`).
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading
import time

from harness.probes.control import LIBC, Stop, answer, die_with_parent, follow, niceness
from harness.probes.egress import Egress, Key, Watcher
from harness.probes.wire import SEQ_TIME

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of a start-up)
if TYPE_CHECKING:
    from typing import Any, NoReturn

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
        self.watcher.start()  # before _realtime(): the watcher must not be real-time

    def run(self, stop: Stop, max_seconds: float, realtime: bool) -> dict[str, Any]:
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


def serve(spec: dict[str, Any], max_seconds: float, parent: int, nice: int, control: int,
          answers_fd: int) -> NoReturn:
    """The forked sender: set up, answer ready, send from "go" until its control pipe
    closes, answer its summary, exit (never returning into the agent's code). `parent`: the
    agent's pid; `nice`: the nice value to return to."""
    code = 0
    answers = os.fdopen(answers_fd, "w")
    try:
        die_with_parent()  # the agent
        stop, go = Stop(), threading.Event()
        stop.on_signals()
        if os.getppid() != parent:  # the agent died before prctl
            stop()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # stdin and the record stream are the agent's
        os.dup2(null, 1)
        os.close(null)
        niceness(nice)  # before its threads start
        sender = _Sender(spec)
        threading.Thread(target=follow, args=(control, stop, go), daemon=True).start()
        realtime = _realtime()
        answer(answers, {"ready": True})
        while not go.wait(0.1) and not stop.flag:
            pass
        summary = sender.run(stop, max_seconds, realtime)
    except BaseException as exc:  # noqa: BLE001 - the agent reports it
        import traceback
        traceback.print_exc()
        summary, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    try:
        answer(answers, summary)
    except OSError:  # the agent is gone
        code = 1
    os._exit(code)
