"""results.json data for tests that need a pack but no run (pure logic): just the fields the
pack's checks read."""

from __future__ import annotations

from typing import Any


def flow(direction: str, critical: bool = True, outage_ms: float = 0.0,
         sla_ms: float = 300.0) -> dict[str, Any]:
    missed = [f"outage {outage_ms:.0f} ms > SLA {sla_ms:.0f} ms"] if outage_ms > sla_ms else []
    return {"direction": direction, "critical": critical, "passed": not missed,
            "sla_ms": sla_ms, "failover": {"outage_ms": outage_ms, "lost": int(outage_ms)},
            "failback": {"outage_ms": 0.0, "lost": 0},
            "failover_verdict": {"reasons": missed}, "failback_verdict": {"reasons": []}}


def results(scenario: str, *flows: dict[str, Any], expect: str = "pass",
            as_expected: bool = True) -> dict[str, Any]:
    met = all(f["passed"] for f in flows if f["critical"])
    return {"scenario": scenario, "expect": expect, "outcome_as_expected": as_expected,
            "complete": True, "state_diff": [], "probe_problems": [], "sla_met": met,
            "inject_stamps": [{"what": "a fault"}], "not_restored": [], "aborted": None,
            "flows": list(flows)}
