"""An N-1 sweep on the command line: its plan (--dry-run: every single failure with the
flows predicted affected and the single points of failure, from the topology) and its
outcome, one row per failure."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from harness.cli.common import console
from harness.scenario.load import LoadedScenario
from harness.sweep.predict import predict, topology_paths
from harness.sweep.results import SweepResult


def sweep_plan(loaded: LoadedScenario) -> None:
    """What the sweep would fail, and what the topology alone predicts (the run reads the
    forwarding tables for its own prediction)."""
    topo = loaded.topology
    paths = {label: topology_paths(topo, src, dst)
             for cf in loaded.flows for label, src, dst in cf.flow.directions()}
    found = predict(topo, loaded.flows, loaded.failures, paths)
    part = f" (shard {loaded.shard} of {len(loaded.campaign_failures)})" if loaded.shard \
        else ""
    console.print(f"N-1 sweep {escape(loaded.spec.name)} on {escape(topo.name)}: "
                  f"{len(found)} single failures{part} (predictions from the topology's shortest "
                  "paths; the run reads the forwarding tables)")
    for p in found:
        line = f"  {p.failure.fault.describe()}: {len(p.affected)} flow directions predicted " \
               "affected"
        if p.cuts:
            line += f"; SINGLE POINT OF FAILURE for {', '.join(p.cuts)}" + (
                "" if loaded.spec.sweep and loaded.spec.sweep.inject_single_points
                else " (not injected)")
        console.print(line, markup=False)


def failures_table(result: SweepResult) -> Table:
    table = Table(title=f"{result.scenario}: N-1 sweep", title_justify="left")
    for col in ("failure", "worst outage ms", "SLA misses", "surprises", "verdict"):
        table.add_column(col, justify="left" if col in ("failure", "verdict") else "right")
    for f in result.failures:
        if not f.cells:
            why = "single point of failure" if f.cuts else (f.skipped or "not measured")
            table.add_row(escape(f.element), "", "", "", f"[red]{escape(why)}[/]")
            continue
        misses = sum(1 for c in f.cells if c.critical and not c.passed)
        worst = max(c.outage_ms for c in f.cells)
        table.add_row(escape(f.element), f"{worst:.0f}", str(misses),
                      str(sum(1 for c in f.cells if c.surprise)),
                      "[green]PASS[/]" if not misses and not f.aborted else "[red]FAIL[/]")
    return table
