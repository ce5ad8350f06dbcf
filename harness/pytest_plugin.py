"""pytest plugin (entry point `pytest11`): scenario files as tests.

`pytest scenarios/` or `pytest --scenario FILE` collects each scenario file as: `preflight`
(the run itself: gate, baseline, fault, restore; fails when the run is refused), one test per
critical flow direction (its SLA, failover and failback), and `restore` (every router back as
it was). A control scenario (`expect: fail`) marks its flows xfail(strict): they must miss.
Each run writes its evidence pack (reports/<UTC>-<scenario>/), whose report.html and
junit.xml the harness writes itself. With pytest-html, the session's report gets each run's
sections (verdict, timeline, flows, changes, state, provenance) above the tests.

An N-1 sweep runs in parts with `--failover-shard K/N` (or $FAILOVER_SHARD: one CI job's
share, its pack a part for `failover merge`), and under pytest-xdist (`-n N`): collected as N
shards (`shard[k/N]`, each sent whole to one worker, which runs it on its own lab named with
its worker id); at the end of the session the controller merges the workers' parts into the
campaign's pack.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_html import extras

from harness.errors import HarnessError
from harness.report import checks
from harness.report.html import changes, outages
from harness.report.page import CSS, body
from harness.report.runbook_html import runbook_body
from harness.report.sweep_html import sweep_body
from harness.sweep.shard import Shard, all_shards, parse_shard


@dataclass(frozen=True)
class Run:
    """A scenario run the session saw: its results, scenario text and evidence pack."""

    results: dict[str, Any]
    text: str
    pack: Path


RUNS = pytest.StashKey[list[Run]]()
LABS = pytest.StashKey[Any]()  # the session's LabPool (the engine loads when a scenario runs)
PARTS = pytest.StashKey[list[str]]()  # xdist controller: the sweep part packs workers wrote
MERGE_ERRORS = pytest.StashKey[list[str]]()
SHARD_ENV = "FAILOVER_SHARD"
MAX_SCENARIO_BYTES = 1 << 20  # a larger YAML file is not a scenario (and not parsed to see)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("failover", "failover scenarios")
    group.addoption("--scenario", action="append", default=[], type=Path,
                    help="run this scenario file as tests (repeatable)")
    group.addoption("--failover-reports", type=Path, default=Path("reports"),
                    help="where evidence packs are written (default: reports/)")
    group.addoption("--signing-key", type=Path, default=None,
                    help="Ed25519 private key (PEM) signing each pack's MANIFEST "
                         "(default: $FAILOVER_SIGNING_KEY; unsigned without either)")
    group.addoption("--failover-commit", action="store_true",
                    help="let scenarios on real devices (with probes: hosts) change them")
    group.addoption("--failover-shard", default=os.environ.get(SHARD_ENV), metavar="K/N",
                    help="run shard K of N of each N-1 sweep's failures (default: "
                         f"${SHARD_ENV}); `failover merge` joins the parts' packs")


def pytest_configure(config: pytest.Config) -> None:
    """Nothing here reads the signing key or the network: a session that collects no scenario
    is not changed by this plugin (the key is read when a scenario is about to run)."""
    config.stash[RUNS] = []
    config.stash[PARTS] = []
    config.stash[MERGE_ERRORS] = []
    about = _names_scenarios(config)
    if about:
        _sweep_shards(config)  # a bad --failover-shard: one line, before anything runs
    if about and getattr(config.option, "dist", "no") == "load" \
            and not hasattr(config, "workerinput"):  # a file's (a shard's) items on one worker
        config.option.dist = "loadscope"
    if about and hasattr(config.hook, "pytest_html_report_title"):
        config.pluginmanager.register(HtmlReport(), "failover-html")  # pytest-html is loaded
    config.addinivalue_line("markers", "failover: a test collected from a scenario file")
    scenarios = [str(p) for p in config.getoption("scenario")]
    if scenarios:  # only these, unless test paths were also named on the command line
        explicit = config.args_source == pytest.Config.ArgsSource.ARGS
        config.args = [*config.args, *scenarios] if explicit else scenarios


def pytest_unconfigure(config: pytest.Config) -> None:
    labs = config.stash.get(LABS, None)
    if labs is not None:  # the labs this session brought up
        labs.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yml", ".yaml") and _is_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _sweep_shards(config: pytest.Config) -> list[Shard]:
    """The shards each sweep is collected as: the one asked for, or one per xdist worker;
    none (the whole campaign, one run)."""
    asked = config.getoption("failover_shard")
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT") if hasattr(config, "workerinput") \
        else None
    if asked and (workers or getattr(config.option, "numprocesses", None)):
        raise pytest.UsageError("--failover-shard/$FAILOVER_SHARD and pytest-xdist's -n: "
                                "give one (xdist splits the sweep between its workers itself)")
    try:
        return [parse_shard(asked)] if asked else all_shards(int(workers)) if workers else []
    except HarnessError as exc:
        raise pytest.UsageError(f"--failover-shard/${SHARD_ENV}: {exc}") from None


def _names_scenarios(config: pytest.Config) -> bool:
    """Whether the session is about scenarios (named, or in the paths given, or one folder
    below them): only then does it get the evidence report's pytest-html hooks, which act
    before collection. Other sessions' reports are left as they are."""
    if config.getoption("scenario"):
        return True
    paths = [Path(arg.split("::")[0]) for arg in config.args]
    return any(_is_scenario(found) for path in paths if path.exists()
               for found in ([path] if path.is_file() else
                             [*path.glob("*.y*ml"), *path.glob("*/*.y*ml")]))


