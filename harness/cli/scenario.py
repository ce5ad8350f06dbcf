"""`failover run | validate | recover`: scenarios from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from harness import schemas
from harness.cli.common import console
from harness.cli.live import LiveOption, live_page
from harness.cli.runbook_views import runbook_plan, steps_table, terminal_operator
from harness.cli.sweep_views import failures_table, sweep_plan
from harness.cli.views import terminal_view
from harness.cli.watch_views import outages_table
from harness.engine import MEANING, LabPool, Observers, RunOptions, RunOutcome, run_scenario
from harness.faults import FAULTS
from harness.faults import recover as recover_faults
from harness.faults.registry import hint_text
from harness.faults.schema import parameters, summary
from harness.network.base import WORKERS
from harness.runbook.results import RunbookResult
from harness.scenario.gate import cuts, refusal
from harness.scenario.load import LoadedScenario, load_scenario
from harness.scenario.results import RunResult
from harness.sweep.results import SweepResult
from harness.watch.results import WatchResult

REPORTS = Path("reports")


def schema(kind: Annotated[str, typer.Argument(help="scenario or results")] = "scenario",
           write: Annotated[bool, typer.Option(help="write it in schemas/")] = False) -> None:
    """Print a JSON Schema: scenario files (for editors) or a pack's results.json."""
    if kind not in schemas.SCHEMAS:
        raise typer.BadParameter(f"{kind!r}: one of {', '.join(schemas.SCHEMAS)}")
    if write:
        schemas.path(kind).write_text(schemas.text(kind))
        console.print(f"wrote {schemas.path(kind)}")
    else:
        print(schemas.text(kind), end="")


def validate(scenarios: Annotated[list[Path] | None, typer.Argument(help="scenario files")]
             = None,
             kinds: Annotated[bool, typer.Option(help="list the fault kinds and their "
                                                 "parameters")] = False) -> None:
    """Check scenario files (schema, topology, nodes, links, SLAs, faults); touch nothing."""
    if kinds:
        _kinds()
    if not scenarios and not kinds:
        raise typer.BadParameter("give scenario files (or --kinds)")
    for path in scenarios or []:
        loaded = load_scenario(path)
        what = f"an N-1 sweep of {len(loaded.failures)} single failures" if loaded.spec.sweep \
            else f"a runbook of {len(loaded.spec.steps)} steps" if loaded.spec.steps \
            else f"{len(loaded.faults)} fault(s)"
        console.print(f"[green]ok[/] {escape(str(path))}: {len(loaded.flows)} flows, {what} on "
                      f"{escape(loaded.topology.name)}")


def _kinds() -> None:
    for kind, cls in FAULTS.items():
        where = "lab and real devices (NAPALM)" if cls.on_devices else "built-in lab"
        console.print(f"{kind} ({where}): {summary(cls)}", markup=False, soft_wrap=True)
        for name, (hint, default) in parameters(cls).items():
            shown = "required" if default is ... else f"default {default!r}"
            console.print(f"    {name}: {hint_text(hint)}, {shown}", markup=False)


def _plan(loaded: LoadedScenario) -> None:
    spec = loaded.spec
    where = "real devices" if loaded.on_devices else "the built-in lab"
    console.print(f"scenario {spec.name} on {loaded.topology.name} ({where}): {spec.description}",
                  markup=False)
    for fault in loaded.faults:
        console.print(f"  would inject: {fault.describe()}", markup=False)
        for line in fault.details():
            console.print(f"    {line}", markup=False)
    for real in loaded.real_devices():
        console.print(f"  a real device: {real} (changed only with --commit)", markup=False)
    for node, host in spec.probes.items():
        console.print(f"  probes of {node}: over ssh to {host.ssh}, address {host.address}",
                      markup=False)
    for cf in loaded.flows:
        f = cf.flow
        console.print(f"  flow {f.name}: {f.src} -> {f.dst} {f.protocol}/{f.port} DSCP {f.dscp} "
                      f"{f.rate:.0f} pps {f.direction}, SLA {cf.sla.max_outage_ms:.0f} ms",
                      markup=False)
    cut = cuts(loaded.topology, loaded.flows, loaded.faults)
    console.print(f"  last path cut for: {refusal(cut)}" if cut else
                  "  every critical flow keeps a path during the fault", markup=False)


def verdict_table(result: RunResult) -> Table:
    table = Table(title=f"{result.scenario}: per-flow verdict", title_justify="left")
    for col in ("flow", "SLA ms", "failover ms", "failback ms", "lost (fault on)", "verdict"):
        table.add_column(col, justify="left" if col in ("flow", "verdict") else "right")
    for v in result.flows:
        mark = "[green]PASS[/]" if v.passed else "[red]FAIL[/]"
        why = escape("; ".join(v.failover_verdict.reasons + v.failback_verdict.reasons))
        table.add_row(escape(v.direction) + ("" if v.critical else " (info)"), f"{v.sla_ms:.0f}",
                      f"{v.failover.outage_ms:.1f}", f"{v.failback.outage_ms:.1f}",
                      str(v.failover.lost + v.failback.lost), f"{mark} {why}".strip())
    return table


