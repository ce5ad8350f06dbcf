"""A probe run: start receivers then senders in their nodes, mark events, stop, analyse.

    with ProbeSession(flows, endpoint_of, workdir) as probes:
        probes.start()
        fault_at = probes.mark("fault")
        ...
        run = probes.stop()

Every agent (or the ssh client that carries it) is a child of this process, killed by its pid
when the session closes (also on an exception); an agent also stops by itself when this
process dies (PR_SET_PDEATHSIG, or its stdin closing) or overruns. Receivers stream their
records here, into `workdir/recv-<node>.bin`, wherever they run.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np

from harness.errors import HarnessError
from harness.probes import packets
from harness.probes.analysis import Arrival, FlowResult, analyse
from harness.probes.endpoints import ProbeEndpoint
from harness.probes.flows import Flow
from harness.probes.wire import RECORD, STREAM_START

RECORD_DTYPE = np.dtype([("flow", "<u4"), ("seq", "<u4"), ("send_ns", "<u8"), ("recv_ns", "<u8")])

READY_TIMEOUT = 15.0
STOP_TIMEOUT = 30.0
DRAIN_SECONDS = 0.05  # in-flight probes still arrive after the senders stop


class ProbeError(HarnessError):
    """A probe agent failed or did not start."""


@dataclass(frozen=True)
class Event:
    label: str
    t_ns: int  # CLOCK_REALTIME, the probes' clock


@dataclass(frozen=True)
class _Direction:
    id: int
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
    """One running agent: its process, and for a receiver the thread that copies its records
    into a local file."""

    def __init__(self, node: str, proc: subprocess.Popen[bytes], spec: dict[str, object],
                 records: Path | None) -> None:
        self.node, self.proc = node, proc
        self.stderr: list[str] = []  # its stderr lines so far
        self._partial = b""
        self.copy_error = ""
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(spec).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:  # it is gone already: await_ready says why
            pass
        self.copier: threading.Thread | None = None
        if records is not None:
            assert proc.stdout is not None
            self.copier = threading.Thread(target=self._copy, args=(proc.stdout, records),
                                           daemon=True)
            self.copier.start()

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

    def await_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while "ready" not in self.stderr:
            if not self._read_stderr(deadline):  # it exited, or never answered
                self.proc.kill()
                self.proc.wait()
                raise ProbeError(f"probe agent on {self.node} did not start: "
                                 f"{self.stderr[-1] if self.stderr else 'no answer'}")
        self.stderr.remove("ready")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        """Ask it to stop (closing its stdin works through SSH too)."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()

    def summary(self) -> dict[str, object]:
        """Wait for it to finish; its JSON summary (the last JSON line on stderr)."""
        self.stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._read_stderr(deadline):  # until it closes stderr: it has exited
            pass
        if time.monotonic() >= deadline:
            self.proc.kill()
        self.proc.wait()
        if self.copier is not None:
            self.copier.join()
        summary = next((d for line in reversed(self.stderr) if line.startswith("{")
                        for d in [_json(line)] if isinstance(d, dict)), None)
        if self.proc.returncode != 0 or not isinstance(summary, dict):
            raise ProbeError(f"probe agent on {self.node} failed (exit {self.proc.returncode}):"
                             f" {self.stderr[-1] if self.stderr else 'no output'}")
        return summary

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _by_flow(data: bytes) -> Iterator[tuple[int, np.ndarray]]:
    """Whole records (`wire.RECORD`) grouped by flow id, each group in arrival order."""
    records = np.frombuffer(data, dtype=RECORD_DTYPE)
    for flow_id in np.unique(records["flow"]):
        yield int(flow_id), records[records["flow"] == flow_id]


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
    receiver_drops: dict[str, int] = field(default_factory=dict)  # node -> probes its ring lost
    record_errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What makes the measurement itself unsound (not the network's doing)."""
        return [f"the receiver on {node} could not keep up: its ring dropped {n} probes, "
                "which count as lost here although the network delivered them"
                for node, n in self.receiver_drops.items() if n] + self.record_errors

    def result(self, label: str) -> FlowResult:
        return next(r for r in self.results if r.name == label)

    def event(self, label: str) -> Event:
        return next(e for e in self.events if e.label == label)


class ProbeSession:
    def __init__(self, flows: list[Flow], endpoint_of: Callable[[str], ProbeEndpoint],
                 workdir: Path, max_seconds: float = 3600.0) -> None:
        self.flows = flows
        self.endpoint_of = endpoint_of
        self.workdir = workdir
        self.max_seconds = max_seconds
        self.directions = [_Direction(id=i + 1, label=label, flow=f, src=s, dst=d)
                           for i, (f, (label, s, d)) in enumerate(
                               (f, d) for f in flows for d in f.directions())]
        self.events: list[Event] = []
        self._senders: dict[str, _Agent] = {}
        self._receivers: dict[str, _Agent] = {}
        self._started_ns = 0
        self._tail: dict[Path, int] = {}
        self.live: dict[str, Live] = {d.label: Live() for d in self.directions}

    def __enter__(self) -> ProbeSession:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- lifecycle -------------------------------------------------------------------------
    def prepare(self) -> None:
        """Start every agent and wait until each is set up; nothing is sent yet. (It may run
        beside other preparations: it only touches this session's agents.)"""
        self.workdir.mkdir(parents=True, exist_ok=True)
        addr = {n: self.endpoint_of(n).address() for d in self.directions for n in (d.src, d.dst)}
        by_dst: dict[str, list[_Direction]] = defaultdict(list)
        by_src: dict[str, list[_Direction]] = defaultdict(list)
        for d in self.directions:
            by_dst[d.dst].append(d)
            by_src[d.src].append(d)
        try:
            for node, dirs in by_dst.items():
                self._receivers[node] = _Agent(node, self.endpoint_of(node).spawn("receive"), {
                    "udp_ports": sorted({d.flow.port for d in dirs if d.flow.protocol == "udp"}),
                    "rate": sum(d.flow.rate for d in dirs), "max_seconds": self.max_seconds + 30},
                    self.workdir / f"recv-{node}.bin")
            for node, dirs in by_src.items():  # they set up beside the receivers
                self._senders[node] = _Agent(node, self.endpoint_of(node).spawn("send"), {
                    "max_seconds": self.max_seconds,
                    "flows": [self._sender_flow(d, addr) for d in dirs]}, None)
            for agent in [*self._receivers.values(), *self._senders.values()]:
                agent.await_ready()
        except BaseException:
            self.close()
            raise

    def start(self) -> None:
        """Start sending (preparing first if `prepare` was not called)."""
        if not self._senders:
            self.prepare()
        for agent in self._senders.values():  # every receiver is listening
            agent.go()
        self._started_ns = time.time_ns()

    def mark(self, label: str) -> Event:
        """Record an instant (e.g. the fault) on the probes' clock."""
        event = Event(label, time.time_ns())
        self.events.append(event)
        return event

    def poll(self) -> dict[str, Live]:
        """Read what the receivers wrote since the last poll (they flush every 100 ms)."""
        labels = {d.id: d.label for d in self.directions}
        for path in self.workdir.glob("recv-*.bin"):
            with path.open("rb") as fh:
                fh.seek(self._tail.get(path, 0))
                data = fh.read()
            usable = len(data) - len(data) % RECORD.size
            self._tail[path] = self._tail.get(path, 0) + usable
            for flow_id, mine in _by_flow(data[:usable]):
                self.live[labels[flow_id]].add(mine["seq"], mine["recv_ns"])
        return self.live

    def stop(self) -> ProbeRun:
        """Stop senders, let in-flight probes land, stop receivers, analyse every direction."""
        try:
            sent = self._finish(self._senders)
            stopped = time.time_ns()
            time.sleep(DRAIN_SECONDS)
            received = self._finish(self._receivers)
        finally:
            self.close()
        return self._analyse(sent, received, stopped)

    def close(self) -> None:
        """Kill every agent still running, by the pid this session started."""
        for agent in [*self._senders.values(), *self._receivers.values()]:
            agent.kill()

    @property
    def pids(self) -> list[int]:
        """The pids of the agents (or their ssh clients) this session started."""
        return [a.proc.pid for a in [*self._senders.values(), *self._receivers.values()]]

    # -- helpers ---------------------------------------------------------------------------
    def _sender_flow(self, d: _Direction, addr: dict[str, str]) -> dict[str, object]:
        f = d.flow
        sport = f.sport or 49152 + d.id
        src = f.src_addr if d.src == f.src and f.src_addr else addr[d.src]
        dst = f.dst_addr if d.dst == f.dst and f.dst_addr else addr[d.dst]
        packet, offset = packets.build(d.id, src, dst, f.protocol, sport, f.port, f.dscp, f.size)
        return {"id": d.id, "src": src, "dst": dst, "packet": packet.hex(), "header_offset": offset,
                "rate": f.rate}

    @staticmethod
    def _finish(agents: dict[str, _Agent]) -> dict[str, dict[str, object]]:
        """Stop every agent, then read each one's JSON summary."""
        for agent in agents.values():
            agent.stop()
        return {node: agent.summary() for node, agent in agents.items()}

    def _analyse(self, sent: dict[str, dict[str, object]],
                 received: dict[str, dict[str, object]], stopped_ns: int) -> ProbeRun:
        arrivals: dict[int, list[Arrival]] = defaultdict(list)
        files = sorted(self.workdir.glob("recv-*.bin"))
        for path in files:
            data = path.read_bytes()
            for flow_id, mine in _by_flow(data[:len(data) - len(data) % RECORD.size]):
                arrivals[flow_id] += mine[["seq", "send_ns", "recv_ns"]].tolist()
        results, framed = [], []
        for d in self.directions:
            info = sent[d.src]["flows"][str(d.id)]  # type: ignore[index]
            results.append(analyse(d.label, arrivals.get(d.id, []), sent=int(info["sent"]),
                                   rate=d.flow.rate, first_send_ns=int(info["first_ns"])))
            if info["frames"]:
                framed.append(d.label)
        late = max(float(s.get("late_max_ns", 0)) for s in sent.values()) / 1e6  # type: ignore[arg-type]
        return ProbeRun(results=results, events=list(self.events), started_ns=self._started_ns,
                        stopped_ns=stopped_ns, raw_files=files, sender_late_max_ms=late,
                        framed=framed,
                        receiver_drops={node: int(r.get("ring_drops", 0))  # type: ignore[call-overload]
                                        for node, r in received.items()},
                        record_errors=[a.copy_error for a in self._receivers.values()
                                       if a.copy_error])
