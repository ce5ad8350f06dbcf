"""The checks a run is judged by, from its results (results.json): `preflight` (a fault was
injected), one per critical flow direction (its SLA, failover and failback) or, for an N-1
sweep, one per failure and critical flow direction (`cell`), `outcome` (the verdict) and
`restore` (every router back as before). The pytest plugin's tests and the pack's junit.xml
are these checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.report.html import Results


@dataclass(frozen=True)
class Check:
    name: str  # preflight, flow[<direction>], outcome, restore
    failure: str | None  # why it failed, for a person; None: passed
    expected_failure: bool = False  # a control scenario's flow: a miss is expected
    properties: tuple[tuple[str, float | int | str], ...] = ()  # outages, for CI tools
    skipped: str | None = None  # not measured on purpose (a known single point of failure)


def preflight(r: Results) -> Check:
    """The run itself: gate, clean baseline, fault injected (and restored)."""
    injected = r.get("inject_stamps") or any(f["fault_ns"] for f in r.get("failures", [])) \
        or r.get("steps")
    return Check("preflight", None if injected else "no fault was injected")


def flow(r: Results, direction: str) -> Check:
    """A critical flow direction against its SLA, failover and failback."""
    name, control = f"flow[{direction}]", r.get("expect") == "fail"
    found = [v for v in r["flows"] if v["direction"] == direction]
    if not found:
        return Check(name, f"{direction}: not measured (run incomplete: "
                           f"{r.get('incomplete') or 'no verdict'})", control)
    v = found[0]
    props = (("sla_ms", v["sla_ms"]),
             ("failover_outage_ms", round(v["failover"]["outage_ms"], 3)),
             ("failback_outage_ms", round(v["failback"]["outage_ms"], 3)),
             ("failover_lost", v["failover"]["lost"]), ("failback_lost", v["failback"]["lost"]))
    reasons = v["failover_verdict"]["reasons"] + v["failback_verdict"]["reasons"]
    failure = f"{direction}: SLA missed: " + "; ".join(reasons) if not v["passed"] else \
        f"run aborted: {r['aborted']}" if r.get("aborted") else None
    return Check(name, failure, control, props)


def outcome(r: Results) -> Check:
    """Every critical flow within its SLA, or for a control scenario (`expect: fail`) at least
    one missed; a complete run, soundly measured."""
    if r.get("incomplete"):
        return Check("outcome", f"run INCOMPLETE: {r['incomplete']}")
    if r.get("probe_problems"):
        return Check("outcome", "measurement not sound: " + "; ".join(r["probe_problems"]))
    if not r["outcome_as_expected"]:
        want = "every critical flow within its SLA" if r.get("expect", "pass") == "pass" else \
            "a control scenario must miss its SLA, and this one did not"
        if "failures" in r:
            want += " through every single failure, and no single point of failure but " \
                    "those accepted"
        return Check("outcome", f"outcome not as expected: {want}")
    return Check("outcome", None)


def restore(r: Results) -> Check:
    """Every fault restored and every router back as before the run."""
    left = r.get("not_restored", [])
    if left:
        return Check("restore", "fault NOT restored: " + "; ".join(left))
    diff = r.get("state_diff", [])
    if diff:
        return Check("restore", "network not back as it was: " + "; ".join(diff[:5])
                     + (f" (+{len(diff) - 5} more)" if len(diff) > 5 else ""))
    return Check("restore", None)


def cell(r: Results, element: str, direction: str) -> Check:
    """A critical flow direction through one failure of an N-1 sweep: a single point of
    failure fails it (skipped when the sweep accepts it as known), else its SLA."""
    name = f"cell[{element} | {direction}]"
    found = [f for f in r["failures"] if f["element"] == element]
    failure = found[0] if found else None
    if failure and failure["cuts"] and not failure["fault_ns"]:
        if failure["accepted"]:
            return Check(name, None, skipped="a known single point of failure (accepted): "
                                             "not injected")
        return Check(name, f"single point of failure: {element} would leave "
                           f"{', '.join(failure['cuts'])} without a path")
    cells = [c for c in (failure or {}).get("cells", []) if c["direction"] == direction]
    if not cells:
        return Check(name, f"not measured (sweep incomplete: "
                           f"{r.get('incomplete') or 'no window'})")
    c = cells[0]
    props = (("sla_ms", c["sla_ms"]), ("outage_ms", round(c["outage_ms"], 3)),
             ("surprise", c["surprise"] or ""))
    reasons = c["failover_verdict"]["reasons"] + c["failback_verdict"]["reasons"]
    return Check(name, None if c["passed"] else
                 f"{direction} through {element}: SLA missed: " + "; ".join(reasons),
                 properties=props)


def step(r: Results, name: str) -> Check:
    """A runbook's step: done (a check passed, the operator confirmed in time, no hard limit
    passed) and every critical flow direction within the step's SLA."""
    found = [s for s in r["steps"] if s["name"] == name]
    if not found:
        return Check(f"step[{name}]", f"not run (runbook incomplete: "
                                      f"{r.get('incomplete') or 'stopped before'})")
    s = found[0]
    reasons = [x for x in (s["failed"], s["aborted"]) if x]
    reasons += [f"{v['direction']}: " + "; ".join(v["verdict"]["reasons"])
                for v in s["verdicts"] if v["critical"] and not v["verdict"]["passed"]]
    worst = max((v["stats"]["outage_ms"] for v in s["verdicts"] if v["critical"]), default=0)
    return Check(f"step[{s['name']}]", "; ".join(reasons) or None,
                 properties=(("worst_outage_ms", round(worst, 3)),))


def watched(r: Results, totals: dict[str, Any]) -> Check:
    """A watch's critical flow direction: every outage within its SLA, delivering at the end."""
    props = (("sla_ms", totals["sla_ms"]), ("outages", totals["outages"]),
             ("longest_outage_ms", round(totals["longest_ms"], 3)), ("lost", totals["lost"]))
    return Check(f"flow[{totals['direction']}]", None if totals["passed"] else
                 f"{totals['direction']}: SLA missed: " + "; ".join(totals["reasons"]),
                 properties=props)


def sweep_cells(r: Results) -> list[tuple[str, str]]:
    """(failure, critical direction) of every cell a sweep is judged by."""
    critical = sorted({c["direction"] for f in r["failures"] for c in f["cells"]
                       if c["critical"]} | set(r.get("critical_directions", [])))
    return [(f["element"], d) for f in r["failures"] for d in critical]


def run_checks(r: Results) -> list[Check]:
    """Every check of a run, in order: preflight, each critical direction measured (each
    failure's, for a sweep), outcome, restore. A watch injects nothing: its checks are each
    critical direction and the outcome."""
    if "totals" in r:
        return [*(watched(r, t) for t in r["totals"] if t["critical"]), outcome(r)]
    measured = [cell(r, e, d) for e, d in sweep_cells(r)] if "failures" in r else \
        [step(r, s["name"]) for s in r["steps"]] if "steps" in r else \
        [flow(r, v["direction"]) for v in r["flows"] if v["critical"]]
    return [preflight(r), *measured, outcome(r), restore(r)]
