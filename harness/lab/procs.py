"""Processes the lab started, killed by pid (never by name)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path


def alive(pid: int) -> bool:
    """True while the process runs; a zombie (killed, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill(pids: Iterable[int], timeout: float = 2.0) -> list[int]:
    """SIGKILL each pid in order and wait until they are gone; the pids actually killed."""
    killed = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    end = time.monotonic() + timeout
    while any(alive(p) for p in killed) and time.monotonic() < end:
        time.sleep(0.01)
    return killed
