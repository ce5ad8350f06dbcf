"""The person who does what the harness cannot (pull a power cord, reload from a console):
a runbook's operator steps prompt them, and they confirm when done."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol


class Operator(Protocol):
    def confirm(self, step: str, prompt: str, timeout_s: float) -> bool:
        """Show `prompt` and return once the operator confirms it is done (True), or when
        `timeout_s` passed without that (False)."""


class Answer:
    """An operator's answer awaited in the background (the probes are watched meanwhile):
    `confirmed_ns` is the instant the operator confirmed (0: not, or not yet)."""

    def __init__(self, operator: Operator, step: str, prompt: str, timeout_s: float) -> None:
        self.confirmed_ns = 0
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._ask, args=(operator, step, prompt,
                                                                 timeout_s), daemon=True)
        self._thread.start()

    def _ask(self, operator: Operator, step: str, prompt: str, timeout_s: float) -> None:
        try:
            if operator.confirm(step, prompt, timeout_s):
                self.confirmed_ns = time.time_ns()
        finally:
            self.done.set()


class StreamOperator:
    """An operator at a terminal (or anything that writes lines): the prompt is written, and
    a line read after it confirms; end of input or the timeout does not. One reader thread
    from the start (a line typed before a prompt does not confirm it)."""

    def __init__(self, readline: Callable[[], str], write: Callable[[str], None]) -> None:
        self.readline = readline
        self.write = write
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while line := self.readline():
            self._lines.put(line)
        self._lines.put("")  # end of input

    def confirm(self, step: str, prompt: str, timeout_s: float) -> bool:
        while not self._lines.empty():
            if self._lines.get() == "":
                self._lines.put("")
                break
        self.write(f"OPERATOR ({step}): {prompt} -- press Enter when done "
                   f"(within {timeout_s:g} s)")
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            return False
        if not line:
            self._lines.put("")
        return bool(line)
