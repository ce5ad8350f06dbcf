"""One scenario run on a network (the built-in lab or real devices): preflight, snapshot,
probes, fault, hold, restore, failback, postflight, verdicts.

Every fault is journaled before it is injected and restored on every way out (Guard); a
critical flow past its hard limit restores at once. Once anything was injected the run always
ends with a result: interrupted (Ctrl-C, SIGTERM) or failed, it restores what it can, keeps
what was measured, and says in the result why it is incomplete and what was not restored. A
run refused before injecting raises (nothing was changed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from harness.engine.observer import FlowNow, RunObserver
from harness.errors import HarnessError, NetworkError
from harness.faults import Guard, Stamp, recover
from harness.network import Network, Snapshot
from harness.probes.analysis import check, phase
from harness.probes.session import Live, ProbeRun, ProbeSession
from harness.scenario import snapshot
from harness.scenario.context import run_context
from harness.scenario.gate import GateRefused, check_gate
from harness.scenario.load import CriticalFlow, LoadedScenario
from harness.scenario.results import FlowVerdict, RunResult

TICK_S = 0.1  # observers' ticks while a fault holds or the failback is watched
WAIT_TICK_S = 0.02  # a wait for clean traffic looks this often: it ends no later than that
LIVE_LAG_MS = 60  # a receiver hands a probe on within two ring block timeouts (40 ms)
LOSING_MS = 50  # overdue by more than this: shown as losing
FAILBACK_TAIL_S = 1.0  # after reconvergence, watch this long at most...
TAIL_CLEAN_S = 0.3  # ...or until every direction has delivered this long cleanly after it
BASELINE_GRACE_S = 10.0  # startup transients (first ARP, agents settling) may use this much
REPORT_EVERY_S = 1.0  # a wait still going says so this often


class BaselineNotClean(HarnessError):
    """Traffic was already failing before the fault: nothing was injected."""


def why_stopped(exc: BaseException) -> str:
    """One line for a run that ended early."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, SystemExit):
        return f"interrupted by signal {exc.code - 128}" if isinstance(exc.code, int) \
            and exc.code > 128 else f"stopped (exit {exc.code})"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, HarnessError) else str(exc)


