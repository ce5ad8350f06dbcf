"""Benchmark: bring a topology up from nothing to converged and down again, N times.

Prints the median and worst seconds of each phase. Goals (issue 2): converged <= 2 s,
teardown <= 0.5 s.  Run as root:  .venv/bin/python bench/lab_updown.py [--runs 5] [TOPOLOGY]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness.lab import Lab
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topology", nargs="?", default=ROOT / "topologies/hospital-core.clab.yml")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lab = Lab(load_topology(args.topology))
    lab.down()
    rows: dict[str, list[float]] = {}
    for i in range(args.runs):
        report = lab.up()
        down = lab.down()
        for phase, seconds in {**report.phases, "up total": report.total,
                               "teardown": down.seconds}.items():
            rows.setdefault(phase, []).append(seconds)
        print(f"run {i + 1}: up {report.total:.2f} s, down {down.seconds:.2f} s", flush=True)
    print(f"\n{lab.name}: {len(lab.topology.nodes)} nodes, {len(lab.topology.links)} links, "
          f"{len(lab.topology.routers)} FRR routers, {args.runs} runs")
    print(f"{'phase':<12}{'median s':>10}{'worst s':>10}")
    for phase, values in rows.items():
        print(f"{phase:<12}{statistics.median(values):>10.2f}{max(values):>10.2f}")


if __name__ == "__main__":
    main()
