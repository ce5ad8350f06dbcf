"""`--live [ADDR:]PORT` for every command that runs probes (run, sweep, watch): one option, and
the page served while the command runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from harness.cli.common import console
from harness.engine import RunObserver
from harness.live import LiveServer, LiveView, parse_address

LiveOption = Annotated[str | None, typer.Option(
    "--live", metavar="[ADDR:]PORT",
    help="serve a read-only live page of the run: PORT on localhost, or ADDR:PORT (then with "
         "an access token, shown on this terminal only)")]


@contextmanager
def live_page(value: str | None) -> Iterator[RunObserver]:
    """The page's observer, served while the block runs (a do-nothing observer without
    `--live`). A bad value or an address it cannot listen on raises before anything runs."""
    if value is None:
        yield RunObserver()
        return
    view = LiveView()
    with LiveServer(view, parse_address(value)) as server:
        console.print(f"live view: {server.url}", markup=False, soft_wrap=True)
        if server.token:
            _to_terminal(f"live view with its access token (give it only to those in the "
                         f"room): {server.url_with_token}")
        yield view


def _to_terminal(line: str) -> None:
    """A line for the operator's eyes only: the controlling terminal, not stdout (which may
    be a log); stderr when there is no terminal."""
    try:
        with open("/dev/tty", "w") as tty:
            tty.write(line + "\n")
    except OSError:
        print(line, file=sys.stderr)
