"""A run's outcome from its parts (pure logic): SLA, control scenarios, state, measurement."""

from __future__ import annotations

import pytest

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
