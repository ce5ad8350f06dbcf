"""A runbook on one network: preflight once, the probes running across every step, the steps
in order, each its own window (injects journaled and held through `Guard`, restores, waits,
operator prompts, marks, checks). Interrupted, failed or stopped by a check, it restores every
inject still open and keeps what was measured; afterwards each step is judged on its own
window."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.engine.cycle import TAIL_CLEAN_S, TICK_S, BaselineNotClean, Cycler, first_ns
from harness.engine.ending import Ending
from harness.engine.observer import RunObserver
from harness.engine.operator import Answer, Operator
from harness.engine.runner import recover_earlier
from harness.errors import HarnessError, NetworkError
from harness.faults import Fault, Guard
from harness.faults.guard import Restoration
from harness.network import Network, Snapshot
from harness.probes.analysis import SLA, check, phase
from harness.probes.session import ProbeRun, ProbeSession
from harness.runbook.model import Step
from harness.runbook.results import RunbookResult, StepResult, StepVerdict
from harness.scenario import snapshot
from harness.scenario.load import LoadedScenario


class StepStopped(HarnessError):
    """A step failed (a check, an operator who did not confirm, a hard limit): the runbook
    stops there and restores what is open."""


class RunbookRunner(Ending):
    def __init__(self, loaded: LoadedScenario, network: Network, workdir: Path,
                 observer: RunObserver | None = None, operator: Operator | None = None) -> None:
        self.scenario = loaded
        self.steps = loaded.spec.steps
        self.network = network
        self.workdir = workdir
        self.observer = observer or RunObserver()
        self.operator = operator
        self.timings = loaded.spec.timings
        self.cycler = Cycler(loaded.flows, network, self.timings, self.observer)
        self.open: dict[str, Fault] = {}
        self.result = RunbookResult(scenario=loaded.spec.name, topology=loaded.topology.name,
                                    network=network.kind)

    @property
    def record(self) -> RunbookResult:
        return self.result

    def preflight(self) -> None:
        """Undo what a crashed run left, wait for convergence (no redundancy gate: a runbook
        plans its own order, and its steps' SLAs judge it)."""
        recover_earlier(self.observer)
        self.cycler.say("preflight", "waiting for routing to converge")
        self.network.wait_converged(timeout=self.timings.converge_timeout_s)

    def run(self) -> RunbookResult:
        """The runbook; raises only when refused before its first step."""
        if self.operator is None and any(s.operator is not None for s in self.steps):
            raise HarnessError(f"{self.scenario.path}: operator steps need an operator (a "
                               "terminal): nothing done")
        flows = [cf.flow for cf in self.scenario.flows]
        with ProbeSession(flows, self.network.endpoint, self.workdir / "probes",
                          max_seconds=24 * 3600) as probes, \
                ThreadPoolExecutor(max_workers=2) as pool:
            _, before, facts = self.prepare(probes, pool, self.preflight)
            with Guard(self.network.target()) as guard:
                try:
                    self.start(probes, facts, self.timings.baseline_s)
                    self.observer.steps_planned(
                        [f"{s.name}: {describe_step(s, self.scenario.step_faults)}"
                         for s in self.steps])
                    for n, step in enumerate(self.steps, start=1):
                        self._step(guard, probes, step, before, f"{n}/{len(self.steps)}")
                except BaseException as exc:
                    if not self.result.steps:
                        raise
                    self.stopped_early(exc)
                    self.cycler.say("restore", f"runbook stopped early: "
                                               f"{self.result.incomplete}; restoring")
                if self.result.steps:
                    self._end(guard, probes, self.result.steps[-1])
            run = self.finish(probes, pool, before)
        if run is not None:
            self._judge(run)
        return self.result

    def _end(self, guard: Guard, probes: ProbeSession, last: StepResult) -> None:
        """Restore every inject still open (in the last step's window), and let the network
        reconverge before the state after is read."""
        left = len(last.restored)
        self.cycler.restore(guard, last)
        try:
            if len(last.restored) > left:
                self.cycler.say("failback", "waiting for the network to reconverge")
                with self.cycler.ticking(probes, "failback", self.timings.converge_timeout_s):
                    self.network.wait_converged(timeout=self.timings.converge_timeout_s)
        except NetworkError as exc:
            last.state_diff.append(f"not reconverged: {exc}")
        except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C must not lose the pack
            self.stopped_early(exc, "reconverging")
        last.ended_ns = time.time_ns()

    def _step(self, guard: Guard, probes: ProbeSession, step: Step, before: Snapshot,
              count: str) -> None:
        now = time.time_ns()
        if self.result.steps:
            self.result.steps[-1].ended_ns = now
        window = StepResult(name=step.name, kind=step.kind, started_ns=now,
                            what=describe_step(step, self.scenario.step_faults))
        self.result.steps.append(window)
        self.cycler.say("step", f"step {count} {step.name}: {window.what}")
        self.observer.step_started(len(self.result.steps) - 1)
        if step.mark is not None:
            self.observer.mark(step.mark, now)
        if step.inject is not None:
            fault = self.scenario.step_faults[step.name]
            self.open[step.name] = fault
            with self.cycler.ticking(probes, "inject"):
                window.inject_stamps = guard.inject(fault)
            window.fault_ns = first_ns(window.inject_stamps, time.time_ns())
            self.observer.fault_injected(fault, window.inject_stamps)
        elif step.restore is not None:
            with self.cycler.ticking(probes, "restore"):
                self._restore(guard, self.open.pop(step.restore), window)
        elif step.operator is not None:
            self._operator(probes, step, window)
        elif step.wait is not None:
            window.failed = self._wait(probes, step, before, window)
        elif step.check is not None:
            window.failed = "; ".join(why for what in step.check
                                      if (why := self._until(probes, what, step, before)))
        if not window.failed and not window.aborted:
            self.cycler.watch(probes, step.name, step.hold_s, window)
        if window.failed or window.aborted:
            raise StepStopped(f"step {step.name}: {window.failed or window.aborted}")

    def _restore(self, guard: Guard, fault: Fault, window: StepResult) -> None:
        try:
            window.restore_stamps = guard.restore(fault)
        except Exception as exc:  # noqa: BLE001 - left in place: said in the result
            window.not_restored.append(f"{fault.describe()}: {exc}")
            raise StepStopped(f"step {window.name}: not restored: {exc}") from exc
        window.restore_ns = first_ns(window.restore_stamps, time.time_ns())
        window.restored.append(fault.describe())
        self.observer.faults_restored(Restoration(window.restore_stamps, [fault.describe()]))

    def _operator(self, probes: ProbeSession, step: Step, window: StepResult) -> None:
        """Prompt, and watch the flows until the operator confirms or the timeout."""
        assert self.operator is not None and step.operator is not None
        self.cycler.say("operator", f"OPERATOR: {step.operator}")
        answer = Answer(self.operator, step.name, step.operator, step.timeout_s)
        deadline = time.monotonic() + step.timeout_s
        while not answer.done.is_set() and time.monotonic() < deadline and not window.aborted:
            self.cycler.watch(probes, step.name, TICK_S, window)
        window.confirmed_ns = answer.confirmed_ns
        if not window.confirmed_ns and not window.aborted:
            window.failed = f"the operator did not confirm within {step.timeout_s:g} s"

    def _wait(self, probes: ProbeSession, step: Step, before: Snapshot,
              window: StepResult) -> str:
        if isinstance(step.wait, float | int):
            self.cycler.watch(probes, step.name, float(step.wait), window)
            return ""
        return self._until(probes, str(step.wait), step, before)

    def _until(self, probes: ProbeSession, what: str, step: Step, before: Snapshot) -> str:
        """Wait (within the step's timeout) until `what` holds: converged, clean or state as
        before; '' when it does, else why not."""
        try:
            if what == "clean":
                self.cycler.baseline(probes, TAIL_CLEAN_S, grace_s=step.timeout_s)
                return ""
            with self.cycler.ticking(probes, step.name, step.timeout_s):
                if what == "converged":
                    self.network.wait_converged(timeout=step.timeout_s)
                    return ""
                differs = snapshot.diff(before, self.network.snapshot())
        except (NetworkError, BaselineNotClean) as exc:
            return f"{what}: {exc}"
        return "state not as before: " + "; ".join(differs[:5]) if differs else ""

    def _judge(self, run: ProbeRun) -> None:
        try:
            self.result.directions = list(run.results)
            for window, step in zip(self.result.steps, self.steps, strict=False):
                window.verdicts = self._verdicts(window, step, run)
                losses = [v.stats.first_loss_ms for v in window.verdicts
                          if v.stats.first_loss_ms is not None]
                window.traffic_failed_ns = window.started_ns + round(min(losses) * 1e6) \
                    if losses else 0
        except BaseException as exc:  # noqa: BLE001 - the pack keeps the raw probes
            self.stopped_early(exc, "analysing the probes")

    def _verdicts(self, window: StepResult, step: Step, run: ProbeRun) -> list[StepVerdict]:
        out = []
        for cf in self.scenario.flows:
            sla = SLA(step.sla.max_outage_ms) if step.sla else cf.sla
            for label, _, _ in cf.flow.directions():
                result = run.result(label)
                stats = phase(result, window.started_ns, window.ended_ns or None,
                              window.started_ns)
                out.append(StepVerdict(direction=label, flow=cf.flow.name,
                                       critical=cf.critical, sla_ms=sla.max_outage_ms,
                                       stats=stats, verdict=check(stats, sla, result.sent)))
        return out


def describe_step(step: Step, faults: dict[str, Fault]) -> str:
    """One line for a person: what the step does."""
    if step.restore is not None:
        return f"restore {faults[step.restore].describe()} (step {step.restore})"
    if step.wait is not None:
        return f"wait {step.wait:g} s" if isinstance(step.wait, float | int) \
            else f"wait until {step.wait}"
    if step.check is not None:
        return "check " + ", ".join(step.check)
    if step.inject is not None:
        return f"inject {faults[step.name].describe()}"
    return f"operator: {step.operator}" if step.operator is not None else f"mark: {step.mark}"