class ScenarioRunner:
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 observer: RunObserver | None = None) -> None:
        self.scenario = loaded
        self.network = network
        self.workdir = workdir
        self.observer = observer or RunObserver()
        self.result = RunResult(scenario=loaded.spec.name, topology=loaded.topology.name,
                                network=network.kind, expect=loaded.spec.expect)
        self.limits = {label: cf.hard_limit_ms for cf in loaded.flows if cf.critical
                       for label, _, _ in cf.flow.directions()}
        self.periods_ms = {label: 1e3 / cf.flow.rate for cf in loaded.flows
                           for label, _, _ in cf.flow.directions()}
        self.stopped: BaseException | None = None  # what ended an incomplete run early

    def _say(self, phase_name: str, detail: str) -> None:
        self.observer.phase(phase_name, detail)

    def preflight(self) -> None:
        """Undo what a crashed run left, wait for convergence, apply the redundancy gate."""
        failed = []
        for rec in recover():
            self._say("preflight", f"recovered from an earlier run: {rec.entry.kind} "
                                   f"({rec.outcome})")
            if not rec.ok:
                failed.append(f"{rec.entry.description}: {rec.outcome}")
        if failed:  # what still stands could be the redundancy the fault relies on
            raise GateRefused("an earlier run's fault is still in place, nothing injected: "
                              f"{'; '.join(failed)} (see `failover recover`)")
        timeout = self.scenario.spec.timings.converge_timeout_s
        self._say("preflight", f"waiting for routing to converge (up to {timeout:.0f} s)")
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
                    self._say("restore", f"run stopped early: {self.result.incomplete}; "
                                         "restoring")
                self._restore(guard)
            run = self._finish(probes, pool, before)
        if run is not None:
            self._judge(run)
        return self.result

    def _fault_cycle(self, guard: Guard, probes: ProbeSession,
                     facts: Future[dict[str, dict[str, Any]]]) -> None:
        """Baseline, inject, hold, restore, failback: the part a stop can interrupt."""
        timings, t = self.scenario.spec.timings, self.result.timings_s
        probes.start()
        self.result.started_ns = time.time_ns()
        self._baseline(probes, timings.baseline_s, also=facts.done)
        t["baseline"] = (time.time_ns() - self.result.started_ns) / 1e9
        self.result.devices = facts.result()
        for fault in self.scenario.faults:
            self._say("inject", f"injecting: {fault.describe()}")
            stamps = guard.inject(fault)
            self.result.inject_stamps += stamps
            self.result.fault_ns = self.result.fault_ns or _first(stamps, time.time_ns())
            self.observer.fault_injected(fault, stamps)
        self._watch(probes, "hold", timings.hold_s, abort=True)
        self._say("restore", "restoring")
        self._restore(guard)
        if self.result.not_restored:
            return  # the network is left changed: no failback to watch
        self._watch(probes, "failback", timings.failback_s, abort=False)
        self._say("failback", "waiting for the network to reconverge (probes running)")
        try:
            self.network.wait_converged(timeout=timings.converge_timeout_s)
            self.result.converged_ns = time.time_ns()
        except NetworkError as exc:  # reported with the results, never hidden
            self.result.state_diff.append(f"not restored: {exc}")
        tail = time.monotonic()
        self._tail(probes, time.time_ns())
        t["failback_tail"] = time.monotonic() - tail

    def _restore(self, guard: Guard) -> None:
        """Restore what is still in place (a second call finds nothing to do)."""
        done = guard.restore_remaining()
        if not done.restored and not done.failed:
            return
        self.result.restore_stamps += done.stamps
        self.result.restore_ns = self.result.restore_ns or _first(done.stamps, time.time_ns())
        self.result.restored += done.restored
        self.result.not_restored += done.failed
        self.observer.faults_restored(done)

    def _finish(self, probes: ProbeSession, pool: ThreadPoolExecutor,
                before: Snapshot) -> ProbeRun | None:
        """Stop the probes and read the state after; None when that failed (the result says
        why: the pack keeps whatever the probes wrote)."""
        start = time.monotonic()
        self._say("postflight", "stopping the probes, reading the state after the run")
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

    def _tail(self, probes: ProbeSession, converged_ns: int) -> None:
        """After reconvergence, watch until every direction has delivered cleanly for
        TAIL_CLEAN_S of probes received after it (a failback outage right at convergence is
        still seen to end); FAILBACK_TAIL_S at most."""
        end = time.monotonic() + FAILBACK_TAIL_S
        clean_ns = int(TAIL_CLEAN_S * 1e9)
        while time.monotonic() < end:
            time.sleep(WAIT_TICK_S)
            if all(live.last_recv_ns >= converged_ns + clean_ns
                   and live.last_recv_ns - live.clean_since_ns >= clean_ns
                   for live in probes.poll().values()):
                return

    def _baseline(self, probes: ProbeSession, seconds: float,
                  also: Callable[[], bool] = lambda: True) -> None:
        """Wait until every direction has been clean (no probe missing, none overdue) for
        `seconds`, and `also` holds (the fault follows at once, so the clean window ends at
        the fault); refuse when that does not happen within BASELINE_GRACE_S more."""
        self._say("baseline", f"baseline: {len(probes.directions)} flow directions, "
                              f"{seconds:.0f} s of clean traffic needed")
        deadline = time.monotonic() + seconds + BASELINE_GRACE_S
        next_report = time.monotonic() + seconds + REPORT_EVERY_S
        while True:
            time.sleep(WAIT_TICK_S)
            now = time.time_ns()
            problems = {label: _dirty(live, now, seconds, self.periods_ms[label])
                        for label, live in probes.poll().items()}
            problems = {label: why for label, why in problems.items() if why}
            if not problems and also():
                return
            why = "; ".join(f"{k}: {v}" for k, v in problems.items())
            if time.monotonic() > deadline:
                raise BaselineNotClean(f"traffic is not clean before the fault, nothing "
                                       f"injected: {why}")
            if time.monotonic() >= next_report:
                self._say("baseline", f"baseline: still waiting for clean traffic ({why})")
                next_report += REPORT_EVERY_S

    def _watch(self, probes: ProbeSession, what: str, seconds: float, abort: bool) -> None:
        """Wait `seconds`, ticking the observer; with `abort`, stop early past a hard limit."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(max(0.0, min(TICK_S, end - time.monotonic())))
            now = time.time_ns()
            seen = probes.poll()
            overdue = {label: _overdue_ms(live, now, self.periods_ms[label])
                       for label, live in seen.items()}
            losing = {label: ms for label, ms in overdue.items() if ms > LOSING_MS}
            self.observer.tick(what, end - time.monotonic(),
                               {k: FlowNow(v.received, losing.get(k, 0.0))
                                for k, v in seen.items()})
            over = [f"{label} ({ms:.0f} ms > hard limit {self.limits[label]:.0f} ms)"
                    for label, ms in losing.items() if label in self.limits
                    and ms > self.limits[label]]
            if abort and over:
                self.result.aborted = "hard limit passed: " + ", ".join(over)
                self._say(what, f"ABORT: {self.result.aborted}; restoring now")
                return

    def _verdict(self, cf: CriticalFlow, label: str, run: ProbeRun) -> FlowVerdict:
        r = run.result(label)
        # from the start of the clean baseline window the fault waited for: a loss before it
        # (probes starting up) is in the results and the timeline, not in the verdict
        clean_from = self.result.fault_ns - int(self.scenario.spec.timings.baseline_s * 1e9)
        failover = phase(r, clean_from, self.result.restore_ns, self.result.fault_ns)
        failback = phase(r, self.result.restore_ns, None, self.result.restore_ns)
        return FlowVerdict(direction=label, flow=cf.flow.name, critical=cf.critical,
                           sla_ms=cf.sla.max_outage_ms,
                           failback_sla_ms=cf.failback_sla.max_outage_ms,
                           failover=failover, failback=failback,
                           failover_verdict=check(failover, cf.sla, r.sent),
                           failback_verdict=check(failback, cf.failback_sla, r.sent),
                           result=r)


def _overdue_ms(live: Live, now_ns: int, period_ms: float) -> float:
    """How long past its due time (one probe period and the receiver's lag) the direction's
    next probe is."""
    return (now_ns - live.last_recv_ns) / 1e6 - LIVE_LAG_MS - period_ms


def _dirty(live: Live, now_ns: int, seconds: float, period_ms: float) -> str:
    """Why a direction's baseline is not clean yet ('' when it is)."""
    if not live.received:
        return "no probe received"
    if _overdue_ms(live, now_ns, period_ms) > 100:
        return f"nothing received for {(now_ns - live.last_recv_ns) / 1e6:.0f} ms"
    clean_s = (now_ns - live.clean_since_ns) / 1e9
    if clean_s < seconds:
        return (f"clean for {clean_s:.1f} s only ({live.lost} probes lost so far)"
                if live.lost else f"receiving for {clean_s:.1f} s only")
    return ""


def _first(stamps: list[Stamp], default: int) -> int:
    return stamps[0].wall_start_ns if stamps else default
