"""How a watch's outcome looks on the command line: its outages (incidents) as a table."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from harness.report.html import utc
from harness.watch.results import WatchResult


def outages_table(result: WatchResult) -> Table:
    table = Table(title=f"{result.scenario}: {len(result.incidents)} outage(s)",
                  title_justify="left")
    for col in ("start (UTC)", "duration", "flows hit", "nearest mark"):
        table.add_column(col)
    for i in result.incidents:
        near = f"{i.nearest.text} ({i.nearest.offset_ms / 1e3:+.3f} s)" if i.nearest else "-"
        table.add_row(utc(i.start_ns), f"{i.duration_ms:.0f} ms" if i.duration_ms is not None
                      else "not over", escape(", ".join(i.directions)), escape(near))
    return table
