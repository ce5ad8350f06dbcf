"""Output helpers shared by the commands: rich on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

# not on a terminal (CI logs, pipes): wide enough that tables and lines are not folded
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, then exit."""
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    sys.exit(code)


def progress(message: str) -> None:
    console.print(f"[dim]·[/] {message}", soft_wrap=True)
