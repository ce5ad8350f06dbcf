"""The probe agent, one per node where flows start or end: a lab node's namespace, or a
remote host over SSH (stdlib only, fast start). It wires the `sender`, the
`receiver` and the `control` protocol together; `endpoints` ships these modules to it.

    python -m harness.probes.agent

Protocol: the spec is the first line of stdin (JSON): `send` (the flows sent from here),
`receive` (the UDP ports probed here, the aggregate rate), `max_seconds`. The agent forks its
sender and sets up its receiver beside it: one interpreter start-up per node, and yet the
sender runs in a process of its own (at real-time priority, never waiting for a receiver's
GIL), as when they were started apart. It writes "ready" to stderr once both are set up.
Then on stdin: "go" starts sending; "stop" stops it, and the sender's JSON summary follows on
stderr ({"send": ...}); closing stdin stops the receiver after it has handed on every probe
the kernel has handed over ({"receive": ...}, the last line). SIGTERM, the parent's death
(PR_SET_PDEATHSIG) or `max_seconds` stop it too. The receiver streams its records
(`wire.RECORD`) on stdout, one write per ring block.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time

from harness.probes.control import Forked, Stop, die_with_parent, niceness, say
from harness.probes.receiver import Receiver
from harness.probes.sender import serve

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of a start-up)
if TYPE_CHECKING:
    from typing import Any

LINGER_S = 30.0  # the agent's own deadline: max_seconds after "ready", and this much more


def _control(stop: Stop, forked: Forked | None) -> None:
    """stdin: "go" and "stop" are for the sender; its end stops the agent (closing stdin
    works through SSH too, signals do not)."""
    try:
        for line in sys.stdin:
            if forked is not None and line.strip() == "go":
                forked.go()
            elif forked is not None and line.strip() == "stop":
                forked.finish()
    finally:
        stop()


def _fork_sender(spec: dict[str, Any], max_seconds: float, nice: int) -> Forked:
    """The sender, in a process of its own (see `sender.serve`)."""
    return Forked(lambda parent, control, answers:
                  serve(spec, max_seconds, parent, nice, control, answers))


def main() -> None:
    die_with_parent()
    nice = os.getpriority(os.PRIO_PROCESS, os.getppid())
    spec = json.loads(sys.stdin.readline())
    max_seconds = float(spec["max_seconds"])
    forked = _fork_sender(spec["send"], max_seconds, nice) if spec.get("send") else None  # beside
    stop = Stop()
    stop.on_signals()
    receiver = Receiver(spec["receive"]) if spec.get("receive") else None
    if forked is not None and "error" in (ready := forked.answer()):
        os.waitpid(forked.pid, 0)
        sys.exit(f"sender: {ready['error']}")
    niceness(nice)  # before any thread: the receiver must not be starved
    say("ready")
    threading.Thread(target=_control, args=(stop, forked), daemon=True).start()
    deadline = time.monotonic() + max_seconds + LINGER_S
    received: dict[str, Any] = {}
    if receiver is not None:
        received = receiver.run(stop, deadline)
    else:
        select.select([stop.wake_r], [], [], max(0.0, deadline - time.monotonic()))
    if forked is not None:
        forked.finish()
    if receiver is not None:
        say(json.dumps({"receive": received}))
    os._exit(0)  # all said and flushed: the interpreter's teardown took ~60 ms of a stop


if __name__ == "__main__":
    main()
