"""A probe run: start one agent per node (its receiver and its sender), mark events, stop,
analyse.

    with ProbeSession(flows, endpoint_of, workdir) as probes:
        probes.start()
        fault_at = probes.mark("fault")
        ...
        run = probes.stop()

Every agent is a child of this process (the ssh client that carries it), or of the session's
launcher, itself a child of this process, which forks the agents on this host: each killed
by its pid when the session closes (also on an exception); an agent also stops by itself
when its parent dies (PR_SET_PDEATHSIG, the launcher when this process dies), its stdin
closes or it overruns, and its sender (a process it forks) dies with it. Receivers stream
their records here, into `workdir/recv-<node>.bin`, wherever they run.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from harness.errors import HarnessError
from harness.probes import packets
from harness.probes.analysis import FlowResult, analyse
from harness.probes.endpoints import AgentProcess, ProbeEndpoint
from harness.probes.flows import Flow
from harness.probes.launching import Launcher
from harness.probes.wire import RECORD, SEQ_MODULO, STREAM_START

RECORD_DTYPE = np.dtype([("flow", "<u4"), ("seq", "<u4"), ("send_ns", "<u8"), ("recv_ns", "<u8")])

READY_TIMEOUT = 15.0
STOP_TIMEOUT = 30.0
MAX_DIRECTIONS = 0xFFFF  # a flow id's low half
ADDRESS_WORKERS = 16  # endpoints asked their address at once
# Once sending has stopped, receivers stop when every direction's last probe is in, or after
# DRAIN_MAX_S (a direction losing probes at the end): a probe in flight is not lost. A ring
# hands a probe over within two block timeouts (40 ms) of its arrival.
DRAIN_MAX_S = 0.25
DRAIN_POLL_S = 0.005


class ProbeError(HarnessError):
    """A probe agent failed or did not start."""


@dataclass(frozen=True)
class Event:
    label: str
    t_ns: int  # CLOCK_REALTIME, the probes' clock


@dataclass(frozen=True)
class _Direction:
    id: int  # the flow id its probes carry: this session's tag | index
    index: int  # 1, 2, ... in the order of the flows
    label: str
    flow: Flow
    src: str
    dst: str


@dataclass
class Live:
    """One direction as seen so far: probes received, when the last one arrived, and since
    when it has been clean (no sequence number skipped since then)."""

    received: int = 0
    last_recv_ns: int = 0
    max_seq: int = -1
    lost: int = 0  # sequence numbers skipped so far (late arrivals are not subtracted)
    clean_since_ns: int = 0

    def add(self, seqs: np.ndarray, recv_ns: np.ndarray) -> None:
        """Probes as they arrived (sequence numbers and receive times, in arrival order)."""
        if not len(seqs):
            return
        seqs = seqs.astype(np.int64)
        highest = np.maximum.accumulate(np.concatenate(([self.max_seq], seqs)))
        skipped = seqs - highest[:-1] - 1  # > 0: numbers skipped before this probe
        if self.max_seq < 0:
            skipped[0] = 0  # the first probe: no gap before it, but clean from here
            self.clean_since_ns = int(recv_ns[0])
        gaps = np.flatnonzero(skipped > 0)
        if len(gaps):
            self.lost += int(skipped[gaps].sum())
            self.clean_since_ns = int(recv_ns[gaps[-1]])
        self.received += len(seqs)
        self.max_seq = int(highest[-1])
        self.last_recv_ns = max(self.last_recv_ns, int(recv_ns.max()))


class _Agent:
    """One node's agent: its process, its stderr lines, and where it receives, the thread
    that copies its records into a local file."""

    def __init__(self, node: str, proc: AgentProcess, records: Path | None) -> None:
        self.node, self.proc, self.records = node, proc, records
        self.stderr: list[str] = []  # its stderr lines so far
        self._partial = b""
        self.copy_error = ""
        self.copier: threading.Thread | None = None
        if records is not None:
            assert proc.stdout is not None
            self.copier = threading.Thread(target=self._copy, args=(proc.stdout, records),
                                           daemon=True)
            self.copier.start()

    def tell(self, line: str) -> None:
        """A line on its stdin: the spec, "go", "stop". (If it is gone, what waits for its
        answer says why.)"""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def _copy(self, stream: IO[bytes], path: Path) -> None:
        """Records from the stream start into `path`; on a write error, keep draining (the
        receiver must not block) and say so."""
        head: bytes | None = b""
        out = path.open("wb")
        try:
            while chunk := stream.read1(1 << 16):  # type: ignore[attr-defined]
                if out.closed:
                    continue
                if head is not None:  # before the stream start: a login shell's chatter
                    head += chunk
                    if (at := head.find(STREAM_START)) < 0:
                        continue
                    chunk, head = head[at + len(STREAM_START):], None
                try:
                    out.write(chunk)
                    out.flush()
                except OSError as exc:
                    self.copy_error = f"records from {self.node} not saved: {exc}"
                    out.close()
        finally:
            out.close()

    def _read_stderr(self, deadline: float) -> bool:
        """Read what stderr has (complete lines into `stderr`); False at EOF or the deadline."""
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        data = os.read(fd, 1 << 16) if ready else b""
        self._partial += data
        *lines, self._partial = self._partial.split(b"\n")
        self.stderr += [t for line in lines if (t := line.decode(errors="replace").strip())]
        return bool(data)

    @property
    def _last(self) -> str:
        return self.stderr[-1] if self.stderr else "no output"

    def _message(self, key: str) -> dict[str, Any] | None:
        """The part of its summary under `key` (a JSON line on stderr), if said yet."""
        return next((d[key] for line in self.stderr if line.startswith("{")
                     for d in [_json(line)] if isinstance(d, dict) and key in d), None)

    def await_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while "ready" not in self.stderr:
            if not self._read_stderr(deadline):  # it exited, or never answered
                self.kill()
                raise ProbeError(f"probe agent on {self.node} did not start: "
                                 f"{self.stderr[-1] if self.stderr else 'no answer'}")
        self.stderr.remove("ready")

    def sent(self) -> dict[str, Any]:
        """Its sender's summary, once told to "stop"."""
        deadline = time.monotonic() + STOP_TIMEOUT
        while (summary := self._message("send")) is None:
            if not self._read_stderr(deadline):
                raise ProbeError(f"probe agent on {self.node} failed: {self._last}")
        if "error" in summary:
            raise ProbeError(f"probe agent on {self.node} failed: sender: {summary['error']}")
        return summary

    def stop(self) -> None:
        """Ask it to stop (closing its stdin works through SSH too). If it is gone already,
        a line still buffered cannot be flushed: what waits for its answer says why."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):  # the pipe is closed all the same
                self.proc.stdin.close()

    def received(self) -> dict[str, Any]:
        """Wait for it to finish; its receiver's summary ({} if it receives nothing)."""
        self.stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._read_stderr(deadline):  # until it closes stderr: it has exited
            pass
        if time.monotonic() >= deadline:
            self.proc.kill()
        self.proc.wait()
        if self.copier is not None:
            self.copier.join()
        summary = self._message("receive")
        if self.proc.returncode != 0 or (summary is None and self.records is not None):
            raise ProbeError(f"probe agent on {self.node} failed (exit {self.proc.returncode}):"
                             f" {self._last}")
        return summary or {}

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _by_flow(data: bytes) -> Iterator[tuple[int, np.ndarray]]:
    """The whole records (`wire.RECORD`) in `data`, grouped by flow id, each group in arrival
    order."""
    records = np.frombuffer(data, dtype=RECORD_DTYPE, count=len(data) // RECORD.size)
    order = np.argsort(records["flow"], kind="stable")
    ids = records["flow"][order]
    for part in np.split(order, np.flatnonzero(ids[1:] != ids[:-1]) + 1):
        if len(part):
            yield int(records["flow"][part[0]]), records[part]


def _json(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


@dataclass
class ProbeRun:
    """What a probe session measured: one result per flow direction, and the marked events."""

    results: list[FlowResult]
    events: list[Event]
    started_ns: int
    stopped_ns: int
    raw_files: list[Path] = field(default_factory=list)
    sender_late_max_ms: float = 0.0
    framed: list[str] = field(default_factory=list)  # directions sent as frames at the end
    receiver_drops: dict[str, int] = field(default_factory=dict)  # node -> packets its ring lost
    record_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What makes the measurement itself unsound (not the network's doing)."""
        return [f"the receiver on {node} could not keep up: its ring dropped {n} probe packets, "
                "which count as lost here although the network delivered them"
                for node, n in self.receiver_drops.items() if n] + self.record_errors

    def result(self, label: str) -> FlowResult:
        return next(r for r in self.results if r.name == label)

    def event(self, label: str) -> Event:
        return next(e for e in self.events if e.label == label)


class ProbeSession:
    read_max = -1  # bytes read from a records file per poll at most (-1: all there is)

    def __init__(self, flows: list[Flow], endpoint_of: Callable[[str], ProbeEndpoint],
                 workdir: Path, max_seconds: float = 3600.0) -> None:
        self.flows = flows
        self.endpoint_of = endpoint_of
        self.workdir = workdir
        self.max_seconds = max_seconds
        ends = [(f, d) for f in flows for d in f.directions()]
        if len(ends) > MAX_DIRECTIONS:
            raise ProbeError(f"{len(ends)} flow directions: one probe run takes "
                             f"{MAX_DIRECTIONS} at most")
        tag = secrets.randbits(16) << 16  # runs that share a host keep their probes apart
        self.directions = [_Direction(id=tag | i, index=i, label=label, flow=f, src=s, dst=d)
                           for i, (f, (label, s, d)) in enumerate(ends, start=1)]
        self.events: list[Event] = []
        self._agents: dict[str, _Agent] = {}
        self._launcher = Launcher()  # started with the first agent on this host
        self._started_ns = 0
        self._tail: dict[Path, int] = {}
        self.live: dict[str, Live] = {d.label: Live() for d in self.directions}
        self._labels = {d.id: d.label for d in self.directions}

    def __enter__(self) -> ProbeSession:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- lifecycle -------------------------------------------------------------------------
    def prepare(self) -> None:
        """Start every node's agent and wait until each is set up; nothing is sent yet. (It
        may run beside other preparations: it only touches this session's agents.)"""
        self.workdir.mkdir(parents=True, exist_ok=True)
        nodes = list(dict.fromkeys(n for d in self.directions for n in (d.dst, d.src)))
        receivers = {d.dst for d in self.directions}
        try:
            for node in nodes:  # the interpreters start while the specs are made
                self._agents[node] = _Agent(node, self.endpoint_of(node).spawn(self._launcher),
                                            self.workdir / f"recv-{node}.bin"
                                            if node in receivers else None)
            with ThreadPoolExecutor(max_workers=ADDRESS_WORKERS) as pool:  # over SSH, a command
                addr = dict(zip(nodes, pool.map(lambda n: self.endpoint_of(n).address(), nodes),
                                strict=True))
            # every spec made before any is told: an agent told sets up at once, beside this
            specs = {node: json.dumps(self._spec(node, addr)) for node in self._agents}
            for node, agent in self._agents.items():
                agent.tell(specs[node])
            for agent in self._agents.values():
                agent.await_ready()
        except BaseException:
            self.close()
            raise

    def start(self) -> None:
        """Start sending (preparing first if `prepare` was not called)."""
        if not self._agents:
            self.prepare()
        for node in self._senders:  # every receiver is listening
            self._agents[node].tell("go")
        self._started_ns = time.time_ns()

    def mark(self, label: str) -> Event:
        """Record an instant (e.g. the fault) on the probes' clock."""
        event = Event(label, time.time_ns())
        self.events.append(event)
        return event

    def poll(self) -> dict[str, Live]:
        """Read what the receivers wrote since the last poll (one write per ring block: at
        least every 40 ms while probes arrive)."""
        self._read_new()
        return self.live

    def stop(self) -> ProbeRun:
        """Stop sending, let the probes in flight land, stop receiving, analyse every
        direction."""
        try:
            for node in self._senders:
                self._agents[node].tell("stop")
            sent = {node: self._agents[node].sent() for node in self._senders}
            stopped = time.time_ns()
            self._drain(sent)
            for agent in self._agents.values():
                agent.stop()
            received = {node: agent.received() for node, agent in self._agents.items()}
        finally:
            self.close()
        return self._analyse(sent, received, stopped)

    def close(self) -> None:
        """Kill every agent still running, by the pid this session started (or its
        launcher's), then stop the launcher."""
        for agent in self._agents.values():
            agent.kill()
        self._launcher.close()

    @property
    def pids(self) -> list[int]:
        """The pids of the agents (or their ssh clients) this session started."""
        return [a.proc.pid for a in self._agents.values()]

    # -- helpers ---------------------------------------------------------------------------
    @property
    def _senders(self) -> list[str]:
        return list(dict.fromkeys(d.src for d in self.directions))

    def _spec(self, node: str, addr: dict[str, str]) -> dict[str, object]:
        """What `node`'s agent sends and receives."""
        out = [d for d in self.directions if d.src == node]
        into = [d for d in self.directions if d.dst == node]
        spec: dict[str, object] = {"max_seconds": self.max_seconds}
        if out:
            spec["send"] = {"flows": [self._sender_flow(d, addr) for d in out]}
        if into:
            spec["receive"] = {"rate": sum(d.flow.rate for d in into), "udp_ports": sorted(
                {d.flow.port for d in into if d.flow.protocol == "udp"})}
        return spec

    def _sender_flow(self, d: _Direction, addr: dict[str, str]) -> dict[str, object]:
        f = d.flow
        sport = f.sport or 49152 + d.index % 16384  # the ephemeral range
        src = f.src_addr if d.src == f.src and f.src_addr else addr[d.src]
        dst = f.dst_addr if d.dst == f.dst and f.dst_addr else addr[d.dst]
        packet, offset = packets.build(d.id, src, dst, f.protocol, sport, f.port, f.dscp, f.size)
        return {"id": d.id, "src": src, "dst": dst, "packet": packet.hex(), "header_offset": offset,
                "rate": f.rate}

    @property
    def _record_files(self) -> list[Path]:
        return sorted(a.records for a in self._agents.values()
                      if a.records is not None and a.records.exists())

    def _read_new(self) -> list[tuple[int, np.ndarray]]:
        """The records written since the last read, by direction id; the live views follow."""
        labels, new = self._labels, []
        for path in self._record_files:
            with path.open("rb") as fh:
                fh.seek(self._tail.get(path, 0))
                data = fh.read(self.read_max)
            whole = len(data) - len(data) % RECORD.size
            self._tail[path] = self._tail.get(path, 0) + whole
            self._took(path, memoryview(data)[:whole])
            for flow_id, mine in _by_flow(data):
                if flow_id not in labels:  # not this session's probe
                    continue
                self.live[labels[flow_id]].add(mine["seq"], mine["recv_ns"])
                new.append((flow_id, mine))
        return new

    def _took(self, path: Path, data: memoryview) -> None:
        """Whole records just read from `path` (up to its new tail): a subclass keeps them
        elsewhere (a long watch compresses them)."""

    def _drain(self, sent: dict[str, dict[str, Any]]) -> None:
        """Wait until the last probe of every direction that sent any has been received,
        DRAIN_MAX_S at most."""
        last = {d.id: (n - 1) % SEQ_MODULO for d in self.directions
                if (n := int(sent[d.src]["flows"][str(d.id)]["sent"]))}
        deadline = time.monotonic() + DRAIN_MAX_S
        while last and time.monotonic() < deadline:
            time.sleep(DRAIN_POLL_S)
            for flow_id, mine in self._read_new():
                if flow_id in last and bool((mine["seq"] == last[flow_id]).any()):
                    del last[flow_id]

    def _analyse(self, sent: dict[str, dict[str, Any]], received: dict[str, dict[str, Any]],
                 stopped_ns: int) -> ProbeRun:
        files = self._record_files
        results = self._results(sent, files)
        framed = [d.label for d in self.directions if sent[d.src]["flows"][str(d.id)]["frames"]]
        late = max((float(s.get("late_max_ns", 0)) for s in sent.values()), default=0.0) / 1e6
        return ProbeRun(results=results, events=list(self.events), started_ns=self._started_ns,
                        stopped_ns=stopped_ns, raw_files=files, sender_late_max_ms=late,
                        framed=framed,
                        receiver_drops={node: int(r.get("ring_drops", 0))
                                        for node, r in received.items() if r},
                        record_errors=[a.copy_error for a in self._agents.values()
                                       if a.copy_error])

    def _results(self, sent: dict[str, dict[str, Any]], files: list[Path]) -> list[FlowResult]:
        """Every direction analysed from the record files (read whole)."""
        arrivals: dict[int, list[np.ndarray]] = defaultdict(list)
        for path in files:
            for flow_id, mine in _by_flow(path.read_bytes()):
                arrivals[flow_id].append(mine)
        results = []
        for d in self.directions:
            info = sent[d.src]["flows"][str(d.id)]
            mine = np.concatenate(arrivals[d.id]) if d.id in arrivals else \
                np.empty(0, RECORD_DTYPE)
            result = analyse(d.label, np.column_stack(
                (mine["seq"], mine["send_ns"], mine["recv_ns"])).astype(np.int64),
                sent=int(info["sent"]), rate=d.flow.rate, first_send_ns=int(info["first_ns"]))
            result.probe_id = d.id
            results.append(result)
        return results
