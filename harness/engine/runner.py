"""One scenario run on a network (the built-in lab or real devices): preflight, snapshot,
probes, one fault cycle (`Cycler`), postflight, verdicts.

Every fault is journaled before it is injected and restored on every way out (Guard). Once
anything was injected the run always ends with a result: interrupted (Ctrl-C, SIGTERM) or
failed, it restores what it can, keeps what was measured, and says in the result why it is
incomplete and what was not restored. A run refused before injecting raises (nothing was
changed)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from harness.engine.cycle import Cycler, window_phases
from harness.engine.observer import RunObserver
from harness.errors import HarnessError
from harness.faults import Guard, recover
from harness.network import Network, Snapshot
from harness.probes.analysis import check
from harness.probes.session import ProbeRun, ProbeSession
from harness.scenario import snapshot
from harness.scenario.context import run_context
from harness.scenario.gate import GateRefused, check_gate
from harness.scenario.load import CriticalFlow, LoadedScenario
from harness.scenario.results import FlowVerdict, RunResult


def why_stopped(exc: BaseException) -> str:
    """One line for a run that ended early."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, SystemExit):
        return f"interrupted by signal {exc.code - 128}" if isinstance(exc.code, int) \
            and exc.code > 128 else f"stopped (exit {exc.code})"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, HarnessError) else str(exc)


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


class ScenarioRunner:
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 observer: RunObserver | None = None) -> None:
        self.scenario = loaded
        self.network = network
        self.workdir = workdir
        self.observer = observer or RunObserver()
        self.cycler = Cycler(loaded.flows, network, loaded.spec.timings, self.observer)
        self.result = RunResult(scenario=loaded.spec.name, topology=loaded.topology.name,
                                network=network.kind, expect=loaded.spec.expect)
        self.stopped: BaseException | None = None  # what ended an incomplete run early

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
            agents = pool.submit(probes.prepare)  # beside the preflight: nothing is sent yet
            try:
                self.preflight()
                before = self.network.snapshot()
            finally:
                wait([agents])
            agents.result()
            facts = pool.submit(self.network.facts)  # read-only
            self.result.context = run_context()
            self.result.timings_s["preflight"] = time.monotonic() - start
            self.observer.run_started(self.scenario.spec.name, self.network.kind)
            with Guard(self.network.target()) as guard:
                try:
                    self._fault_cycle(guard, probes, facts)
                except BaseException as exc:
                    if not guard.injected:
                        raise  # refused (or interrupted) before any change: nothing to keep
                    self.stopped = exc
                    self.result.incomplete = why_stopped(exc)
                    self.cycler.say("restore", f"run stopped early: {self.result.incomplete}"
                                               "; restoring")
                self.cycler.restore(guard, self.result)
            run = self._finish(probes, pool, before)
        if run is not None:
            self._judge(run)
        return self.result

    def _fault_cycle(self, guard: Guard, probes: ProbeSession,
                     facts: Future[dict[str, dict[str, Any]]]) -> None:
        """Baseline, then the fault cycle: the part a stop can interrupt."""
        t = self.result.timings_s
        probes.start()
        self.result.started_ns = time.time_ns()
        self.cycler.baseline(probes, self.scenario.spec.timings.baseline_s, also=facts.done)
        t["baseline"] = (time.time_ns() - self.result.started_ns) / 1e9
        self.result.devices = facts.result()
        self.cycler.cycle(guard, probes, self.scenario.faults, self.result)

    def _finish(self, probes: ProbeSession, pool: ThreadPoolExecutor,
                before: Snapshot) -> ProbeRun | None:
        """Stop the probes and read the state after; None when that failed (the result says
        why: the pack keeps whatever the probes wrote)."""
        start = time.monotonic()
        self.cycler.say("postflight", "stopping the probes, reading the state after the run")
        try:
            after = pool.submit(self.network.snapshot)  # beside the stop
            run = probes.stop()
            self.result.snapshots = {"before": before, "after": after.result()}
        except BaseException as exc:  # noqa: BLE001 - a stop must not lose the pack
            self._stop_early(exc, "stopping the probes")
            self.result.snapshots = {"before": before, "after": {}}
            return None
        self.result.probe_problems = run.problems
        self.result.ended_ns = run.stopped_ns
        self.result.state_diff += snapshot.diff(before, self.result.snapshots["after"])
        self.result.timings_s["postflight"] = time.monotonic() - start
        return run

    def _judge(self, run: ProbeRun) -> None:
        try:
            self.result.flows = [self._verdict(cf, label, run) for cf in self.scenario.flows
                                 for label, _, _ in cf.flow.directions()]
        except BaseException as exc:  # noqa: BLE001 - the pack keeps the raw probes
            self.result.flows = []
            self._stop_early(exc, "analysing the probes")

    def _stop_early(self, exc: BaseException, doing: str) -> None:
        self.stopped = self.stopped or exc
        why = f"{doing}: {why_stopped(exc)}"
        self.result.incomplete = f"{self.result.incomplete}; {why}" \
            if self.result.incomplete else why

    def _verdict(self, cf: CriticalFlow, label: str, run: ProbeRun) -> FlowVerdict:
        r = run.result(label)
        # from the start of the clean baseline window the fault waited for: a loss before it
        # (probes starting up) is in the results and the timeline, not in the verdict
        clean_from = self.result.fault_ns - int(self.scenario.spec.timings.baseline_s * 1e9)
        failover, failback = window_phases(r, self.result, clean_from)
        return FlowVerdict(direction=label, flow=cf.flow.name, critical=cf.critical,
                           sla_ms=cf.sla.max_outage_ms,
                           failback_sla_ms=cf.failback_sla.max_outage_ms,
                           failover=failover, failback=failback,
                           failover_verdict=check(failover, cf.sla, r.sent),
                           failback_verdict=check(failback, cf.failback_sla, r.sent),
                           result=r)