def _is_scenario(path: Path) -> bool:
    """A scenario file names a topology and faults at its top level (flow files, topologies and
    other projects' YAML do not); the copies inside evidence packs (`<pack>/inputs/`) are
    records, not tests."""
    if (path.parent.parent / "MANIFEST").is_file():
        return False
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCENARIO_BYTES:
            return False
        text = path.read_text(errors="replace")
        if not re.search(r"^topology\s*:", text, re.M) or \
                not re.search(r"^(faults|sweep|steps)\s*:", text, re.M):
            return False  # a cheap look before parsing
        doc = yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError, RecursionError):
        return False  # not ours to judge: `failover validate` names the error
    return isinstance(doc, dict) and isinstance(doc.get("topology"), str) \
        and (isinstance(doc.get("faults"), list) or isinstance(doc.get("sweep"), dict)
             or isinstance(doc.get("steps"), list))


class ScenarioRun:
    """A collector whose items check one run (a scenario's, or one shard of a sweep's): the
    run happens once, when its first item asks."""

    path: Path
    config: pytest.Config
    shard: Shard | None = None
    results: dict[str, Any] | None = None
    error: str | None = None

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError):  # a broken scenario: its one line
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))  # type: ignore[misc]

    def run_once(self) -> dict[str, Any]:
        """Run the scenario on its lab (brought up if needed, kept for the session)."""
        if self.results is None and self.error is None:
            try:
                self.results = self._run()
            except HarnessError as exc:
                self.error = str(exc)
            except Exception as exc:  # shown in full once; the other items do not rerun it
                self.error = f"the run failed: {type(exc).__name__}: {exc}"
                raise
        if self.error is not None:
            raise ScenarioNotRun(self.error)
        assert self.results is not None
        return self.results

    def _run(self) -> dict[str, Any]:
        from harness.engine import LabPool, LineProgress, RunOptions, run_scenario
        from harness.scenario.load import load_scenario
        loaded = dataclasses.replace(load_scenario(self.path), shard=self.shard)
        options = RunOptions(reports=self.config.getoption("failover_reports"),
                             signing_key=self.config.getoption("signing_key"),
                             commit=self.config.getoption("failover_commit"),
                             commit_flag="--failover-commit")
        labs = self.config.stash.setdefault(  # an xdist worker's labs: named with its id
            LABS, LabPool(suffix=os.environ.get("PYTEST_XDIST_WORKER")))
        outcome = run_scenario(loaded, options, LineProgress(self._progress), labs)
        self.config.stash[RUNS].append(Run(outcome.data, loaded.path.read_text(), outcome.pack))
        self._progress(f"evidence pack: {outcome.pack}")
        if isinstance(outcome.stopped, KeyboardInterrupt | SystemExit):
            raise outcome.stopped  # the pack is written: now stop as asked
        return outcome.data

    def _progress(self, message: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.config.getoption("verbose") > 0:
            reporter.write_line(f"    {self.path.name}: {message}")


class ScenarioFile(ScenarioRun, pytest.File):
    """One scenario run (or one per shard of a sweep run in parts): the items checking it."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from harness.scenario.load import load_scenario
        loaded = load_scenario(self.path)  # a broken file fails collection, one line
        flows = [(label, cf.critical) for cf in loaded.flows
                 for label, _, _ in cf.flow.directions()]
        expect = loaded.spec.expect
        if loaded.spec.sweep:
            shards = _sweep_shards(self.config)
            total = len(loaded.campaign_failures)
            if len(shards) > 1:  # xdist: no more shards than failures (idle workers stop)
                shards = all_shards(min(len(shards), total))
            for shard in shards:
                shard.check(total)
                yield SweepShard.from_parent(self, name=f"shard[{shard}]", shard=shard)
            if not shards:
                yield from _sweep_items(self, loaded.failures, [f for f, c in flows if c])
            return
        if loaded.spec.steps:
            yield from self._runbook_items([step.name for step in loaded.spec.steps])
            return
        yield Preflight.from_parent(self, name="preflight")
        for label, critical in flows:
            if not critical:
                continue  # information only: shown in the report, not a test
            item = FlowSLA.from_parent(self, name=f"flow[{label}]", direction=label)
            if expect == "fail":  # a miss is expected; `outcome` checks that one happened
                item.add_marker(pytest.mark.xfail(raises=FailoverCheckFailed,
                                                  reason="control scenario: may miss its SLA"))
            yield item
        yield Outcome.from_parent(self, name="outcome")
        yield Restore.from_parent(self, name="restore")

    def _runbook_items(self, steps: list[str]) -> Iterator[pytest.Item]:
        """A runbook: the run, one test per step, the outcome and the restore."""
        yield Preflight.from_parent(self, name="preflight")
        for name in steps:
            yield RunbookStep.from_parent(self, name=f"step[{name}]", step=name)
        yield Outcome.from_parent(self, name="outcome")
        yield Restore.from_parent(self, name="restore")


class SweepShard(ScenarioRun, pytest.Collector):
    """One shard of an N-1 sweep: its run (a part of the campaign) and the items checking it."""

    def __init__(self, *, shard: Shard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard = shard

    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenario.load import load_scenario
        loaded = dataclasses.replace(load_scenario(self.path), shard=self.shard)
        yield from _sweep_items(self, loaded.failures,
                                [label for cf in loaded.flows if cf.critical
                                 for label, _, _ in cf.flow.directions()])


def _sweep_items(parent: ScenarioFile | SweepShard, failures: list[Any],
                 directions: list[str]) -> Iterator[pytest.Item]:
    """An N-1 sweep (or a shard of one): the campaign, one test per failure and critical flow
    direction, the outcome and the restore."""
    yield Preflight.from_parent(parent, name="preflight")
    for failure in failures:
        for direction in directions:
            yield SweepCell.from_parent(parent, name=f"cell[{failure.element} | {direction}]",
                                        element=failure.element, direction=direction)
    yield Outcome.from_parent(parent, name="outcome")
    yield Restore.from_parent(parent, name="restore")


class ScenarioNotRun(Exception):
    """The run was refused or failed before its verdicts (nothing was injected, or it says)."""


class ScenarioItem(pytest.Item):
    parent: ScenarioFile | SweepShard

    def results(self) -> dict[str, Any]:
        return self.parent.run_once()

    def check(self) -> checks.Check:
        raise NotImplementedError

    def runtest(self) -> None:
        found = self.check()
        self.user_properties += found.properties
        if found.skipped is not None:
            pytest.skip(found.skipped)
        if found.failure is not None:
            raise FailoverCheckFailed(found.failure)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioNotRun | FailoverCheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, self.name


class FailoverCheckFailed(AssertionError):
    """A failover check missed, with the reasons a person can read."""


class Preflight(ScenarioItem):
    """The run: gate, clean baseline, fault injected and restored (fails when refused)."""

    def check(self) -> checks.Check:
        return checks.preflight(self.results())


class SweepCell(ScenarioItem):
    """One flow direction through one failure of an N-1 sweep."""

    def __init__(self, *, element: str, direction: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.element, self.direction = element, direction

    def check(self) -> checks.Check:
        return checks.cell(self.results(), self.element, self.direction)


class RunbookStep(ScenarioItem):
    """One step of a runbook: done, and every critical flow within the step's SLA."""

    def __init__(self, *, step: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step

    def check(self) -> checks.Check:
        return checks.step(self.results(), self.step)


class FlowSLA(ScenarioItem):
    """A critical flow direction against its SLA, failover and failback."""

    def __init__(self, *, direction: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.direction = direction

    def check(self) -> checks.Check:
        return checks.flow(self.results(), self.direction)


class Outcome(ScenarioItem):
    """The scenario's verdict as results.json gives it: every critical flow within its SLA,
    or, for a control scenario (`expect: fail`), at least one missed."""

    def check(self) -> checks.Check:
        return checks.outcome(self.results())


class Restore(ScenarioItem):
    """Every fault restored and every router back as before."""

    def check(self) -> checks.Check:
        return checks.restore(self.results())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """pytest-html extras: a flow's outage windows, the changes made on the preflight row."""
    report = yield
    if call.when == "call" and isinstance(item, FlowSLA | Preflight) \
            and item.parent.results is not None:
        r = item.parent.results
        measured = [v for v in r.get("flows", []) if isinstance(item, FlowSLA)
                    and v["direction"] == item.direction]
        fragment = outages(measured[0], r["fault_ns"]) if measured else \
            changes(r) if "inject_stamps" in r else ""
        report.extras = [*getattr(report, "extras", []),  # type: ignore[attr-defined]
                         extras.html(fragment)]
    return report


class HtmlReport:
    """pytest-html hooks for a session that runs scenarios."""

    @staticmethod
    def pytest_html_report_title(report: Any) -> None:
        report.title = "Failover evidence"

    @staticmethod
    def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        runs = session.config.stash.get(RUNS, [])
        prefix.extend([f"<style>{CSS}</style>"] if runs else [])
        for run in runs:
            if "failures" in run.results:  # an N-1 sweep
                prefix.append(sweep_body(run.results))
                continue
            if "steps" in run.results:  # a runbook
                prefix.append(runbook_body(run.results))
                continue
            svg = run.pack / "timeline.svg"
            prefix.append(body(run.results, run.text,
                               svg.read_text() if svg.is_file() else None))

    @staticmethod
    def pytest_html_results_table_header(cells: list[str]) -> None:
        cells.insert(2, "<th>failover / failback outage ms (SLA)</th>")

    @staticmethod
    def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
        props = dict(report.user_properties)
        text = (f"{props['failover_outage_ms']:.1f} / {props['failback_outage_ms']:.1f} "
                f"({props['sla_ms']:.0f})" if "failover_outage_ms" in props else
                f"{props['outage_ms']:.1f} ({props['sla_ms']:.0f})" if "outage_ms" in props
                else f"{props['worst_outage_ms']:.1f}" if "worst_outage_ms" in props else "")
        cells.insert(2, f"<td>{text}</td>")


@pytest.hookimpl(tryfirst=True)  # before pytest-html writes its report
def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker takes its labs down and hands its sweep parts to the controller; the
    controller merges each campaign's parts into its pack (`failover merge`'s code)."""
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput["failover_parts"] = [  # type: ignore[attr-defined]
            str(run.pack) for run in config.stash[RUNS] if run.results.get("shard")]
        labs = config.stash.get(LABS, None)
        if labs is not None:  # now: once the worker says it is done, xdist may kill it
            labs.close()
        return
    campaigns: dict[str, list[Path]] = {}
    for part in config.stash[PARTS]:
        campaigns.setdefault(_campaign_of(Path(part)), []).append(Path(part))
    if campaigns:
        _merge(config, campaigns)
    if config.stash[MERGE_ERRORS]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker is done; keep the sweep parts it wrote."""
    node.config.stash[PARTS] += getattr(node, "workeroutput", {}).get("failover_parts", [])


def _campaign_of(part: Path) -> str:
    """The campaign a part is of (its scenario's name; `merge_packs` checks the rest)."""
    return str(json.loads((part / "results.json").read_text())["scenario"])


def _merge(config: pytest.Config, campaigns: dict[str, list[Path]]) -> None:
    from harness.report.manifest import load_signing_key
    from harness.report.merge_pack import merge_packs
    for name, parts in campaigns.items():
        try:
            pack, data, _ = merge_packs(parts, config.getoption("failover_reports"),
                                        load_signing_key(config.getoption("signing_key")))
        except HarnessError as exc:
            config.stash[MERGE_ERRORS].append(f"{name}: parts not merged: {exc}")
            continue
        scenario = sorted((pack / "inputs").glob("*.y*ml"))
        config.stash[RUNS].append(Run(data, scenario[0].read_text() if scenario else "", pack))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from harness.report.manifest import sealed  # cryptography only for sessions that ran

    packs = [(run.results, run.pack) for run in config.stash.get(RUNS, [])]
    errors = config.stash.get(MERGE_ERRORS, [])
    if packs or errors:
        terminalreporter.write_sep("-", "failover evidence packs")
    for line in errors:
        terminalreporter.write_line(f"MERGE FAILED {line}")
    unsigned = 0
    for r, pack in packs:
        verdict = "SLA met   " if r["sla_met"] else "SLA MISSED"
        control = " (control: expected)" if r.get("expect") == "fail" and not r["sla_met"] \
            else ""
        incomplete = " (run INCOMPLETE)" if r.get("incomplete") else ""
        shard = r.get("shard")
        incomplete += f" (shard {shard['index']}/{shard['count']}: a part, for `failover " \
            "merge`)" if shard else f" (merged from {len(r['merged']['parts'])} parts)" \
            if r.get("merged") else ""
        seal = sealed(pack)
        unsigned += not seal.signed
        signed = f"signed by key {seal.fingerprint}" if seal.signed else "UNSIGNED"
        terminalreporter.write_line(f"{verdict} {pack / 'report.html'}{control}{incomplete}, "
                                    f"{signed}")
    if unsigned:
        terminalreporter.write_line(f"{unsigned} pack(s) UNSIGNED: give --signing-key PATH or "
                                    "$FAILOVER_SIGNING_KEY to sign them (failover keygen PATH "
                                    "makes a key)")
