"""What every run does with its probes and faults, whatever shape the run has (one scenario,
an N-1 sweep's failures one after another): wait for clean traffic; inject, hold while
watching every flow (restoring at once past a critical flow's hard limit), restore, watch the
failback until the network has reconverged and every flow delivers cleanly again; and judge
a flow direction's loss in a window against its SLA."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

from harness.engine.observer import FlowNow, RunObserver
from harness.engine.signals import signals_deferred
from harness.errors import HarnessError, NetworkError
from harness.faults import Fault, Guard, Stamp
from harness.network import Network
from harness.probes.analysis import FlowResult, check, phase
from harness.probes.session import Live, ProbeSession
from harness.scenario.load import FlowUnderTest
from harness.scenario.model import Timings
from harness.scenario.results import DirectionVerdict, FaultWindow

TICK_S = 0.1  # observers' ticks, whenever the probes run
WAIT_TICK_S = 0.02  # a wait for clean traffic looks this often: it ends no later than that
LIVE_LAG_MS = 60  # a receiver hands a probe on within two ring block timeouts (40 ms)
LOSING_MS = 50  # overdue by more than this: shown as losing
FAILBACK_TAIL_S = 1.0  # after reconvergence, watch this long at most...
TAIL_CLEAN_S = 0.3  # ...or until every direction has delivered this long cleanly after it
BASELINE_GRACE_S = 10.0  # startup transients (first ARP, agents settling) may use this much
REPORT_EVERY_S = 1.0  # a wait still going says so this often


class BaselineNotClean(HarnessError):
    """Traffic was already failing before the fault: nothing was injected."""


class Cycler:
    """Fault cycles on one network with one probe session, told to an observer."""

    def __init__(self, flows: Sequence[FlowUnderTest], network: Network, timings: Timings,
                 observer: RunObserver) -> None:
        self.network = network
        self.timings = timings
        self.observer = observer
        self.limits = {label: cf.hard_limit_ms for cf in flows if cf.critical
                       for label, _, _ in cf.flow.directions()}
        self.periods_ms = {label: 1e3 / cf.flow.rate for cf in flows
                           for label, _, _ in cf.flow.directions()}

    def say(self, phase_name: str, detail: str) -> None:
        self.observer.phase(phase_name, detail)

    def cycle(self, guard: Guard, probes: ProbeSession, faults: Sequence[Fault],
              window: FaultWindow, converged: Callable[[], object] | None = None) -> None:
        """Inject, hold, restore, failback, reconverge, tail (faults journaled by `guard`);
        once reconverged, `converged` (a look at the network that waits for nothing the tail
        needs) runs beside the tail's watch."""
        for fault in faults:
            self.say("inject", f"injecting: {fault.describe()}")
            with self.ticking(probes, "inject"):
                stamps = guard.inject(fault)
            window.inject_stamps += stamps
            window.fault_ns = window.fault_ns or first_ns(stamps, time.time_ns())
            self.observer.fault_injected(fault, stamps)
        self.watch(probes, "hold", self.timings.hold_s, window)
        self.say("restore", "restoring")
        with self.ticking(probes, "restore"):
            self.restore(guard, window)
        if window.not_restored:
            return  # the network is left changed: no failback to watch
        self.failback(probes, window)
        if converged is None or not window.converged_ns:
            self.tail(probes, window.converged_ns or time.time_ns())
            return
        with ThreadPoolExecutor(max_workers=1) as beside:
            looked = beside.submit(converged)
            self.tail(probes, window.converged_ns)
        looked.result()

    def failback(self, probes: ProbeSession, window: FaultWindow) -> None:
        """Watch the failback for `failback_s`, the convergence check running beside the
        watch from the restore on (the network's time, not added to the run's) and through
        its end (a change before then, and the check goes on), then wait for the check if it
        still runs; a network that does not reconverge within `converge_timeout_s` after the
        watch is reported with the results, never hidden. An interrupted watch stops the
        check (what it found before is kept)."""
        self.say("failback", f"watching the failback for {self.timings.failback_s:g} s, "
                             "checking beside it that the network reconverges")
        stop = threading.Event()
        beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconverge")
        check = beside.submit(self.network.wait_converged,
                              timeout=self.timings.failback_s + self.timings.converge_timeout_s,
                              stop=stop, through=time.monotonic() + self.timings.failback_s)
        try:
            self.watch(probes, "failback", self.timings.failback_s, None)
            if wait([check], timeout=WAIT_TICK_S).not_done:  # held to the watch's end
                self.say("failback", "waiting for the network to reconverge (probes running)")
            with self.ticking(probes, "failback", self.timings.converge_timeout_s):
                wait([check])
        finally:
            found = check.done()
            stop.set()
            with signals_deferred():  # the check ends within ~0.1 s or its reading under way
                beside.shutdown()
            if found:
                _record(check, window)
        failed = check.exception()
        if failed is not None and not isinstance(failed, NetworkError):
            raise failed

    def restore(self, guard: Guard, window: FaultWindow) -> None:
        """Restore what is still in place (a second call finds nothing to do)."""
        done = guard.restore_remaining()
        if not done.restored and not done.failed:
            return
        window.restore_stamps += done.stamps
        window.restore_ns = window.restore_ns or first_ns(done.stamps, time.time_ns())
        window.restored += done.restored
        window.not_restored += done.failed
        self.observer.faults_restored(done)

    def baseline(self, probes: ProbeSession, seconds: float,
                 also: Callable[[], bool] = lambda: True,
                 grace_s: float = BASELINE_GRACE_S) -> None:
        """Wait until every direction has been clean (no probe missing, none overdue) for
        `seconds`, and `also` holds (the fault follows at once, so the clean window ends at
        the fault); refuse when the traffic is not clean within `grace_s` more. While `also`
        does not hold (the devices' facts still being read, each read bounded by its own
        timeout) the deadline moves on: slow devices are not the traffic's fault."""
        self.say("baseline", f"baseline: {len(probes.directions)} flow directions, "
                             f"{seconds:g} s of clean traffic needed")
        deadline = time.monotonic() + seconds + grace_s
        next_report = time.monotonic() + seconds + REPORT_EVERY_S
        next_tick = 0.0
        while True:
            time.sleep(WAIT_TICK_S)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_S
                self.tick(probes, "baseline", deadline - grace_s - time.monotonic())
            now = time.time_ns()
            seen = probes.poll()
            problems = {label: _dirty(live, now, seconds, self.periods_ms[label])
                        for label, live in seen.items()}
            problems = {label: why for label, why in problems.items() if why}
            ready = also()
            if not problems and ready:
                return
            if not ready:
                deadline = max(deadline, time.monotonic() + grace_s)
            why = "; ".join(f"{k}: {v}" for k, v in problems.items()) or \
                "the devices' facts still being read"
            if time.monotonic() > deadline:
                raise BaselineNotClean(f"traffic is not clean before the fault, nothing "
                                       f"injected: {why}")
            if time.monotonic() >= next_report:
                self.say("baseline", f"baseline: still waiting ({why})")
                next_report += REPORT_EVERY_S

    def watch(self, probes: ProbeSession, what: str, seconds: float,
              abort_into: FaultWindow | None) -> None:
        """Wait `seconds`, ticking the observer; with `abort_into`, stop early past a hard
        limit and say so there."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(max(0.0, min(TICK_S, end - time.monotonic())))
            losing = self.tick(probes, what, end - time.monotonic())
            over = [f"{label} ({ms:.0f} ms > hard limit {self.limits[label]:.0f} ms)"
                    for label, ms in losing.items() if label in self.limits
                    and ms > self.limits[label]]
            if abort_into is not None and over:
                abort_into.aborted = "hard limit passed: " + ", ".join(over)
                self.say(what, f"ABORT: {abort_into.aborted}; restoring now")
                return

    def tick(self, probes: ProbeSession, what: str, seconds_left: float) -> dict[str, float]:
        """Read the probes and tick the observer: the directions losing now, and how long
        past due their next probe is (ms)."""
        now = time.time_ns()
        seen = probes.poll()
        overdue = {label: _overdue_ms(live, now, self.periods_ms[label])
                   for label, live in seen.items()}
        losing = {label: ms for label, ms in overdue.items() if ms > LOSING_MS}
        self.observer.tick(what, seconds_left, {k: FlowNow(v.received, losing.get(k, 0.0))
                                                for k, v in seen.items()})
        return losing

    def tail(self, probes: ProbeSession, converged_ns: int) -> None:
        """After reconvergence, watch until every direction has delivered cleanly for
        TAIL_CLEAN_S of probes received after it (a failback outage right at convergence is
        still seen to end); FAILBACK_TAIL_S at most."""
        end = time.monotonic() + FAILBACK_TAIL_S
        clean_ns = int(TAIL_CLEAN_S * 1e9)
        next_tick = 0.0
        while time.monotonic() < end:
            time.sleep(WAIT_TICK_S)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_S
                self.tick(probes, "failback", end - time.monotonic())
            seen = probes.poll()
            if all(live.last_recv_ns >= converged_ns + clean_ns
                   and live.last_recv_ns - live.clean_since_ns >= clean_ns
                   for live in seen.values()):
                return

    @contextmanager
    def ticking(self, probes: ProbeSession, what: str, up_to_s: float = 0.0) -> Iterator[None]:
        """Keep ticking the observer (from a thread, every TICK_S) while the caller blocks on
        something else than the probes: an inject, a restore, a convergence wait. The caller
        must not poll the probes meanwhile. A poll that fails is raised here afterwards."""
        stop = threading.Event()
        failed: list[Exception] = []
        end = time.monotonic() + up_to_s

        def ticks() -> None:
            try:
                while not stop.wait(TICK_S):
                    self.tick(probes, what, end - time.monotonic())
            except Exception as exc:  # noqa: BLE001 - raised in the caller's thread below
                failed.append(exc)

        thread = threading.Thread(target=ticks, name=f"ticks-{what}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
        if failed:
            raise failed[0]


def judge(cf: FlowUnderTest, label: str, result: FlowResult, window: FaultWindow,
          clean_from_ns: int, until_ns: int | None = None) -> DirectionVerdict:
    """A direction's loss in a fault window against its SLA: failover (from `clean_from_ns`,
    the start of the clean traffic the fault waited for, to the restore) and failback (from
    the restore to `until_ns`, or the end of the run). A loss before the clean window (probes
    starting up) is in the results and the timeline, not in the verdict."""
    failover = phase(result, clean_from_ns, window.restore_ns, window.fault_ns)
    failback = phase(result, window.restore_ns, until_ns, window.restore_ns)
    return DirectionVerdict(direction=label, flow=cf.flow.name, critical=cf.critical,
                            sla_ms=cf.sla.max_outage_ms,
                            failback_sla_ms=cf.failback_sla.max_outage_ms,
                            failover=failover, failback=failback,
                            failover_verdict=check(failover, cf.sla, result.sent),
                            failback_verdict=check(failback, cf.failback_sla, result.sent))


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


def first_ns(stamps: list[Stamp], default: int) -> int:
    """When the first change of `stamps` began (wall clock), or `default` without any."""
    return stamps[0].wall_start_ns if stamps else default


def _record(check: Future[int], window: FaultWindow) -> None:
    """What a convergence check that ended found: when the network was seen converged, or
    that it was not (another exception is left to the caller)."""
    failed = check.exception()
    if failed is None:
        window.converged_ns = check.result()
    elif isinstance(failed, NetworkError):
        window.state_diff.append(f"not restored: {failed}")
