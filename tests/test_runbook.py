"""Runbooks without a lab: the step model and its one-line errors, the report and checks of a
runbook's results, and the terminal operator."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.engine.operator import StreamOperator
from harness.probes.analysis import SLA, FlowResult, check, phase
from harness.report.checks import run_checks, step
from harness.report.runbook_html import runbook_report
from harness.runbook.results import RunbookResult, StepResult, StepVerdict
from harness.scenario.load import load_scenario
from tests.sample_run import MS, T0, S, outage
from tests.test_scenario_load import refused

ROOT = Path(__file__).resolve().parent.parent

BASE = """name: t
topology: {topology}
sla_classes: {{voice: {{max_outage_ms: 300}}}}
flows:
  - {{name: v, src: voip, dst: pbx, application: rtp, sla_class: voice}}
steps:
  - {{name: cut, inject: {{kind: node-power-loss, node: core1}}, hold_s: 1}}
  - {{name: back, restore: cut}}
  - {{name: ok, check: [converged, clean]}}
"""


def test_the_reference_runbook_loads_every_inject() -> None:
    loaded = load_scenario(ROOT / "scenarios/rolling-core-upgrade.yml")
    assert list(loaded.step_faults) == ["drain-core1", "core1-reload", "drain-core2",
                                        "core2-reload"]
    steps = {s.name: s for s in loaded.spec.steps}
    assert steps["drain-core1"].sla is not None and steps["drain-core1"].sla.max_outage_ms == 0
    assert [s.kind for s in loaded.spec.steps][:6] == ["inject", "inject", "restore", "check",
                                                      "restore", "check"]


BAD = [
    ("back, restore: cut", "back, restore: nothing", 8, "steps[1].restore",
     "'nothing' is not an earlier inject step still in place"),
    ("{name: ok, check", "{name: back, check", 9, "steps[2].name", "already used"),
    ("node: core1}", "node: core9}", 7, "steps[0].inject.node", "unknown node 'core9'"),
    ("kind: node-power-loss", "kind: meteor", 7, "steps[0].inject", "unknown fault kind"),
    ("check: [converged, clean]", "check: [converged], wait: 3", 9, "steps[2]",
     "a step does exactly one of"),
    ("check: [converged, clean]", "check: [sunny]", 9, "steps[2].check[0]", "converged"),
    ("hold_s: 1", "hold_s: 1, sla: {max_outage: 3}", 7, "steps[0].sla.max_outage",
     "unknown key"),
    ("steps:\n", "faults: [{kind: node-power-loss, node: core2}]\nsteps:\n", 7, "steps",
     "give either faults or a sweep or steps"),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), BAD,
                         ids=[b[3] for b in BAD])
def test_a_broken_step_is_one_line_at_its_file_line_field(tmp_path: Path, old: str, new: str,
                                                          line: int, field: str,
                                                          message: str) -> None:
    text = BASE.format(topology=ROOT / "topologies/hospital-core.clab.yml")
    assert old in text
    refused(tmp_path, text.replace(old, new, 1), line, field, message)


def _verdict(result: FlowResult, start: int, end: int, sla_ms: float) -> StepVerdict:
    stats = phase(result, start, end, start)
    return StepVerdict(direction=result.name, flow="v", critical=True, sla_ms=sla_ms,
                       stats=stats, verdict=check(stats, SLA(sla_ms), result.sent))


def sample_runbook() -> RunbookResult:
    """Two steps: an operator's power cut (loss starts 400 ms after the prompt, the key press
    300 ms later) within 1 s, then a drain that lost 5 probes against 0 allowed."""
    flow = FlowResult(name="v a->b", rate=1000.0, sent=20_000, received=20_000 - 805,
                      duplicates=0, reordered=0,
                      outages=[outage(T0 + 400 * MS, 800), outage(T0 + 6 * S, 5)])
    pull = StepResult(name="pull-core1", kind="operator", what="operator: pull core1's cords",
                      started_ns=T0, ended_ns=T0 + 5 * S, confirmed_ns=T0 + 700 * MS,
                      traffic_failed_ns=T0 + 400 * MS,
                      verdicts=[_verdict(flow, T0, T0 + 5 * S, 1000)])
    drain = StepResult(name="drain", kind="inject", what="inject planned-drain core2",
                       started_ns=T0 + 5 * S, ended_ns=T0 + 9 * S, fault_ns=T0 + 5 * S,
                       verdicts=[_verdict(flow, T0 + 5 * S, T0 + 9 * S, 0)])
    return RunbookResult(scenario="rb", topology="hospital-core", started_ns=T0 - 3 * S,
                         ended_ns=T0 + 9 * S, steps=[pull, drain], directions=[flow])


def test_the_report_shows_each_step_and_both_operator_instants() -> None:
    data = sample_runbook().to_dict()
    assert [s["passed"] for s in data["steps"]] == [True, False] and not data["sla_met"]
    page = runbook_report(data)
    assert "NOT every step went as planned" in page
    assert "03:00:00.700+00:00 (+700 ms)" in page  # the key press
    assert "03:00:00.400+00:00 (+400 ms)" in page  # the first probe lost
    assert "<td>+300 ms</td>" in page  # confirmed 300 ms after traffic began to fail
    assert "800 / 1000" in page and "5 / 0" in page
    assert "<td>v a-&gt;b: outage 5 ms &gt; SLA 0 ms</td>" in page  # the step's notes
    checks = {c.name: c.failure for c in run_checks(data)}
    assert checks["step[pull-core1]"] is None
    assert checks["step[drain]"] == "v a->b: outage 5 ms > SLA 0 ms"


def _pipe() -> tuple[StreamOperator, int, list[str]]:
    read_fd, write_fd = os.pipe()
    lines = io.TextIOWrapper(os.fdopen(read_fd, "rb"))
    said: list[str] = []
    return StreamOperator(lines.readline, said.append), write_fd, said


def test_the_terminal_operator_confirms_with_a_line_after_the_prompt_only() -> None:
    operator, write_fd, said = _pipe()
    os.write(write_fd, b"typed too early\n")
    time.sleep(0.1)  # read before the prompt
    start = time.monotonic()
    assert not operator.confirm("s1", "pull the cord", 0.3)  # the early line is not an answer
    assert time.monotonic() - start >= 0.3 and "pull the cord" in said[0]

    def answer_after_the_prompt() -> None:  # a line written before it would not count
        while len(said) < 2:
            time.sleep(0.01)
        os.write(write_fd, b"\n")
    answering = threading.Thread(target=answer_after_the_prompt)
    answering.start()
    assert operator.confirm("s2", "plug it back", 5)
    answering.join()
    os.close(write_fd)
    assert not operator.confirm("s3", "anything", 5)  # end of input: never confirmed


def test_a_step_not_run_fails_its_check_and_the_plugin_has_one_test_per_step() -> None:
    data = sample_runbook().to_dict()
    data["incomplete"] = "interrupted (Ctrl-C)"
    assert step(data, "undrain").failure == "not run (runbook incomplete: interrupted (Ctrl-C))"
    found = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                            "-p", "no:cacheprovider", "scenarios/rolling-core-upgrade.yml"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    items = [line.split("::")[1] for line in found.splitlines() if "::" in line]
    loaded = load_scenario(ROOT / "scenarios/rolling-core-upgrade.yml")
    assert items == ["preflight", *(f"step[{s.name}]" for s in loaded.spec.steps), "outcome",
                     "restore"]
