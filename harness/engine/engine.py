"""The one way a scenario runs, whatever the front end (CLI, pytest plugin; a scenario's
faults, a sweep, a runbook, a watch): commit check, signing key, lab, network, run, evidence
pack, report, manifest.

A run refused before it injected anything raises (HarnessError: one line, nothing changed, no
pack). Once anything was injected, the pack is written and sealed whatever happens next, and
the outcome's exit code says how the run ended (`harness.engine.exits`)."""

from __future__ import annotations

import queue
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.engine.exits import ExitCode, exit_code
from harness.engine.labs import LabPool
from harness.engine.observer import RunObserver
from harness.engine.operator import Operator
from harness.engine.runbook import RunbookRunner
from harness.engine.runner import ScenarioRunner
from harness.engine.signals import as_exception, signals_deferred, signals_unwind
from harness.engine.sweep import SweepRunner
from harness.engine.watch import CHECKPOINT_S, WatchRunner
from harness.errors import HarnessError
from harness.network import Network
from harness.network.base import WORKERS
from harness.report.manifest import ManifestInfo, load_signing_key, write_manifest
from harness.report.pack import new_pack, render_report, write_pack
from harness.report.runbook_pack import write_runbook_pack
from harness.report.sweep_pack import write_sweep_pack
from harness.report.watch_pack import write_watch_pack
from harness.runbook.results import RunbookResult
from harness.scenario.load import LoadedScenario, require_commit
from harness.scenario.network import network_for
from harness.scenario.results import RunResult
from harness.sweep.results import SweepResult
from harness.watch.marks import Mark
from harness.watch.results import WatchResult

AnyResult = RunResult | SweepResult | RunbookResult | WatchResult


@dataclass(frozen=True)
class RunOptions:
    reports: Path = Path("reports")  # where the evidence pack is written
    signing_key: Path | None = None  # None: $FAILOVER_SIGNING_KEY, or the pack is unsigned
    commit: bool = False  # the explicit go to change real devices
    commit_flag: str = "--commit"  # how the front end spells that go, for its refusal
    operator: Operator | None = None  # who answers a runbook's operator steps
    workers: int = WORKERS  # devices read at once (state, snapshots, facts)


@dataclass(frozen=True)
class RunOutcome:
    result: AnyResult
    pack: Path
    data: dict[str, Any]  # results.json
    sealed: ManifestInfo
    report_error: str | None = None  # the pack is sealed without its report, and says why
    stopped: BaseException | None = None  # what ended the run early (KeyboardInterrupt, ...)

    @property
    def exit_code(self) -> ExitCode:
        r = self.result
        return exit_code(bool(r.not_restored), r.complete and not self.report_error,
                         r.outcome_as_expected)


Runner = ScenarioRunner | SweepRunner | RunbookRunner | WatchRunner
Written = tuple[dict[str, Any], str | None]  # results.json's data, why the report is missing


def run_scenario(loaded: LoadedScenario, options: RunOptions, observer: RunObserver,
                 labs: LabPool) -> RunOutcome:
    """Run a loaded scenario (its faults, its N-1 sweep or its runbook) and write its evidence
    pack."""
    require_commit(loaded, options.commit, options.commit_flag)

    def runner(network: Network, pack: Path) -> Runner:
        return SweepRunner(loaded, network, pack, observer) if loaded.spec.sweep else \
            RunbookRunner(loaded, network, pack, observer, options.operator) \
            if loaded.spec.steps else ScenarioRunner(loaded, network, pack, observer)

    return run_on_network(loaded, options, observer, labs, runner)


def watch(loaded: LoadedScenario, options: RunOptions, observer: RunObserver, labs: LabPool,
          duration_s: float, inbox: queue.Queue[Mark] | None = None,
          checkpoint_s: float = CHECKPOINT_S) -> RunOutcome:
    """Watch a scenario's flows for `duration_s` (or until Ctrl-C), injecting nothing, with
    the marks people add (`inbox`: the keyboard's), a checkpoint every `checkpoint_s`, and
    write its evidence pack."""
    return run_on_network(loaded, options, observer, labs, lambda network, pack: WatchRunner(
        loaded, network, pack, observer, duration_s, inbox, checkpoint_s))


def run_on_network(loaded: LoadedScenario, options: RunOptions, observer: RunObserver,
                   labs: LabPool, runner_for: Callable[[Network, Path], Runner]) -> RunOutcome:
    """The lab (or the devices), a fresh pack, the runner's run, its pack written and sealed
    whatever happened once it measured (nothing written when it refused)."""
    key = load_signing_key(options.signing_key)  # a bad key: refused before the network
    with signals_unwind():
        lab = None if loaded.on_devices else labs.lab_for(loaded.topology, observer)
        pack = new_pack(options.reports, loaded.spec.name)
        network = network_for(loaded, lab, options.workers)
        runner = runner_for(network, pack)
        try:
            result = runner.run()
        except BaseException:
            shutil.rmtree(pack, ignore_errors=True)  # refused: nothing changed, no pack
            raise
        finally:
            network.close()
        observer.phase("report", f"writing the evidence pack {pack}")
        with signals_deferred() as arrived:
            data, report_error = _write(pack, loaded, result)
            sealed = write_manifest(pack, key)
    observer.run_finished(result, pack)
    return RunOutcome(result, pack, data, sealed, report_error,
                      runner.stopped or (as_exception(arrived[0]) if arrived else None))


def _write(pack: Path, loaded: LoadedScenario, result: AnyResult) -> Written:
    """Every file of the pack but its manifest."""
    if isinstance(result, SweepResult):
        return write_sweep_pack(pack, loaded, result), None
    if isinstance(result, RunbookResult):
        return write_runbook_pack(pack, loaded, result), None
    if isinstance(result, WatchResult):
        return write_watch_pack(pack, loaded, result), None
    data = write_pack(pack, loaded, result)
    try:
        render_report(pack)
    except HarnessError as exc:  # the pack is sealed anyway: results.json stays
        return data, str(exc)
    return data, None
