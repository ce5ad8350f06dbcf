"""How a run looks on the command line: observers of the engine. On a terminal a live table
of the flows while the fault holds; elsewhere (CI logs, pipes) plain lines."""

from __future__ import annotations

from rich.live import Live
from rich.markup import escape
from rich.table import Table

from harness.cli.common import console
from harness.engine import FlowNow, LineProgress

WATCHED = ("hold", "failback", "watch", "outage", "mark")  # the live table shows on
BRIEF = ("baseline", "inject", "restore", "settle")  # their ticks open no table (lines will do)


def _line(text: str) -> None:
    console.print(f"[dim]·[/] {escape(text)}", soft_wrap=True)


class LiveTable(LineProgress):
    """Phase lines above a per-flow table refreshed while the fault holds."""

    def __init__(self) -> None:
        super().__init__(_line)
        self._live: Live | None = None

    def tick(self, phase: str, seconds_left: float, flows: dict[str, FlowNow]) -> None:
        if self._live is None and phase in BRIEF:
            return
        if self._live is None:
            self._live = Live(console=console, refresh_per_second=4)
            self._live.start()
        table = Table(title=f"{phase}: {max(0.0, seconds_left):.0f} s left",
                      title_justify="left")
        for col in ("flow", "received", "current outage"):
            table.add_column(col, justify="left" if col == "flow" else "right")
        for label, now in flows.items():
            style = "[red]" if now.outage_ms else "[green]"
            table.add_row(escape(label), str(now.received),
                          f"{style}{now.outage_ms / 1e3:.1f} s[/]" if now.outage_ms
                          else f"{style}ok[/]")
        self._live.update(table)

    def phase(self, name: str, detail: str) -> None:
        if self._live is not None and name not in WATCHED:
            self._live.stop()
            self._live = None
        super().phase(name, detail)


def terminal_view() -> LineProgress:
    return LiveTable() if console.is_terminal else LineProgress(_line)
