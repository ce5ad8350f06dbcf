"""The run engine's contracts that need no lab (pure logic, fakes named as such): a fault kind
defined here, registered in one place, is in the published schema and judged by the gate only
through its declared scope; exit codes; the plugin leaves unrelated pytest sessions alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import jsonschema
import pytest
import yaml
from conftest import ROOT

from harness.engine import ExitCode, RunOutcome
from harness.engine.exits import MEANING, table
from harness.faults import FAULTS, Fault, Scope, Stamp, Target, register
from harness.report.manifest import ManifestInfo
from harness.scenario.gate import GateRefused, check_gate, paths_cut
from harness.scenario.load import load_scenario
from harness.scenario.results import RunResult
from harness.schemas import scenario_schema
from harness.topology import Topology


@dataclass(kw_only=True)
class Meteor(Fault):
    """meteor: a test's own fault kind (it changes nothing): every router named is gone."""

    kind: ClassVar[str] = "meteor"
    routers: list[str]
    size_m: float = 10.0

    def scope(self, topology: Topology) -> Scope:
        return Scope(nodes=frozenset(self.routers))

    def check(self, target: Target) -> None:
        pass

    def inject(self, target: Target) -> list[Stamp]:
        raise AssertionError("a pure-logic test injects nothing")

    restore = inject

    def describe(self) -> str:
        return f"meteor on {', '.join(self.routers)}"


@pytest.fixture
def meteor() -> Iterator[type[Meteor]]:
    yield register(Meteor)
    del FAULTS[Meteor.kind]


def scenario_with(tmp: Path, faults: list[dict[str, object]]) -> Path:
    data = yaml.safe_load((ROOT / "scenarios/core1-power-loss.yml").read_text())
    data["topology"] = str(ROOT / "topologies/hospital-core.clab.yml")
    data["flows_from"] = [str(ROOT / "scenarios" / f) for f in data["flows_from"]]
    data["faults"] = faults
    path = tmp / "s.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_fault_kind_registered_in_one_place_is_in_the_schema(meteor: type[Meteor]) -> None:
    schema = scenario_schema()
    defs = schema["$defs"]
    assert defs["Meteor"]["properties"]["kind"]["const"] == "meteor"
    assert defs["Meteor"]["required"] == ["kind", "routers"]
    assert "test's own fault kind" in defs["Meteor"]["description"]
    ok = {"name": "x", "topology": "t.yml", "flows": [],
          "faults": [{"kind": "meteor", "routers": ["core1"]}]}
    jsonschema.validate(ok, schema)
    for bad in ({"kind": "meteor"}, {"kind": "meteor", "routers": ["core1"], "speed": 3},
                {"kind": "meteor", "routers": "core1"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**ok, "faults": [bad]}, schema)


def test_the_gate_judges_a_new_kind_by_its_declared_scope(meteor: type[Meteor],
                                                          tmp_path: Path) -> None:
    one = load_scenario(scenario_with(tmp_path, [{"kind": "meteor", "routers": ["core1"]}]))
    assert paths_cut(one.topology, one.flows, one.faults) == []
    both = load_scenario(scenario_with(tmp_path, [{"kind": "meteor",
                                                   "routers": ["core1", "core2"]}]))
    cut = paths_cut(both.topology, both.flows, both.faults)
    assert cut and set(cut) == {cf.flow.name for cf in both.flows if cf.critical}

    class HealthyNetwork:  # a fake: the gate reads only these three
        topology = both.topology

        def degraded(self) -> list[str]:
            return []

        def gateway_health(self) -> dict[tuple[str, str, int], str]:
            return {}
    with pytest.raises(GateRefused, match="would cut the last path"):
        check_gate(HealthyNetwork(), both.flows, both.faults,  # type: ignore[arg-type]
                   allow_last_path_cut=False)


def test_internal_parameters_are_not_in_the_schema() -> None:
    drain = scenario_schema()["$defs"]["PlannedDrain"]["properties"]
    assert "node" in drain and "device" not in drain and "commit_session" not in drain


def outcome(**changes: object) -> RunOutcome:
    result = RunResult(scenario="s", topology="t", expect="pass", **changes)  # type: ignore[arg-type]
    return RunOutcome(result, Path("p"), {}, ManifestInfo(0, False, None))


def test_exit_codes_say_how_the_run_ended() -> None:
    assert outcome().exit_code == ExitCode.OK
    assert outcome(state_diff=["core1 differs"]).exit_code == ExitCode.NOT_AS_EXPECTED
    assert outcome(incomplete="interrupted (Ctrl-C)").exit_code == ExitCode.INCOMPLETE
    assert outcome(incomplete="x", not_restored=["link-cut: EPERM"]).exit_code == \
        ExitCode.NOT_RESTORED
    assert ExitCode.REFUSED == 2  # bad input: the CLI's one-line error path
    assert set(MEANING) == set(ExitCode) and len(table().splitlines()) == len(ExitCode)


def test_an_unrelated_pytest_session_is_left_alone(tmp_path: Path) -> None:
    """A bad FAILOVER_SIGNING_KEY, YAML files that are not scenarios, and a pytest-html report
    of another project: the plugin changes none of it."""
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    (tmp_path / "config.yml").write_text("topology: [a, b]\nfaults: no\n")
    (tmp_path / "broken.yml").write_text("a: [\n")
    env = {**os.environ, "FAILOVER_SIGNING_KEY": str(tmp_path / "missing.pem")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-c", "/dev/null", f"--rootdir={tmp_path}", str(tmp_path),
                           f"--html={tmp_path / 'r.html'}"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    html = (tmp_path / "r.html").read_text()
    assert "Failover evidence" not in html and "failover / failback" not in html


def test_validate_kinds_lists_every_registered_kind(meteor: type[Meteor]) -> None:
    from typer.testing import CliRunner

    from harness.cli import app
    out = CliRunner().invoke(app, ["validate", "--kinds"])
    assert out.exit_code == 0, out.output
    assert "meteor (built-in lab): a test's own fault kind" in out.output
    assert "    routers: list[str], required" in out.output
    assert "planned-drain (lab and real devices (NAPALM))" in out.output
