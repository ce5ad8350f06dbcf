"""The runner's preflight refuses a run while an earlier run's fault could not be undone
(pure logic: the network is a fake that fails the test if touched)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.engine.runner import ScenarioRunner
from harness.scenario.gate import GateRefused
from harness.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]


class UntouchedNetwork:
    """A fake network: the run must be refused before it reads or changes anything."""

    kind = "lab"

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the network was used: {name}")


def test_a_fault_left_by_an_earlier_run_that_cannot_be_undone_refuses_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILOVER_JOURNAL_DIR", str(tmp_path / "journal"))
    (tmp_path / "journal").mkdir()
    records = [{"op": "run", "pid": None},  # a run that is gone
               {"op": "inject", "id": "e1", "lab": "hospital-core", "kind": "no-such-fault",
                "params": {}, "description": "drain core2", "time": 0}]
    (tmp_path / "journal" / "old.jsonl").write_text("".join(json.dumps(r) + "\n"
                                                            for r in records))
    loaded = load_scenario(ROOT / "scenarios/core1-power-loss.yml")
    runner = ScenarioRunner(loaded, UntouchedNetwork(), tmp_path / "work")  # type: ignore[arg-type]
    with pytest.raises(GateRefused, match="an earlier run's fault is still in place, nothing "
                                          "injected: drain core2: failed: "):
        runner.preflight()
    assert (tmp_path / "journal" / "old.jsonl").exists()  # still journaled, for `recover`
