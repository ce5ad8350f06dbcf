"""Benchmark: the highest aggregate probe rate received with zero loss over 15 s.

100 flows h1 -> h2 on a bare veth pair; the aggregate rate steps up until a step loses a
probe or falls short of its rate. Goals: >= 200k pps on this 2-core machine (issue 4); 1,000
flows at 1 kpps, 1M pps (issue 16; --flows 1000).
Run as root:  .venv/bin/python bench/probe_capacity.py [--seconds 15] [--flows 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.lab import Lab
from harness.probes.endpoints import NetnsEndpoint
from harness.probes.flows import Flow
from harness.probes.session import ProbeSession
from harness.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parent / "topologies/probe-pair.clab.yml"


def step(lab: Lab, flows: int, rate: float, seconds: float) -> tuple[int, int, float]:
    specs = [Flow(name=f"f{i}", src="h1", dst="h2", port=40000 + i, rate=rate)
             for i in range(flows)]
    with tempfile.TemporaryDirectory() as tmp, ProbeSession(
            specs, lambda n: NetnsEndpoint(n, lab.ns(n)), Path(tmp),
            max_seconds=seconds + 30) as session:
        session.start()
        time.sleep(seconds)
        run = session.stop()
    sent = sum(r.sent for r in run.results)
    return sent, sent - sum(r.received for r in run.results), run.sender_late_max_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--steps", default="50000,100000,150000,200000,250000,300000,400000,"
                        "500000,700000,1000000")
    args = parser.parse_args()
    lab = Lab(load_topology(TOPOLOGY))
    lab.down()
    lab.up()
    best = 0.0
    try:
        print(f"{'offered pps':>12}{'achieved pps':>14}{'lost':>8}{'sender late max ms':>20}")
        for total in (float(s) for s in args.steps.split(",")):
            sent, lost, late = step(lab, args.flows, total / args.flows, args.seconds)
            achieved = sent / args.seconds
            print(f"{total:>12.0f}{achieved:>14.0f}{lost:>8}{late:>20.1f}", flush=True)
            if lost or achieved < 0.97 * total:
                print("bounded by the " + ("sender: it could not send at the offered rate"
                                           if achieved < 0.97 * total else
                                           "receive side: probes sent were not received"))
                break
            best = achieved
    finally:
        lab.down()
    print(f"\ncapacity: {best:.0f} pps aggregate with zero loss over {args.seconds:.0f} s "
          f"({args.flows} flows); goals >= 200000, 1000 flows x 1 kpps = 1000000: "
          f"{'MET' if best >= 1_000_000 and args.flows >= 1000 else 'NOT MET'}")


if __name__ == "__main__":
    main()
