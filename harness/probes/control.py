"""How the probe agent and the sender it forks are stopped and talk to each other (stdlib
only: it runs in the agent, see `agent`).

The agent writes its lines ("ready", then JSON summaries) to stderr (`say`). Its sender runs
in a forked process (`Forked`): a control pipe carries "go" and its end stops the sender;
an answer pipe carries JSON lines back ({"ready": true} or an error, then its summary).
`Stop` is what a signal, a control thread or a closed pipe sets.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import signal
import sys
import threading

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of a start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


class Stop:
    """Set by a signal or a control thread: a flag, and a pipe that turns readable once
    stopped (it wakes a receiver's poll)."""

    def __init__(self) -> None:
        self.flag = False
        self.wake_r, self.wake_w = os.pipe()

    def __call__(self, *_: object) -> None:
        """Signal-safe: a flag and a byte (an Event's lock could be held by the interrupted
        code)."""
        self.flag = True
        os.write(self.wake_w, b"x")

    def on_signals(self) -> None:
        signal.signal(signal.SIGTERM, self)
        signal.signal(signal.SIGINT, self)


def die_with_parent() -> None:
    """SIGTERM to this process when its parent dies (PR_SET_PDEATHSIG)."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def say(line: str) -> None:
    """A line of the agent's answers (stderr)."""
    print(line, file=sys.stderr, flush=True)


def answer(answers: IO[str], message: dict[str, Any]) -> None:
    """A JSON line of the sender's answers."""
    answers.write(json.dumps(message) + "\n")
    answers.flush()


def follow(control: int, stop: Stop, go: threading.Event) -> None:
    """The sender's control pipe: "go" starts it, the pipe's end stops it."""
    with os.fdopen(control) as lines:
        for line in lines:
            if line.strip() == "go":
                go.set()
    stop()
    go.set()


def niceness(ceiling: int) -> None:
    """Back to the priority of the process that started the agent (`ceiling`, a nice value)
    if it is lower now: a local endpoint starts agents niced, so that they set up in the CPU
    that a run's preflight leaves (see `endpoints`). Where that is not allowed, as it was."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) > ceiling:
            os.setpriority(os.PRIO_PROCESS, 0, ceiling)  # this thread, and those it starts
    except OSError:
        pass


def fork() -> int:
    """`os.fork`, the objects made so far frozen first (`gc.freeze`): the child's garbage
    collections then skip what it inherited instead of writing to every object's header,
    which copies each page it shares with its parent (at 50 routers, pages copied after
    fork were 11-24 % of the CPU samples while the 96 agents and senders set up; what the
    freeze saves on its own was not measured apart)."""
    gc.freeze()
    return os.fork()


class Forked:
    """The sender's process as the agent sees it: a control pipe ("go"; closing it stops the
    sender) and an answer pipe (a JSON line: ready or an error, then its summary).

    `child(parent_pid, control_fd, answers_fd)` runs in the forked process and must never
    return into the agent's code (it exits)."""

    def __init__(self, child: Callable[[int, int, int], None]) -> None:
        control, self.control = os.pipe()
        answers, answers_w = os.pipe()
        parent = os.getpid()
        self.pid = fork()  # before any thread or socket of the agent's
        if not self.pid:
            try:
                os.close(self.control)
                os.close(answers)
                child(parent, control, answers_w)
            finally:
                os._exit(1)  # never back into the agent's code
        os.close(control)
        os.close(answers_w)
        self.answers = os.fdopen(answers, "rb")
        self.lock = threading.Lock()
        self.done = False

    def answer(self) -> dict[str, Any]:
        line = self.answers.readline()
        try:
            return json.loads(line) if line else {"error": "the sender exited without a word"}
        except ValueError:
            return {"error": f"the sender said: {line[:200]!r}"}

    def go(self) -> None:
        with self.lock, contextlib.suppress(OSError):  # it is gone: `finish` says why
            if not self.done:
                os.write(self.control, b"go\n")

    def finish(self) -> None:
        """Stop it (if it still sends), say its summary, reap it; once."""
        with self.lock:
            if self.done:
                return
            self.done = True
            os.close(self.control)
            say(json.dumps({"send": self.answer()}))
            os.waitpid(self.pid, 0)
