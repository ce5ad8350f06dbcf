"""Benchmark: does the live page slow the probes?

On h1 - fwd - h2 (static forwarding, nothing injected), FLOWS flows both ways at RATE pps each
(12 directions at 1 kpps by default) run for SECONDS while the engine watches them as during
a hold (`Cycler.watch`: a tick every 100 ms into a served `LiveView`), once with nobody
polling the page and once with POLLERS clients each fetching its state HZ times a second (as
the page does, a new connection each time, from a process of their own as browsers are),
alternating for ROUNDS rounds. Printed for each: the probes' send rate achieved, lost probes,
the receive gaps beyond one interval (p99.9 and the largest), the one-way delay
(p50/p99/max) and its jitter (mean |delay - previous delay|, RFC 3550's), the sender's worst
lateness, the engine's tick interval (p99/max), the page's requests and response times, this
process's CPU, and the machine's load average after it.
Run as root:  .venv/bin/python bench/live_view.py [--seconds 20] [--pollers 5] [--hz 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.engine import FlowNow, Observers, RunObserver
from harness.engine.cycle import Cycler
from harness.lab import Lab
from harness.lab.teardown import teardown
from harness.live import LiveServer, LiveView, parse_address
from harness.network import LabNetwork
from harness.probes.analysis import SLA
from harness.probes.endpoints import NetnsEndpoint
from harness.probes.flows import Flow
from harness.probes.session import RECORD_DTYPE, ProbeRun, ProbeSession
from harness.probes.wire import RECORD
from harness.scenario.load import FlowUnderTest
from harness.scenario.model import Timings
from harness.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parent / "topologies/probe-chain.clab.yml"


class TickTimes(RunObserver):
    def __init__(self) -> None:
        self.at: list[float] = []

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        self.at.append(time.monotonic())


def poll(url: str, n: int, hz: float, stop: Any, out: Any) -> None:
    """`n` clients fetching `url` `hz` times a second each until `stop` is set; sends back
    the response times (s) and the number of failed requests."""
    seconds: list[float] = []
    errors = [0]

    def client() -> None:
        while not stop.wait(1 / hz):
            start = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    r.read()
                seconds.append(time.monotonic() - start)
            except OSError:
                errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.send((seconds, errors[0]))


@dataclass
class Pollers:
    """The page's clients, in a process of their own (as browsers are)."""

    url: str
    n: int
    hz: float
    seconds: list[float] = field(default_factory=list)
    errors: int = 0

    def __enter__(self) -> Pollers:
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=poll, args=(self.url, self.n, self.hz, self._stop,
                                                    send), daemon=True)
        self._proc.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self.seconds, self.errors = self._recv.recv()
        self._proc.join()


@dataclass
class Figures:
    pollers: int
    rate_pct: float  # probes sent / (directions * rate * duration)
    lost: int
    max_gap_ms: float
    gap_p999_ms: float
    delay_ms: tuple[float, float, float]  # p50, p99, max
    jitter_us: float
    late_ms: float
    tick_ms: tuple[float, float]  # p99, max interval
    requests: int
    errors: int
    response_ms: tuple[float, float]  # p50, p99
    cpu_pct: float
    load: float  # the 1-minute load average after it


