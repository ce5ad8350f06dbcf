"""A runbook on the command line: its plan (--dry-run: each step), the operator at the
terminal (prompts on the console, Enter on stdin confirms), and its outcome, one row per
step."""

from __future__ import annotations

import sys

from rich.markup import escape
from rich.table import Table

from harness.cli.common import console
from harness.engine.operator import StreamOperator
from harness.engine.runbook import describe_step
from harness.runbook.results import RunbookResult
from harness.scenario.load import LoadedScenario


def runbook_plan(loaded: LoadedScenario) -> None:
    console.print(f"runbook {escape(loaded.spec.name)} on {escape(loaded.topology.name)}: "
                  f"{len(loaded.spec.steps)} steps")
    for n, step in enumerate(loaded.spec.steps, start=1):
        what = describe_step(step, loaded.step_faults)
        sla = f" (SLA {step.sla.max_outage_ms:g} ms)" if step.sla else ""
        console.print(f"  {n}. {step.name}: {what}{sla}", markup=False)


def terminal_operator() -> StreamOperator:
    """The person at this terminal: a line on stdin confirms a prompt."""
    return StreamOperator(sys.stdin.readline,
                          lambda line: console.print(f"[bold yellow]{escape(line)}[/]"))


def steps_table(result: RunbookResult) -> Table:
    table = Table(title=f"{result.scenario}: runbook", title_justify="left")
    for col in ("step", "what", "worst critical outage ms", "verdict"):
        table.add_column(col, justify="right" if col.startswith("worst") else "left")
    for s in result.steps:
        worst = max((v.stats.outage_ms for v in s.verdicts if v.critical), default=0.0)
        why = s.failed or s.aborted or ""
        table.add_row(escape(s.name), escape(s.what), f"{worst:.0f}",
                      "[green]PASS[/]" if s.passed else f"[red]FAIL[/] {escape(why)}")
    return table
