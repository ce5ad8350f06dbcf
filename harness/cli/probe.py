"""`failover probe`: ad-hoc probe flows on a running lab, or from remote hosts over SSH."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from harness.cli.common import console, progress
from harness.errors import HarnessError
from harness.inputfile import check_readable
from harness.lab import Lab
from harness.probes.analysis import FlowResult
from harness.probes.endpoints import NetnsEndpoint, ProbeEndpoint
from harness.probes.flows import APPLICATIONS, Flow
from harness.probes.session import ProbeSession
from harness.probes.ssh_endpoint import parse_remote

FLOW_HELP = ("SRC:DST[:WHAT], WHAT an application "
             f"({', '.join(APPLICATIONS)}) or PROTO/PORT (udp/5000, tcp/443); default udp/50000")


def parse_flow(text: str, index: int, rate: float, both: bool) -> Flow:
    """A flow from `SRC:DST[:WHAT]`."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise HarnessError(f"--flow {text!r}: expected {FLOW_HELP}")
    src, dst = parts[0], parts[1]
    what = parts[2] if len(parts) == 3 else f"udp/{50000 + index}"
    common = {"rate": rate, "direction": "both" if both else "one-way"}
    name = f"{src}>{dst} {what}"
    if what in APPLICATIONS:
        return Flow.for_application(name, src, dst, what, **common)
    proto, _, port = what.partition("/")
    if proto not in ("udp", "tcp") or not port.isdigit():
        raise HarnessError(f"--flow {text!r}: {what!r} is neither an application nor PROTO/PORT")
    return Flow(name=name, src=src, dst=dst, protocol=proto, port=int(port),  # type: ignore[arg-type]
                **common)  # type: ignore[arg-type]


def results_table(results: list[FlowResult]) -> Table:
    table = Table(title="probe results", title_justify="left")
    for col in ("flow", "sent", "received", "lost", "outage ms", "largest gap ms", "dup",
                "reord", "outages"):
        table.add_column(col, justify="left" if col == "flow" else "right")
    for r in results:
        table.add_row(escape(r.name), str(r.sent), str(r.received), str(r.lost),
                      f"{r.lost * 1e3 / r.rate:.1f}", f"{r.max_gap_ns / 1e6:.1f}",
                      str(r.duplicates), str(r.reordered), str(len(r.outages)))
    return table


def probe(lab_name: Annotated[str | None, typer.Argument(
              help="a running lab (not needed when every node is --remote)")] = None,
          flow: Annotated[list[str] | None, typer.Option(help=FLOW_HELP)] = None,
          remote: Annotated[list[str] | None, typer.Option(
              help="NODE=[USER@]HOST[:PORT],PROBE_ADDRESS: probe from or to a Linux host "
                   "over SSH (keys only; python3 and root there)")] = None,
          ssh_config: Annotated[Path | None, typer.Option(
              help="ssh config file for --remote hosts (jump host, key, known hosts)")] = None,
          duration: Annotated[float, typer.Option(help="seconds")] = 10.0,
          rate: Annotated[float, typer.Option(help="packets per second per flow")] = 1000.0,
          both: Annotated[bool, typer.Option(help="measure both directions")] = False,
          ) -> None:
    """Send probe flows between lab nodes or remote hosts; report loss and outages per flow."""
    if not flow:
        raise HarnessError("give at least one --flow")
    flows = [parse_flow(f, i, rate, both) for i, f in enumerate(flow)]
    if ssh_config is not None:
        check_readable(ssh_config)  # missing or a directory: one line now, not an ssh failure
    remotes = {e.name: replace(e, config_file=str(ssh_config) if ssh_config else None)
               for e in map(parse_remote, remote or [])}
    lab = Lab.attach(lab_name) if lab_name else None
    for node in {n for f in flows for n in (f.src, f.dst)} - remotes.keys():
        if lab is None:
            raise HarnessError(f"--flow: node {node!r} is neither --remote nor in a lab "
                               "(name the running lab)")
        lab.node(node)

    def endpoint(node: str) -> ProbeEndpoint:
        if node in remotes:
            return remotes[node]
        assert lab is not None
        return NetnsEndpoint(node, lab.ns(node))

    with tempfile.TemporaryDirectory(prefix="failover-probe-") as tmp, ProbeSession(
            flows, endpoint, Path(tmp), max_seconds=duration + 60) as session:
        session.start()
        progress(f"probing {len(session.directions)} flow direction(s) for {duration:.0f} s "
                 "(Ctrl-C stops early)")
        try:
            time.sleep(duration)
        except KeyboardInterrupt:
            progress("stopped early")
        run = session.stop()
    console.print(results_table(run.results))
