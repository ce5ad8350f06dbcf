"""Benchmark: memory of `failover watch` over time, extrapolated to a 3-hour window.

Watches the 12 flow directions of scenarios/flows/hospital-critical.yml (6 flows, both
directions, 1000 probes/s each) on a private copy of hospital-core (brought up beforehand,
not counted) with the real command, for --minutes (default 10). Every --every seconds it
sums the memory of the watch's whole process tree (the watch and every probe agent and
sender it started): RSS (shared pages once per process: an upper bound) and PSS (shared pages
split among their sharers: what the tree takes), and the watch process's own RSS. Each
slope (least squares over the samples after the first minute) is printed in MB/h and
extrapolated to 3 h from the start. Goal (issue 15): at most 200 MB at 3 h.
Run as root:  .venv/bin/python bench/watch_memory.py [--minutes 10] [--every 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scenario_overhead import private_lab  # bench/ is on the path when run

from harness.lab import Lab
from harness.lab.teardown import teardown
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 200.0
WINDOW_H = 3.0
WARMUP_S = 60.0


def tree(pid: int) -> list[int]:
    """`pid` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """The processes' summed RSS (shared pages once per process: an upper bound) and summed
    PSS (each shared page split among its sharers: what the tree takes), in MB."""
    rss = pss = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        rss += next((int(line.split()[1]) for line in status.splitlines()
                     if line.startswith("VmRSS:")), 0)
        pss += next((int(line.split()[1]) for line in rollup.splitlines()
                     if line.startswith("Pss:")), 0)
    return rss / 1024, pss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watch-memory-") as tmpdir:
        tmp = Path(tmpdir)
        env = {**os.environ, "FAILOVER_JOURNAL_DIR": str(tmp / "journal"),
               "FAILOVER_WATCH_DIR": str(tmp / "watch"), "PYTHONUNBUFFERED": "1"}
        lab = Lab(load_topology(private_lab(tmp, "wm")))
        try:
            up = lab.up()
            print(f"lab {lab.name} up in {up.total:.1f} s (not counted); load avg "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
            watch(lab, tmp, env, args.minutes, args.every)
        finally:
            teardown(lab.name)


def watch(lab: Lab, tmp: Path, env: dict[str, str], minutes: float, every: float) -> None:
    """Run the watch, sampling its tree (seconds since it began watching, RSS MB, PSS MB,
    the watch process's own RSS MB); report, then end the watch (Ctrl-C) and say how."""
    log = (tmp / "watch.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "watch", str(ROOT / "scenarios/flows/"
                                                           "hospital-critical.yml"),
         "--topology", str(lab.topology.path), "--duration", f"{minutes * 60 + 30:.0f}s",
         "--reports", str(tmp / "reports")],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        while "watching (pid" not in (tmp / "watch.log").read_text():
            if proc.poll() is not None:
                sys.exit(f"the watch ended before it began:\n{(tmp / 'watch.log').read_text()}")
            time.sleep(0.2)
        start = time.monotonic()
        samples = []
        while (t := time.monotonic() - start) < minutes * 60:
            pids = tree(proc.pid)
            own = max(memory_mb([p])[0] for p in pids)  # the watch: the largest process
            samples.append((t, *memory_mb(pids), own))
            if len(samples) % max(1, round(60 / every)) == 1:
                print(f"{t / 60:5.1f} min: RSS {samples[-1][1]:6.1f} MB, PSS "
                      f"{samples[-1][2]:6.1f} MB in {len(pids)} processes (the watch process "
                      f"{own:.1f} MB); load avg {os.getloadavg()[0]:.2f}", flush=True)
            time.sleep(every)
        report(samples, minutes)
        proc.send_signal(signal.SIGINT)
        stopping = time.monotonic()
        proc.wait(timeout=900)
        tail = (tmp / "watch.log").read_text().splitlines()
        print(f"the watch ended {time.monotonic() - stopping:.0f} s after Ctrl-C: "
              + "; ".join(line for line in tail[-6:] if "pack" in line or "exit" in line))
    finally:
        if proc.poll() is None:
            proc.kill()


def report(samples: list[tuple[float, float, float, float]], minutes: float) -> None:
    t = np.array([s[0] for s in samples])
    used = t >= min(WARMUP_S, t[-1] / 2)
    print(f"\n12 flow directions x 1000 probes/s, {minutes:g} min watched, {len(samples)} "
          f"samples; load avg now {os.getloadavg()[0]:.2f} (other labs share this machine)")
    for i, what in ((1, "RSS, summed over the tree"), (2, "PSS, summed over the tree"),
                    (3, "RSS of the watch process alone")):
        mb = np.array([s[i] for s in samples])
        slope, intercept = np.polyfit(t[used] / 3600, mb[used], 1)
        at_3h = intercept + slope * WINDOW_H
        print(f"{what}: first {mb[0]:.1f} MB, after warm-up {mb[used][0]:.1f} MB, last "
              f"{mb[-1]:.1f} MB, max {mb.max():.1f} MB; slope {slope:+.2f} MB/h (least "
              f"squares after {WARMUP_S:g} s); extrapolated to {WINDOW_H:g} h: {at_3h:.1f} MB "
              f"(goal <= {GOAL_MB:.0f} MB: {'met' if at_3h <= GOAL_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
