"""Benchmark: what VRRP and STP timer tuning buys on the hospital campus, measured.

Each case brings up a private copy of topologies/hospital-campus.clab.yml changed as it
says, runs 1 kpps probes ed <-> ehr (both directions: ed's gateway is VRRP 20), injects the
fault, holds, stops the probes, restores and waits for convergence (VRRP and STP included);
`--reps` times. Printed per case: the protocol's own switch-over (VRRP: core2 Master, polled
every ~20 ms through vtysh; STP: acc-ed's port to core2 forwarding, from sysfs) and the
outage the host's probes saw (lost probes / rate, the worse direction), median and worst.

  gateway move, L2 intact   core1's VLAN 20 interface (br-ed) down, with the access switch
                            the STP root (priority 0: both its uplinks forward, the
                            inter-core link blocks, so losing core1 changes no port on the
                            host's way to core2): VRRP advertisement-interval 100 ms
                            against 1 s
  access uplink cut         the core1 -- acc-ed link down (core1 the STP root, as in the
                            reference): acc-ed's blocked port to core2 listens and learns;
                            tuned STP timers (forward_delay 4 s, hello 1, max_age 6) against
                            802.1D's defaults (15 / 2 / 20)
  core1 VLAN down, aligned  the reference design (core1 VRRP master and STP root): core1's
                            br-ed down; VRRP moves in ~0.4 s, but acc-ed waits max_age for
                            the root's BPDUs to expire before its port to core2 forwards

Run as root:  .venv/bin/python bench/campus_tuning.py [--reps 3] [--cases gateway,uplink,aligned]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.lab import Lab
from harness.lab.stp import read_bridges
from harness.lab.teardown import teardown
from harness.probes.endpoints import NetnsEndpoint
from harness.probes.flows import Flow
from harness.probes.session import ProbeSession
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parent.parent
TUNED_STP = " forward_delay 400 hello_time 100 max_age 600"
RATE = 1000.0


@dataclass(frozen=True)
class Variant:
    """A change of the reference campus."""

    label: str
    advert_ms: int = 100
    stp_tuned: bool = True
    access_root: bool = False  # the access switches are the STP roots (priority 0)


@dataclass(frozen=True)
class Case:
    name: str
    variants: tuple[Variant, ...]
    fault: str  # "gateway" (core1 br-ed down) or "uplink" (core1:eth3 link down)


CASES = {
    "gateway": Case("gateway move, L2 intact", (
        Variant("VRRP 100 ms", 100, access_root=True),
        Variant("VRRP 1 s", 1000, access_root=True)), "gateway"),
    "uplink": Case("access uplink cut", (
        Variant("STP tuned 4/1/6 s"), Variant("STP defaults 15/2/20 s", stp_tuned=False)),
        "uplink"),
    "aligned": Case("core1 VLAN down, aligned", (
        Variant("VRRP 100 ms, STP tuned"),), "gateway"),
}


def campus_copy(variant: Variant, tmp: Path, prefix: str) -> Path:
    """A private copy of the campus, changed as `variant` says, under a unique name."""
    src = ROOT / "topologies"
    folder = tmp / "hospital-campus"
    folder.mkdir()
    for conf in (src / "hospital-campus").iterdir():
        text = conf.read_text().replace("advertisement-interval 100",
                                        f"advertisement-interval {variant.advert_ms}")
        (folder / conf.name).write_text(text)
    text = (src / "hospital-campus.clab.yml").read_text().replace(
        "name: hospital-campus\n", f"name: {prefix}{uuid.uuid4().hex[:6]}\n", 1)
    if not variant.stp_tuned:
        text = text.replace(TUNED_STP, "")
    if variant.access_root:
        text = text.replace("br0 type bridge stp_state 1", "br0 type bridge stp_state 1 priority 0")
    path = tmp / "hospital-campus.clab.yml"
    path.write_text(text)
    return path


def vrrp20_master(lab: Lab, router: str) -> bool:
    shown = lab.frr(router).vtysh_json("show vrrp 20 json")
    return bool(shown) and shown[0]["v4"]["status"] == "Master"


def acc_port_forwarding(lab: Lab) -> bool:
    bridges, _ = read_bridges(lab, "acc-ed")
    return bool(bridges) and bridges[0].ports.get("eth2") == "forwarding"


def faults(lab: Lab, kind: str) -> tuple[Callable[[], None], Callable[[], None],
                                         Callable[[], bool]]:
    """(inject, restore, switched-over?) of a fault kind."""
    if kind == "gateway":
        return (lambda: lab.run("core1", ["ip", "link", "set", "br-ed", "down"]),
                lambda: lab.run("core1", ["ip", "link", "set", "br-ed", "up"]),
                lambda: vrrp20_master(lab, "core2"))
    return (lambda: lab.set_link("core1:eth3", up=False),
            lambda: lab.set_link("core1:eth3", up=True),
            lambda: acc_port_forwarding(lab))


def hold_s(lab: Lab, variant: Variant) -> float:
    """Long enough for the slowest switch-over of the variant, plus 3 s."""
    bridges, _ = read_bridges(lab, "acc-ed")
    timers = bridges[0].timers
    stp = (timers["max_age"] + 2 * timers["forward_delay"]) / 100
    return max(stp, 3.6 * variant.advert_ms / 1000) + 3.0


def once(lab: Lab, kind: str, hold: float, workdir: Path) -> tuple[float | None, float]:
    """One fault: (switch-over ms, or None if not within the hold; outage ms)."""
    inject, restore, switched = faults(lab, kind)
    flow = Flow(name="ed-ehr", src="ed", dst="ehr", port=443, rate=RATE, direction="both")
    session = ProbeSession([flow], lambda n: NetnsEndpoint(n, lab.ns(n)), workdir,
                           max_seconds=hold + 60)
    over: float | None = None
    try:
        with session:
            session.start()
            time.sleep(2.0)
            start = time.monotonic()
            event = session.mark("fault")
            inject()
            while time.monotonic() - start < hold:
                if over is None and switched():
                    over = (time.monotonic() - start) * 1000
                time.sleep(0.02)
            run = session.stop()
    finally:
        restore()
    lost = [sum(o.lost for o in r.outages if o.end_ns is None or o.end_ns >= event.t_ns)
            for r in run.results]
    return over, max(lost) / RATE * 1000


def measure(case: Case, variant: Variant, reps: int, prefix: str) -> list[tuple[float | None,
                                                                               float]]:
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(load_topology(campus_copy(variant, Path(tmp), prefix)))
        try:
            lab.up(timeout=180)  # default STP timers: ~35 s idle, more under load
            hold = hold_s(lab, variant)
            out = []
            for i in range(reps):
                out.append(once(lab, case.fault, hold, Path(tmp) / f"probes{i}"))
                print(f"  {case.name} / {variant.label} run {i + 1}: switch-over "
                      f"{_ms(out[-1][0])}, outage {out[-1][1]:.0f} ms", flush=True)
                lab.wait_converged(timeout=120)
            return out
        finally:
            teardown(lab.name)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cases", default="gateway,uplink,aligned")
    parser.add_argument("--name-prefix", default="ct", help="lab names start with this")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rows = []
    for key in args.cases.split(","):
        case = CASES[key]
        for variant in case.variants:
            runs = measure(case, variant, args.reps, args.name_prefix)
            overs = [o for o, _ in runs if o is not None]
            outages = [o for _, o in runs]
            rows.append({"case": case.name, "variant": variant.label, "reps": len(runs),
                         "switch_over_ms": [round(o) for o in overs],
                         "outage_ms": [round(o) for o in outages],
                         "missed_switch_over": len(runs) - len(overs)})
    print(f"\n{'case':<26}{'variant':<24}{'switch-over ms':>22}{'host outage ms':>22}")
    for row in rows:
        over, outage = row["switch_over_ms"], row["outage_ms"]
        print(f"{row['case']:<26}{row['variant']:<24}{_span(over):>22}{_span(outage):>22}")
    print(f"(median / worst of {args.reps} runs each; switch-over: VRRP core2 Master, or STP "
          "acc-ed eth2 forwarding; outage: 1 kpps probes ed <-> ehr, the worse direction)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _span(values: list[int]) -> str:
    return f"{statistics.median(values):.0f} / {max(values)}" if values else "-"


if __name__ == "__main__":
    main()
