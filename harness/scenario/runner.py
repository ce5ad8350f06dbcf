"""Run a scenario on a network (the built-in lab or real devices): preflight, snapshot,
probes, fault, hold, restore, failback, postflight, verdicts. Every fault is journaled
before it is injected and restored on every way out (Guard); a critical flow past its hard
limit restores at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from harness.errors import HarnessError, LabError
from harness.faults import Guard, Stamp, Target, recover
from harness.network import Network, Snapshot
from harness.probes.analysis import check, phase
from harness.probes.session import Live, ProbeRun, ProbeSession
from harness.scenario import snapshot
from harness.scenario.context import run_context
from harness.scenario.gate import GateRefused, check_gate
from harness.scenario.load import CriticalFlow, LoadedScenario
from harness.scenario.results import FlowVerdict, RunResult

Progress = Callable[[str], None]
# (phase, seconds left, per direction: probes received so far and current outage in ms)
Tick = Callable[[str, float, dict[str, tuple[int, float]]], None]
TICK_S = 0.1  # the live view's refresh
WAIT_TICK_S = 0.02  # a wait for clean traffic looks this often: it ends no later than that
LIVE_LAG_MS = 60  # a receiver hands a probe on within two ring block timeouts (40 ms)
FAILBACK_TAIL_S = 1.0  # after reconvergence, watch this long at most...
TAIL_CLEAN_S = 0.3  # ...or until every direction has delivered this long cleanly after it
BASELINE_GRACE_S = 10.0  # startup transients (first ARP, agents settling) may use this much


class BaselineNotClean(HarnessError):
    """Traffic was already failing before the fault: nothing was injected."""


class ScenarioRunner:
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 progress: Progress = print, tick: Tick | None = None) -> None:
        self.s = loaded
        self.tick = tick
        self.network = network
        self.workdir = workdir
        self.progress = progress
        self.result = RunResult(scenario=loaded.spec.name, topology=loaded.topology.name,
                                network=network.kind, expect=loaded.spec.expect)
        self.limits = {label: cf.hard_limit_ms for cf in loaded.flows if cf.critical
                       for label, _, _ in cf.flow.directions()}
        self.periods_ms = {label: 1e3 / cf.flow.rate for cf in loaded.flows
                           for label, _, _ in cf.flow.directions()}
        self.before: Snapshot = {}
        self.after: Snapshot = {}

    def preflight(self) -> None:
        """Undo what a crashed run left, wait for convergence, apply the redundancy gate."""
        failed = []
        for rec in recover():
            self.progress(f"recovered from an earlier run: {rec.entry.kind} ({rec.outcome})")
            if not rec.ok:
                failed.append(f"{rec.entry.description}: {rec.outcome}")
        if failed:  # what still stands could be the redundancy the fault relies on
            raise GateRefused("an earlier run's fault is still in place, nothing injected: "
                              f"{'; '.join(failed)} (see `failover recover`)")
        self.network.wait_converged(timeout=self.s.spec.timings.converge_timeout_s)
        check_gate(self.network, self.s.flows, self.s.faults,
                   self.s.spec.safety.allow_last_path_cut)

    def run(self) -> RunResult:
        t = self.result.timings_s
        start = time.monotonic()
        timings = self.s.spec.timings
        flows = [cf.flow for cf in self.s.flows]
        with ProbeSession(flows, self.network.endpoint, self.workdir / "probes",
                          max_seconds=timings.baseline_s + timings.hold_s + timings.failback_s
                          + timings.converge_timeout_s + 600) as probes, \
                ThreadPoolExecutor(max_workers=2) as pool:
            agents = pool.submit(probes.prepare)  # beside the preflight: nothing is sent yet
            try:
                self.preflight()
                self.before = self.network.snapshot()
            finally:
                wait([agents])
            agents.result()
            facts = pool.submit(self.network.facts)  # read-only
            self.result.context = run_context()
            t["preflight"] = time.monotonic() - start
            with Guard(Target(self.network.lab, self.network.name)) as guard:
                probes.start()
                self.result.started_ns = time.time_ns()
                self._baseline(probes, timings.baseline_s, also=facts.done)
                t["baseline"] = (time.time_ns() - self.result.started_ns) / 1e9
                self.result.devices = facts.result()
                self.progress(f"injecting: {'; '.join(f.describe() for f in self.s.faults)}")
                for fault in self.s.faults:
                    self.result.inject_stamps += guard.inject(fault)
                self.result.fault_ns = self.result.inject_stamps[0].wall_start_ns
                self._watch(probes, "hold", timings.hold_s, abort=True)
                self.progress("restoring")
                self.result.restore_stamps = guard.restore_all()
                self.result.restore_ns = _first(self.result.restore_stamps, time.time_ns())
                self._watch(probes, "failback", timings.failback_s, abort=False)
                self.progress("failback: waiting for the network to reconverge (probes running)")
                try:
                    self.network.wait_converged(timeout=timings.converge_timeout_s)
                except LabError as exc:  # reported with the results, never hidden
                    self.result.state_diff.append(f"not restored: {exc}")
                tail = time.monotonic()
                self._tail(probes, time.time_ns())
                t["failback_tail"] = time.monotonic() - tail
                start = time.monotonic()
                after = pool.submit(self.network.snapshot)  # reconverged: beside the stop
                run = probes.stop()
                self.after = after.result()
        self.result.probe_problems = run.problems
        self.result.ended_ns = run.stopped_ns
        self.result.state_diff += snapshot.diff(self.before, self.after)
        t["postflight"] = time.monotonic() - start
        self.result.flows = [self._verdict(cf, label, run) for cf in self.s.flows
                             for label, _, _ in cf.flow.directions()]
        return self.result

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
        self.progress(f"baseline: {len(probes.directions)} flow directions, "
                      f"{seconds:.0f} s of clean traffic needed")
        deadline = time.monotonic() + seconds + BASELINE_GRACE_S
        next_report = time.monotonic() + seconds + 1.0
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
                self.progress(f"baseline: still waiting for clean traffic ({why})")
                next_report += 1.0

    def _watch(self, probes: ProbeSession, what: str, seconds: float, abort: bool) -> None:
        """Wait `seconds`, showing who is losing; with `abort`, stop early past a hard limit."""
        end = time.monotonic() + seconds
        next_report = time.monotonic() + 1.0
        while time.monotonic() < end:
            time.sleep(max(0.0, min(TICK_S, end - time.monotonic())))
            now = time.time_ns()
            seen = probes.poll()
            overdue = {label: _overdue_ms(live, now, self.periods_ms[label])
                       for label, live in seen.items()}
            losing = {label: ms for label, ms in overdue.items() if ms > 50}
            if self.tick:
                self.tick(what, end - time.monotonic(),
                          {k: (v.received, losing.get(k, 0.0)) for k, v in seen.items()})
            over = [f"{label} ({ms:.0f} ms > hard limit {self.limits[label]:.0f} ms)"
                    for label, ms in losing.items() if label in self.limits
                    and ms > self.limits[label]]
            if abort and over:
                self.result.aborted = "hard limit passed: " + ", ".join(over)
                self.progress(f"ABORT: {self.result.aborted}; restoring now")
                return
            if not self.tick and time.monotonic() >= next_report:
                left = end - time.monotonic()
                who = ", ".join(f"{k} {v / 1e3:.1f} s" for k, v in sorted(losing.items())[:4])
                self.progress(f"{what}: {max(0.0, left):.0f} s left; "
                              + (f"losing: {who}" if losing else "all flows delivering"))
                next_report += 1.0

    def _verdict(self, cf: CriticalFlow, label: str, run: ProbeRun) -> FlowVerdict:
        r = run.result(label)
        # from the start of the clean baseline window the fault waited for: a loss before it
        # (probes starting up) is in the results and the timeline, not in the verdict
        clean_from = self.result.fault_ns - int(self.s.spec.timings.baseline_s * 1e9)
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
