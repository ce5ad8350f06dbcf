"""One scenario run on a network (the built-in lab or real devices): preflight, snapshot,
probes, one fault cycle (`Cycler`), postflight, verdicts.

Every fault is journaled before it is injected and restored on every way out (Guard). Once
anything was injected the run always ends with a result: interrupted (Ctrl-C, SIGTERM) or
failed, it restores what it can, keeps what was measured, and says in the result why it is
incomplete and what was not restored. A run refused before injecting raises (nothing was
changed)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.engine.cycle import Cycler, judge
from harness.engine.ending import Ending
from harness.engine.observer import RunObserver
from harness.faults import Guard, recover
from harness.network import Network
from harness.probes.session import ProbeRun, ProbeSession
from harness.scenario.gate import GateRefused, check_gate
from harness.scenario.load import FlowUnderTest, LoadedScenario
from harness.scenario.results import FlowVerdict, RunResult


def recover_earlier(observer: RunObserver) -> None:
    """Undo what a crashed run left (journal); refuse while any of it still stands: it could
    be the redundancy the next fault relies on."""
    failed = []
    for rec in recover():
        observer.phase("preflight", f"recovered from an earlier run: {rec.entry.kind} "
                                    f"({rec.outcome})")
        if not rec.ok:
            failed.append(f"{rec.entry.description}: {rec.outcome}")
    if failed:
        raise GateRefused("an earlier run's fault is still in place, nothing injected: "
                          f"{'; '.join(failed)} (see `failover recover`)")


class ScenarioRunner(Ending):
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 observer: RunObserver | None = None) -> None:
        self.scenario = loaded
        self.network = network
        self.workdir = workdir
        self.observer = observer or RunObserver()
        self.cycler = Cycler(loaded.flows, network, loaded.spec.timings, self.observer)
        self.result = RunResult(scenario=loaded.spec.name, topology=loaded.topology.name,
                                network=network.kind, expect=loaded.spec.expect)

    @property
    def record(self) -> RunResult:
        return self.result

    def preflight(self) -> None:
        """Undo what a crashed run left, wait for convergence, apply the redundancy gate."""
        recover_earlier(self.observer)
        timeout = self.scenario.spec.timings.converge_timeout_s
        self.cycler.say("preflight", f"waiting for routing to converge (up to {timeout:.0f} s)")
        self.network.wait_converged(timeout=timeout)
        check_gate(self.network, self.scenario.flows, self.scenario.faults,
                   self.scenario.spec.safety.allow_last_path_cut)

    def run(self) -> RunResult:
        """The run; raises only when refused before anything was injected."""
        timings = self.scenario.spec.timings
        start = time.monotonic()
        flows = [cf.flow for cf in self.scenario.flows]
        with ProbeSession(flows, self.network.endpoint, self.workdir / "probes",
                          max_seconds=timings.baseline_s + timings.hold_s + timings.failback_s
                          + timings.converge_timeout_s + 600) as probes, \
                ThreadPoolExecutor(max_workers=2) as pool:
            _, before, facts = self.prepare(probes, pool, self.preflight)
            self.result.timings_s["preflight"] = time.monotonic() - start
            with Guard(self.network.target()) as guard:
                try:
                    self._fault_cycle(guard, probes, facts)
                except BaseException as exc:
                    if not guard.injected:
                        raise  # refused (or interrupted) before any change: nothing to keep
                    self.stopped_early(exc)
                    self.cycler.say("restore", f"run stopped early: {self.result.incomplete}"
                                               "; restoring")
                self.cycler.restore(guard, self.result)
            ended = time.monotonic()
            run = self.finish(probes, pool, before)
            self.result.timings_s["postflight"] = time.monotonic() - ended
        if run is not None:
            self._judge(run)
        return self.result

    def _fault_cycle(self, guard: Guard, probes: ProbeSession,
                     facts: Future[dict[str, dict[str, Any]]]) -> None:
        """Baseline, then the fault cycle: the part a stop can interrupt."""
        self.start(probes, facts, self.scenario.spec.timings.baseline_s)
        self.result.timings_s["baseline"] = (time.time_ns() - self.result.started_ns) / 1e9
        self.cycler.cycle(guard, probes, self.scenario.faults, self.result)

    def _judge(self, run: ProbeRun) -> None:
        try:
            self.result.flows = [self._verdict(cf, label, run) for cf in self.scenario.flows
                                 for label, _, _ in cf.flow.directions()]
        except BaseException as exc:  # noqa: BLE001 - the pack keeps the raw probes
            self.result.flows = []
            self.stopped_early(exc, "analysing the probes")

    def _verdict(self, cf: FlowUnderTest, label: str, run: ProbeRun) -> FlowVerdict:
        r = run.result(label)
        clean_from = self.result.fault_ns - int(self.scenario.spec.timings.baseline_s * 1e9)
        return FlowVerdict(**vars(judge(cf, label, r, self.result, clean_from)), result=r)
