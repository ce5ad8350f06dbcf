"""An N-1 sweep split in shards and merged back (pure logic, no lab): the shard split is
deterministic, disjoint and covering; `failover merge` refuses parts that are not every shard
of one campaign exactly once, or that fail verification, in one line (exit 2), and merges
those that are into one verified pack with every cell once. The part packs here are made from
results built in the test (fake measurements, named so: nothing is measured)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import HarnessError
from harness.probes.analysis import FlowResult, PhaseStats, Verdict
from harness.report.manifest import generate_key, load_signing_key, verify, write_manifest
from harness.report.sweep_pack import SWEEP_ID
from harness.sweep.merge import MergeError
from harness.sweep.results import Cell, FailureResult, ShardRecord, SweepResult
from harness.sweep.shard import Shard, all_shards, parse_shard

ELEMENTS = ["link r1:eth1 -- r2:eth1", "link r1:eth2 -- r3:eth1", "link r2:eth2 -- r4:eth1",
            "router r1", "router r2"]
DIRECTIONS = ["h1-h2 →", "h1-h2 ←"]


@given(st.lists(st.integers(), max_size=40), st.integers(1, 9))
def test_shards_are_deterministic_disjoint_and_cover_every_failure(items: list[int],
                                                                   count: int) -> None:
    tagged = list(enumerate(items))  # (position, value): equal values stay apart
    shares = [shard.take(tagged) for shard in all_shards(count)]
    assert shares == [shard.take(tagged) for shard in all_shards(count)]
    assert sorted(x for share in shares for x in share) == tagged  # disjoint, covering
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    assert all(share == sorted(share) for share in shares)  # the sweep's order kept


def test_a_shard_is_written_k_of_n() -> None:
    assert parse_shard(" 2/4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "2", "a/b", "2/4/1", "-1/4"):
        with pytest.raises(HarnessError, match="shard"):
            parse_shard(bad)
    Shard(3, 9).check(9)
    with pytest.raises(HarnessError, match="shard 3/10: the sweep has 9 single failures: "
                                           "split it in 9 shards at most"):
        Shard(3, 10).check(9)


def _stats(lost: int) -> PhaseStats:
    return PhaseStats(lost, float(lost), float(lost), 5.0 if lost else None,
                      6.0 + lost if lost else None, True)


def fake_part(index: int, count: int, scenario: str = "n1",
              incomplete: str | None = None) -> SweepResult:
    """The results of shard `index`/`count` of a fake campaign over ELEMENTS: each failure
    'measured' with made-up counts (no probe ran)."""
    mine = Shard(index, count).take(ELEMENTS)
    result = SweepResult(scenario=scenario, topology="two-path", started_ns=index * 10**9,
                         ended_ns=index * 10**9 + 5, critical_directions=DIRECTIONS,
                         incomplete=incomplete, shard=ShardRecord(index, count, mine, ELEMENTS),
                         directions=[FlowResult(d, 1000.0, 100, 100 - index, 0, 0)
                                     for d in DIRECTIONS])
    for n, element in enumerate(mine):
        window = FailureResult(element=element, fault=f"fault on {element}", kind="link-cut",
                               fault_ns=index * 10**9 + n + 1, restore_ns=index * 10**9 + n + 2,
                               end_ns=index * 10**9 + n + 3)
        window.cells = [Cell(direction=d, flow="h1-h2", critical=True, sla_ms=300.0,
                             failback_sla_ms=300.0, failover=_stats(n), failback=_stats(0),
                             failover_verdict=Verdict(True, ()),
                             failback_verdict=Verdict(True, ()), predicted_affected=bool(n),
                             certain=False) for d in DIRECTIONS]
        result.failures.append(window)
    return result


def part_pack(root: Path, result: SweepResult, scenario_text: str = "sweep: {}\n") -> Path:
    """A sealed part pack of `result`, with its inputs, as `failover sweep --shard` leaves
    one (its report aside)."""
    assert result.shard is not None
    pack = root / f"{result.scenario}-{result.shard.index}-of-{result.shard.count}"
    (pack / "inputs" / "flows").mkdir(parents=True)
    (pack / "inputs" / "topology").mkdir()
    (pack / "inputs" / f"{result.scenario}.yml").write_text(scenario_text)
    (pack / "inputs" / "flows" / "1-flows.yml").write_text("flows: []\n")
    (pack / "inputs" / "topology" / "two-path.clab.yml").write_text("name: two-path\n")
    data = {"schema": SWEEP_ID, **result.to_dict()}
    (pack / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
    write_manifest(pack, load_signing_key(root.parent / "key"))  # `parts_root`'s
    return pack


@pytest.fixture
def parts_root(tmp_path: Path) -> Path:
    generate_key(tmp_path / "key")
    (tmp_path / "parts").mkdir()
    return tmp_path / "parts"


def merge(*packs: Path, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "merge", *map(str, packs),
                           "--reports", str(reports)], capture_output=True, text=True)


def test_every_shard_merges_into_one_verified_campaign_pack(parts_root: Path,
                                                           tmp_path: Path) -> None:
    packs = [part_pack(parts_root, fake_part(k, 3)) for k in (2, 3, 1)]  # any order
    done = merge(*packs, reports=tmp_path / "merged")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "merged 3 parts (shards 1/3, 2/3, 3/3) of n1: 5 single failures" in done.stdout
    [pack] = list((tmp_path / "merged").iterdir())
    assert verify(pack).ok
    r = json.loads((pack / "results.json").read_text())
    assert [f["element"] for f in r["failures"]] == ELEMENTS  # the sweep's order, each once
    cells = [(f["element"], c["direction"]) for f in r["failures"] for c in f["cells"]]
    assert sorted(cells) == sorted({(e, d) for e in ELEMENTS for d in DIRECTIONS})
    assert r["shard"] is None and r["complete"] and r["outcome_as_expected"]
    assert [d["received"] for d in r["directions"]] == [100 * 3 - 6] * 2  # counts added
    parts = r["merged"]["parts"]
    assert [p["shard"] for p in parts] == ["1/3", "2/3", "3/3"]
    for p in parts:  # each part kept whole, its own seal intact
        assert verify(pack / p["copy"]).ok
        assert p["signed_by"] and len(p["manifest_sha256"]) == 64
    page = (pack / "report.html").read_text()
    assert "Merged from 3 parts" in page and parts[0]["manifest_sha256"] in page
    junit = (pack / "junit.xml").read_text()
    assert junit.count("<testcase") == 3 + len(ELEMENTS) * len(DIRECTIONS)


def test_an_incomplete_part_makes_the_campaign_incomplete(parts_root: Path,
                                                         tmp_path: Path) -> None:
    packs = [part_pack(parts_root, fake_part(1, 2, incomplete="interrupted (Ctrl-C)")),
             part_pack(parts_root, fake_part(2, 2))]
    done = merge(*packs, reports=tmp_path / "merged")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "campaign INCOMPLETE: shard 1/2: interrupted (Ctrl-C)" in done.stdout


def _other_campaign(root: Path) -> Path:
    return part_pack(root.parent / "other", fake_part(2, 2), scenario_text="sweep: {settle_s: 1}\n")


def _tampered(root: Path) -> Path:
    pack = part_pack(root, fake_part(2, 2))
    data = json.loads((pack / "results.json").read_text())
    data["failures"][0]["cells"][0]["outage_ms"] = 0.0  # a better figure, after sealing
    (pack / "results.json").write_text(json.dumps(data))
    return pack


def _whole(root: Path) -> Path:
    pack = part_pack(root, fake_part(2, 2))
    data = json.loads((pack / "results.json").read_text())
    data["shard"] = None
    (pack / "results.json").write_text(json.dumps(data))
    write_manifest(pack, None)
    return pack


@pytest.mark.parametrize(("second", "says"), [
    (_other_campaign, r"other/n1-2-of-2: not a shard of the same campaign as .*n1-1-of-2: its "
                      r"sweep file differs"),
    (lambda root: part_pack(root.parent / "again", fake_part(1, 2)),
     r"shard 1/2 given twice: .*n1-1-of-2 and .*again/n1-1-of-2"),
    (lambda root: part_pack(root, fake_part(2, 3)),
     r"n1-2-of-3: shard 2/3, but .*n1-1-of-2 is shard 1/2"),
    (lambda root: None, r"campaign n1: missing shard\(s\) 2/2 \(failures: link r1:eth2 -- "
                        r"r3:eth1, router r1\)"),
    (_tampered, r"n1-2-of-2: fails verification: results.json: changed \(hash differs"),
    (_whole, r"n1-2-of-2: a whole campaign, not a shard of one"),
])
def test_parts_that_are_not_one_whole_campaign_are_refused_in_one_line(
        parts_root: Path, tmp_path: Path, second: Any, says: str) -> None:
    first = part_pack(parts_root, fake_part(1, 2))
    other = second(parts_root)
    done = merge(first, *([other] if other else []), reports=tmp_path / "merged")
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ") and "Traceback" not in done.stderr
    assert re.search(says, line), line
    assert not (tmp_path / "merged").exists() or not list((tmp_path / "merged").iterdir())


def test_overlapping_parts_are_refused(parts_root: Path) -> None:
    from harness.report.merge_pack import read_part
    from harness.sweep.merge import check_parts
    a, b = (read_part(part_pack(parts_root, fake_part(k, 2))) for k in (1, 2))
    b.shard["failures"].append(ELEMENTS[0])  # a part claiming another's failure
    with pytest.raises(MergeError, match=r"n1-1-of-2 and .*n1-2-of-2 overlap: both hold "
                                         r"link r1:eth1 -- r2:eth1"):
        check_parts([a, b])


def test_a_shard_of_a_sweep_file_is_collected_as_its_cells() -> None:
    from conftest import ROOT

    from harness.scenario.load import load_scenario
    path = "scenarios/hospital-core-n1.yml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                           "no:cacheprovider", path, "--failover-shard", "2/3"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [line.split("::", 1)[1] for line in proc.stdout.splitlines() if "::" in line]
    loaded = load_scenario(ROOT / path)
    critical = [label for cf in loaded.flows if cf.critical
                for label, _, _ in cf.flow.directions()]
    mine = Shard(2, 3).take(loaded.failures)
    assert ids == ["shard[2/3]::preflight", *[f"shard[2/3]::cell[{f.element} | {d}]"
                                              for f in mine for d in critical],
                   "shard[2/3]::outcome", "shard[2/3]::restore"]
    bad = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", path],
                         capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "FAILOVER_SHARD": "3/2"})
    assert bad.returncode == 4 and "ERROR: --failover-shard/$FAILOVER_SHARD: shard 3/2: " \
        "want K/N with 1 <= K <= N" in bad.stderr, bad.stdout + bad.stderr
