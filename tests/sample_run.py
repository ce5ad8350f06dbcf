"""A scenario run made up from its parts (no network): for the report, JUnit, PDF and recovery
tests. Flow directions lose probes around the fault and the restore, as core1's do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.faults import Stamp
from harness.probes.analysis import SLA, FlowResult, Outage, check, phase
from harness.report.html import chart
from harness.report.manifest import write_manifest
from harness.report.pack import render_report
from harness.scenario.results import FlowVerdict, RunResult
from harness.schemas import RESULTS_ID

MS = 1_000_000
S = 1000 * MS
T0 = 1_764_817_200_000_000_000  # the fault (2025-12-04T03:00:00Z)
RESTORE = T0 + 10 * S
RATE = 1000.0
DIFF = "--- core1\n+++ core1\n+router ospf\n+ max-metric router-lsa administrative\n"


def outage(start_ns: int, ms: int) -> Outage:
    """A window of `ms` probes lost at 1 kpps from `start_ns` (sequence from the run start)."""
    first = (start_ns - (T0 - 3 * S)) // MS
    return Outage(first, first + ms - 1, start_ns, start_ns + ms * MS, ms * MS)


def direction(label: str, outages: list[Outage], sla_ms: float = 300.0,
              critical: bool = True, recovered: bool = True) -> FlowVerdict:
    if not recovered:
        last = outages[-1]
        outages = [*outages[:-1], Outage(last.first_seq, last.last_seq, last.start_ns, None,
                                         None)]
    result = FlowResult(name=label, rate=RATE, sent=15_000,
                        received=15_000 - sum(o.lost for o in outages), duplicates=0,
                        reordered=0, outages=outages, probe_id=0x2A0001)
    failover = phase(result, T0 - S, RESTORE, T0)
    failback = phase(result, RESTORE, None, RESTORE)
    sla = SLA(sla_ms)
    return FlowVerdict(direction=label, flow=label.split(" ")[0], critical=critical,
                       sla_ms=sla_ms, failback_sla_ms=sla_ms, failover=failover,
                       failback=failback, failover_verdict=check(failover, sla, result.sent),
                       failback_verdict=check(failback, sla, result.sent), result=result)


def sample_run(flows: int = 6, expect: str = "pass", missed: int = 0,
               **changes: Any) -> RunResult:
    """`flows` critical directions (every other one losing 12 ms at the fault and 4 ms after
    the restore; the first `missed` losing 900 ms), an informational one, core1 drained."""
    verdicts = []
    for i in range(flows):
        lost = 900 if i < missed else 12 if i % 2 == 0 else 0
        windows = [outage(T0 + 3 * MS, lost)] if lost else []
        if i % 2 == 0:
            windows.append(outage(RESTORE + 400 * MS, 4))
        arrow = "→" if i % 2 == 0 else "←"
        verdicts.append(direction(f"app{i // 2}-ed-ehr {arrow}", windows))
    verdicts.append(direction("printing ward-pacs →", [outage(T0 + 2 * MS, 30)], sla_ms=1000.0,
                              critical=False))
    result = RunResult(
        scenario="core1-drain", topology="hospital-core", expect=expect,
        started_ns=T0 - 3 * S, fault_ns=T0, restore_ns=RESTORE, ended_ns=RESTORE + 2 * S,
        converged_ns=RESTORE + 1200 * MS,
        inject_stamps=[Stamp("planned-drain core1", 5 * S, 5 * S + 270 * MS, T0,
                             T0 + 270 * MS, DIFF)],
        restore_stamps=[Stamp("rollback core1", 15 * S, 15 * S + 420 * MS, RESTORE,
                              RESTORE + 420 * MS)],
        flows=verdicts, restored=["planned-drain core1"],
        context={"operator": "alice", "host": "lab-runner-1", "os": "Linux-6.1",
                 "python": "3.11.2", "command": "failover run scenarios/core1-drain.yml",
                 "packages": {"failover-harness": "0.1.0", "napalm": "5.0.0"}},
        devices={"core1": {"driver": "frr", "vendor": "FRRouting", "model": "lab",
                           "os_version": "8.4.4", "hostname": "core1",
                           "ospf_neighbors": [{"router_id": "198.18.0.2", "interface": "eth1",
                                               "state": "full"}]}})
    for key, value in changes.items():
        setattr(result, key, value)
    return result


def sample_results(flows: int = 6, **kwargs: Any) -> dict[str, Any]:
    """results.json of `sample_run`, as read back."""
    data = {"schema": RESULTS_ID, **sample_run(flows, **kwargs).to_dict()}
    return dict(json.loads(json.dumps(data)))


SCENARIO_TEXT = ("name: core1-drain  # <drain> & check\n"
                 "faults:\n  - {kind: planned-drain, node: core1}\n")


def sealed_pack(root: Path, results: dict[str, Any]) -> Path:
    """A pack as a run leaves it (results.json, timeline.svg, the scenario in inputs/, the
    report, JUnit and an unsigned MANIFEST), from `results`."""
    pack = root / f"20251204T030000Z-{results['scenario']}"
    (pack / "inputs").mkdir(parents=True)
    (pack / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (pack / "timeline.svg").write_text(chart(results))
    (pack / "inputs" / f"{results['scenario']}.yml").write_text(SCENARIO_TEXT)
    render_report(pack)
    write_manifest(pack, None)
    return pack
