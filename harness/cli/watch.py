"""`failover watch`: probe every flow of a maintenance window while people do the work (the
harness injects nothing); `failover mark TEXT`: add a mark to the running watch."""

from __future__ import annotations

import queue
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape

from harness.cli.common import console
from harness.cli.live import LiveOption, live_page
from harness.cli.scenario import REPORTS, KeepLab, Reports, SigningKey, print_outcome
from harness.cli.views import terminal_view
from harness.engine import LabPool, Observers, RunOptions, watch_flows
from harness.engine.watch import CHECKPOINT_S
from harness.errors import InputError
from harness.report.html import utc
from harness.scenario.load import LoadedScenario, load_scenario
from harness.topology import load_topology
from harness.watch.marks import Mark, add_mark, mark_text
from harness.yamlsrc import LineDict, load_yaml

_UNITS = {"s": 1, "m": 60, "h": 3600}
MAX_DURATION_S = 24 * 3600


def parse_duration(text: str) -> float:
    """'90s', '10m', '3h', '1h30m' (a bare number: seconds), at most a day."""
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise typer.BadParameter(f"{text!r}: a duration such as 90s, 10m, 3h or 1h30m")
    seconds = sum(float(n) * _UNITS[u or "s"] for n, u in parts)
    if not 0 < seconds <= MAX_DURATION_S:
        raise typer.BadParameter(f"{text!r}: between 1 s and 24 h")
    return seconds


def load_watched(path: Path, topology: Path | None, where: Path) -> LoadedScenario:
    """A scenario (its flows, on its network; its faults are not injected) or a flows file
    with --topology (a scenario naming both is written in `where`)."""
    doc = load_yaml(path)
    if isinstance(doc, LineDict) and "topology" in doc:
        if topology is not None:
            raise InputError(path, doc.line_of("topology"), "topology", "the scenario names "
                             "its topology: leave out --topology")
        return load_scenario(path, watch=True)
    if topology is None:
        raise InputError(path, 1, "", "a flows file: give the topology with --topology")
    name = f"{load_topology(topology).name}-watch"
    scenario = where / f"{name}.yml"
    scenario.write_text(yaml.safe_dump({
        "name": name, "description": f"watch of {path.name} (failover watch --topology)",
        "topology": str(topology.resolve()), "flows_from": [str(path.resolve())]},
        sort_keys=False))
    return load_scenario(scenario, watch=True)


def keyboard_marks(inbox: queue.Queue[Mark]) -> None:
    """Each line typed (read from stdin until its end) becomes a mark."""
    def read() -> None:
        for line in sys.stdin:
            if line.strip():
                try:
                    inbox.put(Mark(mark_text(line), time.time_ns(), "keyboard"))
                except Exception as exc:  # noqa: BLE001 - a bad line is said, not fatal
                    console.print(f"[yellow]not a mark:[/] {escape(str(exc))}")

    threading.Thread(target=read, daemon=True).start()


def watch(flows_or_scenario: Annotated[Path, typer.Argument(
              help="a scenario (its flows; nothing of it is injected) or a flows file")],
          duration: Annotated[str, typer.Option(help="how long: 90s, 10m, 3h, 1h30m")] = "1h",
          topology: Annotated[Path | None, typer.Option(help="with a flows file: the "
                                                        "topology")] = None,
          checkpoint_every: Annotated[float, typer.Option(
              min=1, max=3600, help="seconds between checkpoints (what was measured so far, "
              "kept if the watch is killed)")] = CHECKPOINT_S,
          keep_lab: KeepLab = False, reports: Reports = REPORTS,
          signing_key: SigningKey = None, live: LiveOption = None) -> None:
    """Probe every flow for a maintenance window while people do the work; inject nothing.

    Every outage is logged as it happens (start, end, flows, nearest mark). A line typed here
    is a mark; `failover mark TEXT` adds one from another terminal. Ctrl-C ends the watch
    early; either way one evidence pack of the whole window is written. Exit 0: every
    critical flow's every outage within its SLA; 1: not; 3: the watch failed (its pack holds
    what was measured).
    """
    seconds = parse_duration(duration)
    with tempfile.TemporaryDirectory(prefix="failover-watch-") as tmp:
        loaded = load_watched(flows_or_scenario, topology, Path(tmp))
        inbox: queue.Queue[Mark] = queue.Queue()
        keyboard_marks(inbox)
        with live_page(live) as page, LabPool(keep=keep_lab) as labs:
            outcome = watch_flows(loaded, RunOptions(reports=reports, signing_key=signing_key),
                                  Observers([terminal_view(), page]), labs, seconds, inbox,
                                  checkpoint_every)
    print_outcome(outcome)
    raise typer.Exit(code=int(outcome.exit_code))


def mark(text: Annotated[str, typer.Argument(help="what happened, e.g. \"core1 reload "
                                             "started\"")],
         pid: Annotated[int | None, typer.Option(help="the watch's pid, when several run")]
         = None) -> None:
    """Add a mark (a named instant) to the running watch, from another terminal."""
    at, added = add_mark(text, pid)
    console.print(f"mark added to watch {at} at {utc(added.wall_ns)}: {added.text}",
                  markup=False)
