"""A router's FRR killed by pid and started again, for the crash and power-loss faults."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence

from harness.faults.base import FaultError, Stamp, timed
from harness.faults.target import Target
from harness.lab import procs

START_TIMEOUT = 15.0


def kill(target: Target, node: str, daemons: Sequence[str]) -> list[Stamp]:
    """SIGKILL watchfrr first (so it restarts nothing), then the daemons; the Stamp runs
    until they are gone."""
    frr = target.lab.frr(node)
    pids = frr.pids()
    procs.kill([pids["watchfrr"]] if "watchfrr" in pids else [])
    victims = [pids[d] for d in daemons if d in pids]
    return [timed(f"{node} {' '.join(daemons)} killed", lambda: procs.kill(victims))]


def start(target: Target, node: str) -> list[Stamp]:
    """Every FRR daemon of the node running under watchfrr again (those still alive are
    adopted, not restarted); nothing to do when all run."""
    spec, frr = target.router(node), target.lab.frr(node)
    wanted = {"watchfrr", *spec.daemons}
    running = frr.pids()
    if wanted <= running.keys():
        return []

    def bring_up() -> None:
        if "watchfrr" not in running:  # a live watchfrr restarts what is missing itself
            proc = frr.start(spec.daemons)
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise FaultError(f"{node}: watchfrr did not start within 30 s") from None
            if proc.returncode != 0:
                raise FaultError(f"{node}: watchfrr failed to start: {err.decode().strip()}")
        end = time.monotonic() + START_TIMEOUT
        while not wanted <= frr.pids().keys():
            if time.monotonic() > end:
                missing = sorted(wanted - frr.pids().keys())
                raise FaultError(f"{node}: FRR daemons not running after "
                                 f"{START_TIMEOUT:g} s: {', '.join(missing)}")
            time.sleep(0.05)
    return [timed(f"{node} FRR started", bring_up)]
