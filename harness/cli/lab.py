"""`failover lab up|down|status|exec`: the built-in lab from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from harness.cli.common import console, progress
from harness.errors import HarnessError
from harness.lab import Lab
from harness.lab.state import LabState, running_labs
from harness.lab.status import lab_status
from harness.lab.teardown import teardown
from harness.topology import load_topology
from harness.topology.clab import MAX_NAME, NAME

lab_app = typer.Typer(help="Bring the built-in lab (namespaces + real FRR) up and down.",
                      no_args_is_help=True)


def _lab_name(target: str) -> str:
    """A lab named directly, or by its topology file."""
    path = Path(target)
    if path.suffix in {".yml", ".yaml"}:
        return load_topology(path).name
    if not NAME.fullmatch(target) or len(target) > MAX_NAME // 2:
        raise HarnessError(f"{target[:60]!r} is neither a lab name (letters, digits, '-', '_', "
                           f"at most {MAX_NAME // 2}) nor a topology file (.yml)")
    return target


@lab_app.command("up")
def up(topology: Annotated[Path, typer.Argument(help="containerlab topology file")],
       timeout: Annotated[float | None, typer.Option(
           help="seconds to wait for convergence (default: twice the routers' largest OSPF "
                "dead interval + 20, at least 60)", min=0.1, max=3600)] = None
       ) -> None:
    """Create the lab and wait until its routing has converged."""
    topo = load_topology(topology)
    for note in topo.notes:
        progress(f"note: {note}")
    report = Lab(topo).up(progress=progress, timeout=timeout)
    if report.already_up:
        return
    conv = report.convergence
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in report.phases.items())
    console.print(f"[green]lab {topo.name} is up[/] in {report.total:.2f} s ({phases}); "
                  f"{len(conv.ospf_links) if conv else 0} OSPF adjacencies, "
                  f"{conv.bfd_sessions if conv else 0} BFD sessions"
                  + (f", {conv.vrrp_groups} VRRP groups, {conv.stp_domains} STP domains"
                     if conv and (conv.vrrp_groups or conv.stp_domains) else ""))


@lab_app.command("down")
def down(target: Annotated[str, typer.Argument(help="lab name or its topology file")]) -> None:
    """Remove every namespace, process and file the lab made (also after a crash)."""
    name = _lab_name(target)
    result = teardown(name)
    if not result.namespaces and not result.killed:
        console.print(f"lab {name}: nothing to remove", markup=False)
        return
    console.print(f"lab {name} removed: {len(result.namespaces)} namespaces, "
                  f"{len(result.killed)} processes, in {result.seconds:.2f} s", markup=False)


@lab_app.command("status")
def status(target: Annotated[str | None, typer.Argument(help="lab name or topology")] = None
           ) -> None:
    """Show running labs; for one lab, its nodes, links, adjacencies, VRRP and STP."""
    if target is None:
        labs = running_labs()
        if not labs:
            console.print("no lab is up")
        for name in labs:
            state = LabState.load(name)
            if state:
                console.print(f"{name}: {state.phase}, {len(state.namespaces)} nodes "
                              f"({state.topology})", markup=False)
        return
    st = lab_status(Lab.attach(_lab_name(target)))
    for title, columns, rows in st.tables():
        table = Table(title=title, title_justify="left")
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*map(escape, row))
        console.print(table)


@lab_app.command("exec", context_settings={"allow_interspersed_args": False})
def exec_(target: Annotated[str, typer.Argument(help="lab name or topology file")],
          node: Annotated[str, typer.Argument(help="node name")],
          command: Annotated[list[str], typer.Argument(help="command and its arguments")]
          ) -> None:
    """Run a command inside a node's namespace (`vtysh -c ...` reaches its FRR)."""
    lab = Lab.attach(_lab_name(target))
    if command[0] == "vtysh":
        commands = [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == "-c"]
        out = lab.frr(node).vtysh(*commands)
    else:
        out = lab.run(node, command)
    console.print(out, end="", markup=False)
