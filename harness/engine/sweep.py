"""An N-1 campaign on one network: preflight once, the probes running across the whole
campaign, then each single failure in turn as its own fault window (`Cycler`), the network
checked back as at the start before the next one. Predicted first; a single point of failure
is reported, not injected (unless the sweep allows it). Interrupted or failed, it restores
what is open and keeps every window measured so far."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from pathlib import Path

from harness.engine.cycle import Cycler, judge
from harness.engine.ending import Ending
from harness.engine.observer import RunObserver
from harness.engine.runner import recover_earlier
from harness.errors import HarnessError
from harness.faults import Guard
from harness.network import Network, Snapshot
from harness.probes.session import ProbeRun, ProbeSession
from harness.scenario import snapshot
from harness.scenario.gate import GateRefused
from harness.scenario.load import LoadedScenario
from harness.sweep.model import SweepSpec
from harness.sweep.predict import Prediction, flow_paths, predict
from harness.sweep.results import Cell, FailureResult, ShardRecord, SweepResult

SAME_STATE_POLL_S = 0.5


class NotBackAsBefore(HarnessError):
    """The network did not come back as at the start: the next failure would carry over."""


class SweepRunner(Ending):
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 observer: RunObserver | None = None) -> None:
        assert loaded.spec.sweep is not None
        self.scenario = loaded
        self.sweep: SweepSpec = loaded.spec.sweep
        self.network = network
        self.workdir = workdir
        self.observer = observer or RunObserver()
        self.timings = loaded.spec.timings
        self.cycler = Cycler(loaded.flows, network, self.timings, self.observer)
        self.looked: list[str] | None = None  # the network's differences, seen last
        self.result = SweepResult(
            scenario=loaded.spec.name, topology=loaded.topology.name, network=network.kind,
            critical_directions=[label for cf in loaded.flows if cf.critical
                                 for label, _, _ in cf.flow.directions()])
        if loaded.shard is not None:
            self.result.shard = ShardRecord(
                loaded.shard.index, loaded.shard.count, [f.element for f in loaded.failures],
                [f.element for f in loaded.campaign_failures])

    @property
    def record(self) -> SweepResult:
        return self.result

    def predictions(self) -> list[Prediction]:
        """Each failure's prediction, from the forwarding tables as they are now."""
        topo, fwd = self.network.topology, self.network.forwarding()
        paths = {}
        for cf in self.scenario.flows:
            for label, src, dst in cf.flow.directions():
                address = self.network.endpoint(dst).address()
                paths[label] = flow_paths(topo, fwd, src, dst, _ipv4(address))
                self.result.prediction_source[label] = paths[label].source
        return predict(topo, self.scenario.flows, self.scenario.failures, paths)

    def preflight(self) -> list[Prediction]:
        recover_earlier(self.observer)
        timeout = self.timings.converge_timeout_s
        self.cycler.say("preflight", f"waiting for routing to converge (up to {timeout:.0f} s)")
        self.network.wait_converged(timeout=timeout)
        already = self.network.degraded()
        if already:
            raise GateRefused("redundancy is already degraded, refusing to sweep: "
                              + "; ".join(already))
        found = self.predictions()
        spofs = [p for p in found if p.cuts]
        self.cycler.say("preflight", f"{len(found)} single failures, {len(spofs)} of them "
                                     "single points of failure"
                        + ("" if not spofs or self.sweep.inject_single_points
                           else " (reported, not injected)"))
        return found

    def run(self) -> SweepResult:
        """The campaign; raises only when refused before anything was injected."""
        flows = [cf.flow for cf in self.scenario.flows]
        with ProbeSession(flows, self.network.endpoint, self.workdir / "probes",
                          max_seconds=24 * 3600) as probes, \
                ThreadPoolExecutor(max_workers=2) as pool:
            found, before, facts = self.prepare(probes, pool, self.preflight)
            with Guard(self.network.target()) as guard:
                try:
                    first_look = pool.submit(self._look, before)  # beside the baseline
                    self.start(probes, facts, self.timings.baseline_s)
                    first_look.result()
                    for n, prediction in enumerate(found, start=1):
                        self._one(guard, probes, prediction, before, f"{n}/{len(found)}")
                except BaseException as exc:
                    if not guard.injected:
                        raise
                    self.stopped_early(exc)
                    self.cycler.say("restore", f"sweep stopped early: {self.result.incomplete}"
                                               "; restoring")
                    if self.result.failures:
                        self.cycler.restore(guard, self.result.failures[-1])
            run = self.finish(probes, pool, before)
        if run is not None:
            self._judge(run)
        return self.result

    def _one(self, guard: Guard, probes: ProbeSession, prediction: Prediction,
             before: Snapshot, count: str) -> None:
        failure = prediction.failure
        window = FailureResult(element=failure.element, fault=failure.fault.describe(),
                               kind=failure.fault.kind, cuts=list(prediction.cuts),
                               accepted=failure.element in self.sweep.accepted_single_points,
                               predicted_affected=sorted(prediction.affected),
                               certain=sorted(prediction.certain))
        self.result.failures.append(window)
        if prediction.cuts and not self.sweep.inject_single_points:
            window.skipped = "single point of failure: it would cut the last path of " \
                             + ", ".join(prediction.cuts)
            self.cycler.say("sweep", f"{count} {failure.element}: {window.skipped}")
            return
        self.cycler.say("sweep", f"{count} {failure.element}: {failure.fault.describe()}")
        with self.cycler.ticking(probes, "settle", self.timings.converge_timeout_s):
            self._back_as_before(before)
        self.cycler.baseline(probes, self.sweep.settle_s)
        self.cycler.cycle(guard, probes, [failure.fault], window,
                          converged=lambda: self._look(before))
        window.end_ns = time.time_ns()
        if window.not_restored:
            raise HarnessError(f"{failure.element} could not be restored: the sweep stops")

    def _look(self, before: Snapshot) -> None:
        """How the network differs from the start now (run once the last failure's network
        has reconverged, beside its tail: the next failure's first look); a failed read
        leaves it to the next failure to look again."""
        try:
            self.looked = snapshot.diff(before, self.network.snapshot())
        except Exception:  # noqa: BLE001 - read again, and then raised, before the next one
            self.looked = None

    def _back_as_before(self, before: Snapshot) -> None:
        """Converged, and every router's state as at the start (nothing carries over): as
        the last failure's reconverged network was seen beside its tail, else as read now."""
        differs, self.looked = self.looked, None
        deadline = time.monotonic() + self.timings.converge_timeout_s
        while True:  # the last failure's cycle waited for convergence: look first
            if differs is None:
                differs = snapshot.diff(before, self.network.snapshot())
            if not differs:
                return
            self.network.wait_converged(timeout=self.timings.converge_timeout_s)
            if time.monotonic() > deadline:
                raise NotBackAsBefore("the network is not back as at the start of the sweep: "
                                      + "; ".join(differs[:5]))
            time.sleep(SAME_STATE_POLL_S)
            differs = None

    def _judge(self, run: ProbeRun) -> None:
        try:
            self.result.directions = list(run.results)
            for window in self.result.failures:
                if window.fault_ns:
                    window.cells = self._cells(window, run)
        except BaseException as exc:  # noqa: BLE001 - the pack keeps the raw probes
            self.stopped_early(exc, "analysing the probes")

    def _cells(self, window: FailureResult, run: ProbeRun) -> list[Cell]:
        clean_from = window.fault_ns - int(self.sweep.settle_s * 1e9)
        cells = []
        for cf in self.scenario.flows:
            for label, _, _ in cf.flow.directions():
                base = judge(cf, label, run.result(label), window, clean_from,
                             window.end_ns or None)
                cells.append(Cell(**vars(base),
                                  predicted_affected=label in window.predicted_affected,
                                  certain=label in window.certain))
        return cells


def _ipv4(address: str) -> IPv4Address:
    return IPv4Address(address.split("/")[0])
