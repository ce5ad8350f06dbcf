"""`failover init TOPOLOGY`: a starting flows file and scenarios for your own network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.cli.common import console
from harness.scenario.gate import paths_cut
from harness.scenario.load import LoadedScenario, load_scenario
from harness.scenario.starter import starter
from harness.scenario.starter_files import render, write
from harness.topology import load_topology


def init(topology: Annotated[Path, typer.Argument(help="containerlab topology file")],
         out: Annotated[Path, typer.Option(help="where to write the files")] = Path("scenarios"),
         force: Annotated[bool, typer.Option(help="overwrite files that exist")] = False,
         ) -> None:
    """Write a starting flows file and scenarios for a topology, to edit and run.

    Flows between its hosts, a power loss of each core, a cut of each core uplink, and a
    control scenario that must miss its SLA. Nothing is written if a file exists (unless
    --force); each written scenario is validated.
    """
    plan = starter(load_topology(topology))
    files = render(plan, out)
    write(files, force)
    console.print(f"cores: {', '.join(plan.cores)} ({escape(plan.how)}); "
                  f"{len(plan.flows)} flows", soft_wrap=True)
    for path in files:
        note = "" if path.parent.name == "flows" else _gate_note(load_scenario(path))
        console.print(f"wrote {escape(str(path))}{note}", soft_wrap=True)
    console.print(f"next: edit the flows and SLAs, then: failover validate {escape(str(out))}/"
                  f"*.yml; failover run {escape(str(out))}/<scenario>.yml --dry-run; "
                  "failover run ...", soft_wrap=True)


def _gate_note(loaded: LoadedScenario) -> str:
    """What the redundancy gate will say of a written scenario, when it is not what it wants."""
    cut = paths_cut(loaded.topology, loaded.flows, loaded.faults)
    if loaded.spec.expect == "fail":
        return "" if cut else " [yellow](cuts no flow's last path: it may not miss its SLA)[/]"
    return f" [yellow](the redundancy gate will refuse it: it cuts the last path of " \
        f"{escape(', '.join(cut))})[/]" if cut else ""
