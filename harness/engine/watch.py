"""A watch: every flow probed for hours while people do the work; the harness injects
nothing. Marks come from the keyboard (`inbox`) and from `failover mark` (`MarkBoard`);
outages are found while the probes stream (`WatchProbes`) and told as they settle; a
checkpoint (`checkpoint.json`, the raw records' gzip members) is written every CHECKPOINT_S,
so a watch killed outright keeps what it measured. Ctrl-C ends the watch early: its pack is
written as for a watch that ran its course."""

from __future__ import annotations

import json
import os
import queue
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from harness.engine.cycle import TICK_S, Cycler
from harness.engine.ending import Ending
from harness.engine.observer import RunObserver
from harness.engine.signals import as_exception, signals_deferred
from harness.network import Network
from harness.probes.session import ProbeRun
from harness.report.html import utc
from harness.scenario.load import LoadedScenario
from harness.watch.marks import Mark, MarkBoard
from harness.watch.probes import WatchProbes
from harness.watch.results import (
    DirectionOutage,
    Incident,
    WatchResult,
    direction_outages,
    incidents,
    totals,
)

CHECKPOINT_S = 60.0
CHECKPOINT = "checkpoint.json"


class WatchRunner(Ending):
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 observer: RunObserver, duration_s: float,
                 inbox: queue.Queue[Mark] | None = None,
                 checkpoint_s: float = CHECKPOINT_S) -> None:
        self.scenario = loaded
        self.network = network
        self.workdir = workdir
        self.observer = observer
        self.duration_s = duration_s
        self.inbox: queue.Queue[Mark] = inbox or queue.Queue()
        self.checkpoint_s = checkpoint_s
        self.cycler = Cycler(loaded.flows, network, loaded.spec.timings, observer)
        self.result = WatchResult(scenario=loaded.spec.name, topology=loaded.topology.name,
                                  network=network.kind, duration_s=duration_s)
        self._losing: set[str] = set()

    @property
    def record(self) -> WatchResult:
        return self.result

    def _preflight(self) -> None:
        self.cycler.say("preflight", f"watching {len(self.scenario.flows)} flows on "
                                     f"{self.network.kind} for {self.duration_s:g} s: nothing "
                                     "will be injected (Ctrl-C ends the watch early)")

    def run(self) -> WatchResult:
        """The watch; raises only when stopped before its probes started."""
        flows = [cf.flow for cf in self.scenario.flows]
        probes = WatchProbes(flows, self.network.endpoint, self.workdir / "probes",
                             self.workdir / "raw", self.duration_s + 600)
        with probes, ThreadPoolExecutor(max_workers=2) as pool, MarkBoard() as board:
            _, before, facts = self.prepare(probes, pool, self._preflight)
            with signals_deferred() as arrived:  # a record must not be torn mid-write
                probes.start()
                self.result.started_ns = time.time_ns()
                self.cycler.say("watch", f"watching (pid {os.getpid()}): type a line and "
                                         "Enter to mark an instant, or `failover mark TEXT` "
                                         "elsewhere")
                try:
                    self._watch(probes, board, arrived)
                except BaseException as exc:  # noqa: BLE001 - the pack keeps what was measured
                    self.stopped_early(exc)
                self._ended(arrived)
                self.result.devices = facts.result() if facts.done() else {}
                run = self.finish(probes, pool, before)
                self._take_marks(board)
                probes.discard_records()
        if run is not None:
            self._judge(run)
        (self.workdir / CHECKPOINT).unlink(missing_ok=True)  # results.json replaces it
        return self.result

    def _ended(self, arrived: list[int]) -> None:
        """How the watch ended: its duration, Ctrl-C (a person ending it early), or another
        signal or an error (incomplete)."""
        if arrived and arrived[0] == signal.SIGINT:
            self.result.ended = "ended early (Ctrl-C)"
        elif arrived:
            self.stopped_early(as_exception(arrived[0]))
        elif not self.result.incomplete:
            self.result.ended = f"its duration ({self.duration_s:g} s) passed"
        self.cycler.say("watch", f"watch {self.result.ended or 'stopped'}")

    def _watch(self, probes: WatchProbes, board: MarkBoard, arrived: list[int]) -> None:
        """Until the duration passed or a signal arrived."""
        end = time.monotonic() + self.duration_s
        next_checkpoint = time.monotonic() + self.checkpoint_s
        while (left := end - time.monotonic()) > 0 and not arrived:
            time.sleep(min(TICK_S, left))
            losing = self.cycler.tick(probes, "watch", end - time.monotonic())
            self._take_marks(board)
            self._tell(probes, set(losing))
            if time.monotonic() >= next_checkpoint:
                self._checkpoint(probes)
                next_checkpoint += self.checkpoint_s

    def _take_marks(self, board: MarkBoard) -> None:
        found = board.new()
        while not self.inbox.empty():
            found.append(self.inbox.get_nowait())
        for mark in sorted(found, key=lambda m: m.wall_ns):
            self.result.marks.append(mark)
            self.observer.mark(mark.text, mark.wall_ns)
            self.cycler.say("mark", f"mark at {utc(mark.wall_ns)}: {mark.text}")

    def _tell(self, probes: WatchProbes, losing: set[str]) -> None:
        """Lines for a person: directions that began losing, and outages as they settle
        (grouped when several directions failed together)."""
        if began := sorted(losing - self._losing):
            self.cycler.say("outage", f"LOSING since about {utc(time.time_ns())}: "
                                      f"{', '.join(began)}")
        self._losing = losing
        now = time.time_ns()
        settled = [o for s in probes.streams.values()
                   for o in direction_outages(s.name, s.rate, s.settled(now))]
        for incident in incidents(settled, self.result.marks):
            self.cycler.say("outage", describe(incident))

    def _checkpoint(self, probes: WatchProbes) -> None:
        """What was measured so far, written atomically (and the raw records flushed)."""
        probes.checkpoint()
        found = [o for s in probes.streams.values()
                 for o in direction_outages(s.name, s.rate, s.outages)]
        data = {"scenario": self.result.scenario, "started_ns": self.result.started_ns,
                "at_ns": time.time_ns(), "duration_s": self.duration_s,
                "marks": [asdict(m) for m in self.result.marks],
                "received": {s.name: s.received for s in probes.streams.values()},
                "incidents": [asdict(i) for i in incidents(found, self.result.marks)]}
        tmp = self.workdir / f"{CHECKPOINT}.tmp"
        with tmp.open("w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.workdir / CHECKPOINT)

    def _judge(self, run: ProbeRun) -> None:
        try:
            self.result.directions = list(run.results)
            found: list[DirectionOutage] = []
            for cf in self.scenario.flows:
                for label, _, _ in cf.flow.directions():
                    r = run.result(label)
                    found += direction_outages(r.name, r.rate, r.outages)
                    self.result.totals.append(totals(r, cf.flow.name, cf.critical,
                                                     cf.sla.max_outage_ms))
            self.result.incidents = incidents(found, self.result.marks)
        except BaseException as exc:  # noqa: BLE001 - the pack keeps the raw probes
            self.stopped_early(exc, "analysing the probes")


def describe(incident: Incident) -> str:
    """One line: an incident's start, its length, the directions it hit, its nearest mark."""
    took = f"{incident.duration_ms:.0f} ms" if incident.duration_ms is not None \
        else "not over"
    lost = ", ".join(f"{o.direction} {o.outage_ms:.0f} ms" for o in incident.outages)
    near = incident.nearest
    mark = f"; nearest mark {near.text!r} {near.offset_ms / 1e3:+.3f} s" if near else ""
    return f"OUTAGE at {utc(incident.start_ns)} for {took}: {lost}{mark}"