def delays(run: ProbeRun, rate: float) -> tuple[np.ndarray, float, np.ndarray]:
    """From the raw records: every probe's one-way delay (ns), the mean |delay - previous
    delay| per direction (ns), and every receive gap beyond one interval (ns)."""
    all_delays, jitters, gaps = [], [], []
    for path in run.raw_files:
        data = path.read_bytes()
        rec = np.frombuffer(data, dtype=RECORD_DTYPE, count=len(data) // RECORD.size)
        for flow in np.unique(rec["flow"]):
            mine = rec[rec["flow"] == flow]
            d = mine["recv_ns"].astype(np.int64) - mine["send_ns"].astype(np.int64)
            all_delays.append(d)
            gaps.append(np.diff(np.sort(mine["recv_ns"].astype(np.int64))) - 1e9 / rate)
            if len(d) > 1:
                jitters.append(float(np.abs(np.diff(d)).mean()))
    return np.concatenate(all_delays), statistics.fmean(jitters), np.concatenate(gaps)


def measure(lab: Lab, args: argparse.Namespace, pollers: int, tmp: Path) -> Figures:
    flows = [Flow(name=f"f{i}", src="h1", dst="h2", port=41000 + i, rate=args.rate,
                  direction="both") for i in range(args.flows)]
    network = LabNetwork(lab)
    view, ticks = LiveView(), TickTimes()
    cycler = Cycler([FlowUnderTest(f, SLA(1000), SLA(1000), 10_000, True) for f in flows],
                    network, Timings(), Observers([view, ticks]))
    session = ProbeSession(flows, lambda n: NetnsEndpoint(n, lab.ns(n)), tmp / "probes",
                           max_seconds=args.seconds + 120)
    with session, LiveServer(view, parse_address("0")) as server:
        session.prepare()
        session.start()
        cycler.baseline(session, 1.0)
        with Pollers(server.url + "state", pollers, args.hz) as polled:
            cpu, wall = time.process_time(), time.monotonic()
            cycler.watch(session, "hold", args.seconds, None)
            cpu_pct = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)
        run = session.stop()
    sent = sum(r.sent for r in run.results)
    span_s = (run.stopped_ns - run.started_ns) / 1e9
    d, jitter, gaps_ns = delays(run, args.rate)
    gaps = np.diff(ticks.at[-int(args.seconds * 10):]) * 1e3
    ms = sorted(s * 1e3 for s in polled.seconds) or [0.0]
    return Figures(
        pollers=pollers,
        rate_pct=100 * sent / (len(run.results) * args.rate * span_s),
        lost=sum(r.lost for r in run.results),
        max_gap_ms=max(r.max_gap_ns for r in run.results) / 1e6,
        gap_p999_ms=float(np.percentile(gaps_ns, 99.9)) / 1e6,
        delay_ms=(float(np.percentile(d, 50)) / 1e6, float(np.percentile(d, 99)) / 1e6,
                  float(d.max()) / 1e6),
        jitter_us=jitter / 1e3, late_ms=run.sender_late_max_ms,
        tick_ms=(float(np.percentile(gaps, 99)), float(gaps.max())),
        requests=len(polled.seconds), errors=polled.errors,
        response_ms=(ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]),
        cpu_pct=cpu_pct, load=os.getloadavg()[0])


def show(f: Figures) -> str:
    return (f"{f.pollers:>7} {f.rate_pct:>6.2f}% {f.lost:>5} {f.gap_p999_ms:>5.2f}/"
            f"{f.max_gap_ms:<6.2f} "
            f"{f.delay_ms[0]:>6.3f}/{f.delay_ms[1]:.3f}/{f.delay_ms[2]:.2f} "
            f"{f.jitter_us:>7.1f} {f.late_ms:>7.2f} {f.tick_ms[0]:>6.1f}/{f.tick_ms[1]:.1f} "
            f"{f.requests:>5}/{f.errors} {f.response_ms[0]:>5.1f}/{f.response_ms[1]:.1f} "
            f"{f.cpu_pct:>5.1f} {f.load:>5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="without/with pollers, repeated")
    parser.add_argument("--pollers", type=int, default=5)
    parser.add_argument("--hz", type=float, default=4.0, help="each poller's rate")
    parser.add_argument("--flows", type=int, default=6, help="flows, both ways each")
    parser.add_argument("--rate", type=float, default=1000.0, help="pps per direction")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        topo = Path(tmp) / TOPOLOGY.name
        topo.write_text(TOPOLOGY.read_text().replace(
            "name: probe-chain\n", f"name: lv{uuid.uuid4().hex[:6]}\n", 1))
        lab = Lab(load_topology(topo))
        print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); "
              f"{2 * args.flows} directions at {args.rate:.0f} pps, {args.seconds:g} s each")
        print("pollers  sent%  lost gap ms p99.9/max delay ms p50/p99/max  jit us  late ms "
              "tick ms p99/max  req/err  resp ms p50/p99  cpu%  load")
        try:
            lab.up()
            for n in range(args.rounds):
                for pollers in (0, args.pollers):
                    print(show(measure(lab, args, pollers, Path(tmp) / f"{n}-{pollers}")),
                          flush=True)
        finally:
            teardown(lab.name)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
