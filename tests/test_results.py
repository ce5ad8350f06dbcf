"""A run's outcome from its parts (pure logic): SLA, control scenarios, state, measurement."""

from __future__ import annotations

import json

import jsonschema
import pytest
from sample_run import MS, RESTORE, T0, direction, outage, sample_results, sample_run

from harness import schemas
from harness.probes.analysis import Outage
from harness.scenario.context import command
from harness.scenario.results import RunResult


@pytest.mark.parametrize(("expect", "changes", "as_expected"), [
    ("pass", {}, True),
    ("fail", {}, False),  # a control scenario whose flows all met their SLA proves nothing
    ("pass", {"state_diff": ["core1 routes differ"]}, False),
    ("pass", {"aborted": "hard limit passed"}, False),
    ("fail", {"aborted": "hard limit passed"}, True),
    ("pass", {"probe_problems": ["the receiver on h2 could not keep up"]}, False),
    ("fail", {"aborted": "hard limit passed", "probe_problems": ["..."]}, False),
])
def test_outcome(expect: str, changes: dict[str, object], as_expected: bool) -> None:
    result = RunResult(scenario="s", topology="t", expect=expect, **changes)  # type: ignore[arg-type]
    assert result.outcome_as_expected is as_expected
    assert result.to_dict()["outcome_as_expected"] is as_expected


def test_recovery_times_from_the_fault_and_the_restore() -> None:
    """Every flow direction counts (the informational one recovers last after the fault: 32 ms);
    after the restore the last loss ends at 404 ms, the convergence check passes at 1.2 s."""
    r = sample_run().recovery
    assert (r.after_fault_ms, r.after_restore_ms, r.converged_ms, r.fault_to_full_ms) == \
        pytest.approx((32, 404, 1200, 11_200))
    r = sample_run(converged_ns=RESTORE + 100 * MS).recovery  # converged before the last loss
    assert (r.converged_ms, r.fault_to_full_ms) == pytest.approx((100, 10_404))


def test_recovery_without_loss_is_the_event_itself() -> None:
    run = sample_run(flows=2)
    run.flows = [direction("a →", []), direction("a ←", [])]
    r = run.recovery
    assert (r.after_fault_ms, r.after_restore_ms, r.fault_to_full_ms) == (0, 0, 1200 + 10_000)


@pytest.mark.parametrize(("windows", "converged", "expected"), [
    ([outage(T0 + 3 * MS, 12)], 0, (15, 0, None, None)),  # never seen converged
    ([outage(RESTORE - 5 * MS, 20)], 1, (None, 0, 1200, 11_200)),  # recovered after the restore
    ([outage(T0 + 3 * MS, 12), outage(RESTORE + 5 * MS, 10)], 1, (15, 15, 1200, 11_200)),
    ([outage(RESTORE + 1500 * MS, 10)], 1, (0, 1510, 1200, 11_510)),  # lost after converged
])
def test_recovery_not_seen(windows: list[Outage], converged: int,
                           expected: tuple[float | None, ...]) -> None:
    run = sample_run(converged_ns=RESTORE + 1200 * MS if converged else 0)
    run.flows = [direction("a →", windows)]
    r = run.recovery
    assert (r.after_fault_ms, r.after_restore_ms, r.converged_ms, r.fault_to_full_ms) == \
        pytest.approx(expected)


def test_a_flow_never_recovered_has_no_recovery() -> None:
    run = sample_run()
    run.flows.append(direction("b →", [outage(T0 + 3 * MS, 50)], recovered=False))
    r = run.recovery
    assert (r.after_fault_ms, r.after_restore_ms, r.fault_to_full_ms) == (None, None, None)
    assert r.converged_ms == pytest.approx(1200)
    assert RunResult(scenario="s", topology="t", expect="pass").recovery.after_fault_ms is None


def test_results_json_of_a_run_follows_the_published_schema() -> None:
    data = sample_results()
    jsonschema.validate(data, json.loads(schemas.path("results").read_text()))
    assert data["recovery"] == pytest.approx({"after_fault_ms": 32, "after_restore_ms": 404,
                                              "converged_ms": 1200, "fault_to_full_ms": 11_200})


@pytest.mark.parametrize(("argv", "typed"), [
    (["/work/x/.venv/bin/failover", "run", "scenarios/a b.yml"],
     "failover run 'scenarios/a b.yml'"),
    (["/usr/lib/python3/site-packages/pytest/__main__.py", "scenarios/", "-v"],
     "python -m pytest scenarios/ -v"),
    (["/work/x/.venv/bin/pytest", "--scenario", "s.yml"], "pytest --scenario s.yml"),
])
def test_the_command_is_recorded_as_typed(argv: list[str], typed: str) -> None:
    assert command(argv) == typed
