"""`failover run | validate | recover`: scenarios from the command line."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from harness import schemas
from harness.cli.common import console, progress
from harness.faults import recover as recover_faults
from harness.faults.napalm_change import NapalmChange
from harness.lab import Lab
from harness.report.manifest import load_signing_key, write_manifest
from harness.report.pack import (
    discard_unfinished,
    new_pack,
    render_report,
    write_pack,
)
from harness.scenario.gate import paths_cut
from harness.scenario.load import LoadedScenario, load_scenario, require_commit
from harness.scenario.network import network_for
from harness.scenario.results import RunResult
from harness.scenario.runner import ScenarioRunner, Tick

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


def validate(scenarios: Annotated[list[Path], typer.Argument(help="scenario files")]) -> None:
    """Check scenario files (schema, topology, nodes, links, SLAs, faults); touch nothing."""
    for path in scenarios:
        loaded = load_scenario(path)
        console.print(f"[green]ok[/] {escape(str(path))}: {len(loaded.flows)} flows, "
                      f"{len(loaded.faults)} fault(s) on {loaded.topology.name}")


def _plan(loaded: LoadedScenario) -> None:
    spec = loaded.spec
    where = "real devices" if loaded.on_devices else "the built-in lab"
    console.print(f"scenario {spec.name} on {loaded.topology.name} ({where}): {spec.description}",
                  markup=False)
    for fault in loaded.faults:
        console.print(f"  would inject: {fault.describe()}", markup=False)
        if isinstance(fault, NapalmChange):
            console.print(f"    committed with revert_in {fault.revert_in} s:", markup=False)
            for line in fault.config().splitlines():
                console.print(f"      {line}", markup=False)
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
    cut = paths_cut(loaded.topology, loaded.flows, loaded.faults)
    console.print(f"  last path cut for: {', '.join(cut)}" if cut else
                  "  every critical flow keeps a path during the fault", markup=False)


def verdict_table(result: RunResult) -> Table:
    table = Table(title=f"{result.scenario}: per-flow verdict", title_justify="left")
    for col in ("flow", "SLA ms", "failover ms", "failback ms", "lost (fault on)", "verdict"):
        table.add_column(col, justify="left" if col in ("flow", "verdict") else "right")
    for v in result.flows:
        mark = "[green]PASS[/]" if v.passed else "[red]FAIL[/]"
        why = "; ".join(v.failover_verdict.reasons + v.failback_verdict.reasons)
        table.add_row(v.direction + ("" if v.critical else " (info)"), f"{v.sla_ms:.0f}",
                      f"{v.failover.outage_ms:.1f}", f"{v.failback.outage_ms:.1f}",
                      str(v.failover.lost + v.failback.lost), f"{mark} {why}".strip())
    return table


class LiveView:
    """A per-flow table refreshed while the fault holds (on a terminal; lines elsewhere)."""

    def __init__(self) -> None:
        self.live = Live(console=console, refresh_per_second=4) if console.is_terminal else None

    def __enter__(self) -> LiveView:
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.live:
            self.live.stop()

    @property
    def tick(self) -> Tick | None:
        return self._tick if self.live else None

    def _tick(self, phase: str, left: float, flows: dict[str, tuple[int, float]]) -> None:
        table = Table(title=f"{phase}: {max(0.0, left):.0f} s left", title_justify="left")
        for col in ("flow", "received", "current outage"):
            table.add_column(col, justify="left" if col == "flow" else "right")
        for label, (received, outage_ms) in flows.items():
            style = "[red]" if outage_ms else "[green]"
            table.add_row(label, str(received),
                          f"{style}{outage_ms / 1e3:.1f} s[/]" if outage_ms else f"{style}ok[/]")
        assert self.live is not None
        self.live.update(table)


def run(scenario: Annotated[Path, typer.Argument(help="scenario file")],
        dry_run: Annotated[bool, typer.Option(help="print what would change, change nothing")]
        = False,
        commit: Annotated[bool, typer.Option(help="needed to change real devices (a scenario "
                                             "with probes: hosts)")] = False,
        keep_lab: Annotated[bool, typer.Option(help="leave a lab this run brought up")] = False,
        reports: Annotated[Path, typer.Option(help="where the evidence pack is written")]
        = REPORTS,
        signing_key: Annotated[Path | None, typer.Option(
            help="Ed25519 private key (PEM) signing the pack's MANIFEST "
                 "(default: $FAILOVER_SIGNING_KEY; unsigned without either)")] = None,
        ) -> None:
    """Fail the network on purpose, measure every critical flow, restore, give verdicts, and
    write the evidence pack (report.html, results.json, junit.xml, raw probes, MANIFEST).

    Exit 0: the outcome expected (a control scenario must miss its SLA) and every device back
    as it was; 1: otherwise; 2: bad input, or the run refused to inject (nothing changed).
    """
    loaded = load_scenario(scenario)
    if dry_run:
        _plan(loaded)
        return
    require_commit(loaded, commit)
    key = load_signing_key(signing_key)  # a bad key is refused before the network is touched
    signal.signal(signal.SIGTERM, _exit_on_signal)  # unwinds: restores, removes our lab
    signal.signal(signal.SIGHUP, _exit_on_signal)
    lab = None if loaded.on_devices else Lab(loaded.topology)
    brought_up = lab is not None and not lab.is_up()
    if lab is not None and brought_up:
        lab.up(progress=progress)
    pack = new_pack(reports, loaded.spec.name)
    network = network_for(loaded, lab)
    try:
        with LiveView() as view, discard_unfinished(pack):
            runner = ScenarioRunner(loaded, network, pack, progress, view.tick)
            result = runner.run()
    finally:
        network.close()
        if lab is not None and brought_up and not keep_lab:
            lab.down()
    console.print(verdict_table(result))
    for line in result.state_diff:
        console.print(f"[yellow]state differs after the run:[/] {line}")
    for line in result.probe_problems:
        console.print(f"[red]measurement not sound:[/] {line}")
    verdict = "SLA met" if result.sla_met else "SLA MISSED"
    expected = " (as expected: control scenario)" if result.expect == "fail" and \
        result.outcome_as_expected else ""
    console.print(f"{'[green]' if result.sla_met else '[red]'}{verdict}[/]{expected}")
    write_pack(pack, loaded, result, runner.before, runner.after)
    render_report(pack)
    sealed = write_manifest(pack, key)
    console.print(f"report: {pack / 'report.html'}")
    console.print(f"evidence pack: {pack}/ ({sealed.files} files, " + (
        f"signed by key {sealed.fingerprint})" if sealed.signed else
        "UNSIGNED: give --signing-key or $FAILOVER_SIGNING_KEY to sign it)"))
    raise typer.Exit(code=0 if result.outcome_as_expected else 1)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def recover() -> None:
    """Undo every fault a crashed run left behind (from the on-disk journal)."""
    done = recover_faults()
    if not done:
        console.print("nothing to recover")
    for rec in done:
        console.print(f"{rec.entry.lab}: {rec.entry.kind}: {rec.outcome}")
    if not all(rec.ok for rec in done):
        raise typer.Exit(code=1)
