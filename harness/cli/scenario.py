"""`failover run | validate | recover`: scenarios from the command line."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from harness.cli.common import console, progress
from harness.faults import recover as recover_faults
from harness.lab import Lab
from harness.scenario.gate import paths_cut
from harness.scenario.load import LoadedScenario, load_scenario
from harness.scenario.model import Scenario
from harness.scenario.results import RunResult
from harness.scenario.runner import ScenarioRunner, Tick

REPORTS = Path("reports")


SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "scenario.schema.json"


def scenario_schema() -> str:
    """The scenario file's JSON Schema, as published in `schemas/`."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "failover-harness scenario"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema(write: Annotated[bool, typer.Option(help=f"write {SCHEMA.name} in schemas/")] = False
           ) -> None:
    """Print the scenario files' JSON Schema (for editors: completion and checks)."""
    if write:
        SCHEMA.write_text(scenario_schema())
        console.print(f"wrote {SCHEMA}")
    else:
        print(scenario_schema(), end="")


def validate(scenarios: Annotated[list[Path], typer.Argument(help="scenario files")]) -> None:
    """Check scenario files (schema, topology, nodes, links, SLAs, faults); touch nothing."""
    for path in scenarios:
        loaded = load_scenario(path)
        console.print(f"[green]ok[/] {path}: {len(loaded.flows)} flows, "
                      f"{len(loaded.faults)} fault(s) on {loaded.topology.name}")


def _plan(loaded: LoadedScenario) -> None:
    spec = loaded.spec
    console.print(f"scenario {spec.name} on {loaded.topology.name}: {spec.description}")
    for fault in loaded.faults:
        console.print(f"  would inject: {fault.describe()}")
    for cf in loaded.flows:
        f = cf.flow
        console.print(f"  flow {f.name}: {f.src} -> {f.dst} {f.protocol}/{f.port} DSCP {f.dscp} "
                      f"{f.rate:.0f} pps {f.direction}, SLA {cf.sla.max_outage_ms:.0f} ms")
    cut = paths_cut(loaded.topology, loaded.flows, loaded.faults)
    console.print(f"  last path cut for: {', '.join(cut)}" if cut else
                  "  every critical flow keeps a path during the fault")


def verdict_table(result: RunResult) -> Table:
    table = Table(title=f"{result.scenario}: per-flow verdict", title_justify="left")
    for col in ("flow", "SLA ms", "failover ms", "failback ms", "lost", "verdict"):
        table.add_column(col, justify="left" if col in ("flow", "verdict") else "right")
    for v in result.flows:
        mark = "[green]PASS[/]" if v.passed else "[red]FAIL[/]"
        why = "; ".join(v.failover_verdict.reasons + v.failback_verdict.reasons)
        table.add_row(v.direction + ("" if v.critical else " (info)"), f"{v.sla_ms:.0f}",
                      f"{v.failover.outage_ms:.1f}", f"{v.failback.outage_ms:.1f}",
                      str(v.result.lost), f"{mark} {why}".strip())
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
        keep_lab: Annotated[bool, typer.Option(help="leave a lab this run brought up")] = False,
        ) -> None:
    """Fail the network on purpose, measure every critical flow, restore, give verdicts.

    Exit 0: the outcome expected (a control scenario must miss its SLA) and every device back
    as it was; 1: otherwise; 2: bad input, or the run refused to inject (nothing changed).
    """
    loaded = load_scenario(scenario)
    if dry_run:
        _plan(loaded)
        return
    signal.signal(signal.SIGTERM, _exit_on_signal)  # unwinds: restores, removes our lab
    signal.signal(signal.SIGHUP, _exit_on_signal)
    lab = Lab(loaded.topology)
    brought_up = not lab.is_up()
    if brought_up:
        lab.up(progress=progress)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    workdir = REPORTS / f"{stamp}-{loaded.spec.name}"
    try:
        with LiveView() as view:
            result = ScenarioRunner(loaded, lab, workdir, progress, view.tick).run()
    finally:
        if brought_up and not keep_lab:
            lab.down()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "results.json").write_text(json.dumps(result.to_dict(), indent=2))
    shutil.copy(scenario, workdir / scenario.name)
    console.print(verdict_table(result))
    for line in result.state_diff:
        console.print(f"[yellow]state differs after the run:[/] {line}")
    verdict = "SLA met" if result.sla_met else "SLA MISSED"
    expected = " (as expected: control scenario)" if result.expect == "fail" and \
        result.outcome_as_expected else ""
    console.print(f"{'[green]' if result.sla_met else '[red]'}{verdict}[/]{expected}; "
                  f"results in {workdir}/results.json")
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
