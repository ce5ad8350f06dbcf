"""A probe run: start receivers then senders in their nodes, mark events, stop, analyse.

    with ProbeSession(flows, endpoint_of, workdir) as probes:
        probes.start()
        fault_at = probes.mark("fault")
        ...
        run = probes.stop()

Every agent is a child of this process, killed by its pid when the session closes (also on
an exception), and dies by itself if this process dies (PR_SET_PDEATHSIG) or overruns.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError
from harness.probes import packets
from harness.probes.analysis import Arrival, FlowResult, analyse
from harness.probes.endpoints import ProbeEndpoint
from harness.probes.flows import Flow
from harness.probes.wire import RECORD

READY_TIMEOUT = 15.0
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

    def add(self, seq: int, recv_ns: int) -> None:
        self.received += 1
        if self.max_seq < 0 or seq > self.max_seq + 1:  # the first probe, or a gap before it
            self.lost += seq - self.max_seq - 1 if self.max_seq >= 0 else 0
            self.clean_since_ns = recv_ns
        self.max_seq = max(self.max_seq, seq)
        self.last_recv_ns = max(self.last_recv_ns, recv_ns)


@dataclass
class ProbeRun:
    """What a probe session measured: one result per flow direction, and the marked events."""

    results: list[FlowResult]
    events: list[Event]
    started_ns: int
    stopped_ns: int
    raw_files: list[Path] = field(default_factory=list)
    sender_late_max_ms: float = 0.0

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
        self._senders: dict[str, subprocess.Popen[str]] = {}
        self._receivers: dict[str, subprocess.Popen[str]] = {}
        self._started_ns = 0
        self._tail: dict[Path, int] = {}
        self.live: dict[str, Live] = {d.label: Live() for d in self.directions}

    def __enter__(self) -> ProbeSession:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        addr = {n: self.endpoint_of(n).address() for d in self.directions for n in (d.src, d.dst)}
        by_dst: dict[str, list[_Direction]] = defaultdict(list)
        by_src: dict[str, list[_Direction]] = defaultdict(list)
        for d in self.directions:
            by_dst[d.dst].append(d)
            by_src[d.src].append(d)
        try:
            for node, dirs in by_dst.items():
                self._receivers[node] = self._spawn(node, "receive", {
                    "output": str(self.workdir / f"recv-{node}.bin"),
                    "udp_ports": sorted({d.flow.port for d in dirs if d.flow.protocol == "udp"}),
                    "max_seconds": self.max_seconds + 30})
            for node, proc in self._receivers.items():
                self._await_ready(node, proc)
            for node, dirs in by_src.items():
                self._senders[node] = self._spawn(node, "send", {
                    "max_seconds": self.max_seconds,
                    "flows": [self._sender_flow(d, addr) for d in dirs]})
            for node, proc in self._senders.items():
                self._await_ready(node, proc)
        except BaseException:
            self.close()
            raise
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
            for flow_id, seq, _, recv_ns in RECORD.iter_unpack(data[:usable]):
                self.live[labels[flow_id]].add(seq, recv_ns)
        return self.live

    def stop(self) -> ProbeRun:
        """Stop senders, let in-flight probes land, stop receivers, analyse every direction."""
        try:
            sent = self._finish(self._senders)
            stopped = time.time_ns()
            time.sleep(DRAIN_SECONDS)
            self._finish(self._receivers)
        finally:
            self.close()
        return self._analyse(sent, stopped)

    def close(self) -> None:
        """Kill every agent still running, by the pid this session started."""
        for proc in [*self._senders.values(), *self._receivers.values()]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # -- helpers ---------------------------------------------------------------------------
    def _sender_flow(self, d: _Direction, addr: dict[str, str]) -> dict[str, object]:
        f = d.flow
        sport = f.sport or 49152 + d.id
        src = f.src_addr if d.src == f.src and f.src_addr else addr[d.src]
        dst = f.dst_addr if d.dst == f.dst and f.dst_addr else addr[d.dst]
        packet, offset = packets.build(d.id, src, dst, f.protocol, sport, f.port, f.dscp, f.size)
        return {"id": d.id, "dst": dst, "packet": packet.hex(), "header_offset": offset,
                "rate": f.rate}

    def _spawn(self, node: str, role: str, spec: dict[str, object]) -> subprocess.Popen[str]:
        proc = self.endpoint_of(node).spawn(role)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(spec))
        proc.stdin.close()
        proc.stdin = None  # spec sent; communicate() must not touch it again
        return proc

    @staticmethod
    def _await_ready(node: str, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT)
        line = proc.stdout.readline().strip() if ready else ""
        if line != "ready":
            proc.kill()
            err = proc.stderr.read().strip().splitlines() if proc.stderr else []
            raise ProbeError(f"probe agent on {node} did not start: "
                             f"{err[-1] if err else line or 'no answer'}")

    @staticmethod
    def _finish(procs: dict[str, subprocess.Popen[str]]) -> dict[str, dict[str, object]]:
        """SIGTERM each agent, read its JSON summary."""
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        out = {}
        for node, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=30)
            lines = stdout.strip().splitlines()
            if proc.returncode != 0 or not lines:
                tail = stderr.strip().splitlines()
                raise ProbeError(f"probe agent on {node} failed (exit {proc.returncode}): "
                                 f"{tail[-1] if tail else 'no output'}")
            out[node] = json.loads(lines[-1])
        return out

    def _analyse(self, sent: dict[str, dict[str, object]], stopped_ns: int) -> ProbeRun:
        arrivals: dict[int, list[Arrival]] = defaultdict(list)
        files = sorted(self.workdir.glob("recv-*.bin"))
        for path in files:
            for flow_id, seq, send_ns, recv_ns in RECORD.iter_unpack(path.read_bytes()):
                arrivals[flow_id].append((seq, send_ns, recv_ns))
        results = []
        for d in self.directions:
            info = sent[d.src]["flows"][str(d.id)]  # type: ignore[index]
            results.append(analyse(d.label, arrivals.get(d.id, []), sent=int(info["sent"]),
                                   rate=d.flow.rate, first_send_ns=int(info["first_ns"])))
        late = max(float(s.get("late_max_ns", 0)) for s in sent.values()) / 1e6  # type: ignore[arg-type]
        return ProbeRun(results=results, events=list(self.events), started_ns=self._started_ns,
                        stopped_ns=stopped_ns, raw_files=files, sender_late_max_ms=late)
