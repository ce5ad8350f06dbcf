"""Output helpers shared by the commands: rich on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console
from rich.markup import escape

from harness.errors import one_line

# not on a terminal (CI logs, pipes): wide enough that tables and lines are not folded
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, emoji=False, width=_WIDTH)  # `file:100:` is not an emoji
err_console = Console(stderr=True, highlight=False, emoji=False, width=_WIDTH)


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, then exit. The message is text, never markup: it quotes
    input (a node named `[/x]`, a type `list[str]`)."""
    err_console.print(f"[bold red]error:[/] {escape(one_line(message))}", soft_wrap=True)
    sys.exit(code)


def progress(message: str) -> None:
    """One line of progress; the message is text, never markup."""
    console.print(f"[dim]·[/] {escape(message)}", soft_wrap=True)