DryRun = Annotated[bool, typer.Option(help="print what would change, change nothing")]
Commit = Annotated[bool, typer.Option(help="needed to change real devices (a scenario with "
                                      "probes: hosts)")]
KeepLab = Annotated[bool, typer.Option(help="leave a lab this run brought up")]
Reports = Annotated[Path, typer.Option(help="where the evidence pack is written")]
SigningKey = Annotated[Path | None, typer.Option(
    help="Ed25519 private key (PEM) signing the pack's MANIFEST (default: "
         "$FAILOVER_SIGNING_KEY; unsigned without either)")]
Workers = Annotated[int, typer.Option(min=1, help="devices read at once for their state, "
                                      "snapshots and facts (lab routers: snapshots, facts)")]


def run(scenario: Annotated[Path, typer.Argument(help="scenario file (faults, a sweep or steps)")],
        dry_run: DryRun = False, commit: Commit = False, keep_lab: KeepLab = False,
        reports: Reports = REPORTS, signing_key: SigningKey = None,
        workers: Workers = WORKERS, live: LiveOption = None) -> None:
    """Fail the network on purpose, measure every critical flow, restore, judge each SLA.

    Writes the evidence pack (report.html, results.json, junit.xml, raw probes, MANIFEST,
    VERIFY.txt). Its exit code says how the run ended (the table below).
    """
    execute(load_scenario(scenario), dry_run, commit, keep_lab, reports, signing_key, workers,
            live)


def execute(loaded: LoadedScenario, dry_run: bool, commit: bool, keep_lab: bool,
            reports: Path, signing_key: Path | None, workers: int = WORKERS,
            live: str | None = None) -> None:
    """Print the plan, or run it (with its live page), print its outcome and exit with its
    code."""
    if dry_run:
        (sweep_plan if loaded.spec.sweep else runbook_plan if loaded.spec.steps
         else _plan)(loaded)
        return
    options = RunOptions(reports=reports, signing_key=signing_key, commit=commit,
                         operator=terminal_operator() if loaded.spec.steps else None,
                         workers=workers)
    with live_page(live) as page, LabPool(keep=keep_lab) as labs:
        outcome = run_scenario(loaded, options, Observers([terminal_view(), page]), labs)
    print_outcome(outcome)
    raise typer.Exit(code=int(outcome.exit_code))


def print_outcome(outcome: RunOutcome) -> None:
    """The outcome's table, what went wrong, the verdict, the pack and the exit code."""
    result = outcome.result
    if isinstance(result, SweepResult):
        console.print(failures_table(result))
    elif isinstance(result, RunbookResult):
        console.print(steps_table(result))
    elif isinstance(result, WatchResult):
        console.print(outages_table(result))
    elif result.flows:
        console.print(verdict_table(result))
    for line in result.state_diff:
        console.print(f"[yellow]state differs after the run:[/] {escape(line)}")
    for line in result.probe_problems:
        console.print(f"[red]measurement not sound:[/] {escape(line)}")
    if result.incomplete:
        console.print(f"[red]run INCOMPLETE:[/] {escape(result.incomplete)}")
    for line in result.not_restored:
        console.print(f"[red]NOT restored:[/] {escape(line)}")
    if outcome.report_error:
        console.print(f"[red]report not rendered:[/] {escape(outcome.report_error)}")
    verdict = "SLA met" if result.sla_met else "SLA MISSED"
    expected = " (as expected: control scenario)" if isinstance(result, RunResult) and \
        result.expect == "fail" and result.outcome_as_expected else ""
    console.print(f"{'[green]' if result.sla_met else '[red]'}{verdict}[/]{expected}")
    pack, sealed = outcome.pack, outcome.sealed
    console.print(f"report: {pack / 'report.html'}", markup=False)
    console.print(f"evidence pack: {pack}/ ({sealed.files} files, " + (
        f"signed by key {sealed.fingerprint})" if sealed.signed else
        "UNSIGNED: give --signing-key or $FAILOVER_SIGNING_KEY to sign it)"), markup=False)
    console.print(f"exit {int(outcome.exit_code)}: {MEANING[outcome.exit_code]}", markup=False)


def recover() -> None:
    """Undo every fault a crashed run left behind (from the on-disk journal)."""
    done = recover_faults()
    if not done:
        console.print("nothing to recover")
    for rec in done:
        console.print(f"{rec.entry.lab}: {rec.entry.kind}: {rec.outcome}")
    if not all(rec.ok for rec in done):
        raise typer.Exit(code=1)
