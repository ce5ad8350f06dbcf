"""The checks a run is judged by, from its results (results.json): `preflight` (a fault was
injected), one per critical flow direction (its SLA, failover and failback), `outcome` (the
scenario's verdict) and `restore` (every router back as before). The pytest plugin's tests and
the pack's junit.xml are these checks."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.html import Results


@dataclass(frozen=True)
class Check:
    name: str  # preflight, flow[<direction>], outcome, restore
    failure: str | None  # why it failed, for a person; None: passed
    expected_failure: bool = False  # a control scenario's flow: a miss is expected
    properties: tuple[tuple[str, float | int], ...] = ()  # a flow's outages, for CI tools


def preflight(r: Results) -> Check:
    """The run itself: gate, clean baseline, fault injected (and restored)."""
    return Check("preflight", None if r.get("inject_stamps") else "no fault was injected")


def flow(r: Results, direction: str) -> Check:
    """A critical flow direction against its SLA, failover and failback."""
    name, control = f"flow[{direction}]", r["expect"] == "fail"
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
        want = "every critical flow within its SLA" if r["expect"] == "pass" else \
            "a control scenario must miss its SLA, and this one did not"
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


def run_checks(r: Results) -> list[Check]:
    """Every check of a run, in order: preflight, each critical direction measured, outcome,
    restore."""
    return [preflight(r), *(flow(r, v["direction"]) for v in r["flows"] if v["critical"]),
            outcome(r), restore(r)]
