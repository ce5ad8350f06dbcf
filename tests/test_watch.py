"""The watch's pure parts: the streaming outage detector (against the whole-run analysis),
incidents and nearest marks, durations, marks between processes, and `failover mark` with no
watch running (no lab)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from cli_run import failover
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli.watch import load_watched, parse_duration
from harness.errors import HarnessError, InputError
from harness.probes.analysis import analyse
from harness.watch.marks import Mark, MarkBoard, add_mark, running
from harness.watch.results import DirectionOutage, incidents
from harness.watch.stream import SETTLE_NS, DirectionStream

MS = 1_000_000
T0 = 1_700_000_000 * 10**9
ROOT = Path(__file__).resolve().parent.parent


def table(seqs: list[int]) -> np.ndarray:
    """Probes sent every 1 ms from T0, received in the order given, 1 ms apart."""
    s = np.asarray(seqs, dtype=np.int64)
    return np.column_stack((s, T0 + s * MS, T0 + np.arange(len(s)) * MS + 50_000))


def streamed(rows: np.ndarray, batches: int, sent: int) -> DirectionStream:
    stream = DirectionStream("f", 1000)
    for part in np.array_split(rows, batches):
        stream.add(part[:, 0], part[:, 1], part[:, 2])
    return stream


arrival_orders = st.lists(st.integers(0, 400), min_size=1, max_size=300)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(arrival_orders, st.integers(1, 7), st.integers(0, 30))
def test_streamed_outages_are_the_whole_run_analysis(seqs: list[int], batches: int,
                                                     extra: int) -> None:
    """Any arrival order (gaps, reordering, duplicates, in any batches): the same outages,
    counts and times as analysing the whole run at once (`analyse`)."""
    sent = max(seqs) + 1 + extra
    rows = table(seqs)
    whole = analyse("f", rows, sent=sent, rate=1000, first_send_ns=T0)
    got = streamed(rows, min(batches, len(seqs)), sent).result(sent, T0)
    assert [(o.first_seq, o.last_seq, o.start_ns, o.end_ns) for o in got.outages] == \
        [(o.first_seq, o.last_seq, o.start_ns, o.end_ns) for o in whole.outages]
    assert (got.received, got.lost, got.duplicates, got.reordered) == \
        (whole.received, whole.lost, whole.duplicates, whole.reordered)


def test_an_outage_is_told_once_settled_and_a_late_probe_fills_it() -> None:
    stream = DirectionStream("f", 1000)
    rows = table([0, 1, 2, 5, 6, 3])  # 3 and 4 missing when 5 arrives; 3 comes late
    stream.add(rows[:5, 0], rows[:5, 1], rows[:5, 2])
    closed = int(rows[3, 2])
    assert stream.settled(closed) == []  # not settled yet: a late probe may still come
    stream.add(rows[5:, 0], rows[5:, 1], rows[5:, 2])
    (told,) = stream.settled(closed + SETTLE_NS + 1)
    assert (told.first_seq, told.last_seq, told.start_ns, told.end_ns) == \
        (4, 4, T0 + 4 * MS, T0 + 5 * MS)
    assert stream.settled(closed + 2 * SETTLE_NS) == []  # told once
    assert (stream.received, stream.reordered) == (6, 1)


def test_an_outage_open_at_the_end_never_recovered() -> None:
    rows = table(list(range(10)))
    result = streamed(rows, 2, 10).result(25, T0)
    (o,) = result.outages
    assert (o.first_seq, o.last_seq, o.start_ns, o.end_ns) == (10, 24, T0 + 10 * MS, None)
    assert not result.recovered


def out(direction: str, start_ms: int, end_ms: int | None) -> DirectionOutage:
    return DirectionOutage(direction, T0 + start_ms * MS,
                           None if end_ms is None else T0 + end_ms * MS, 1, 1.0)


def test_overlapping_outages_are_one_incident_with_its_nearest_mark() -> None:
    marks = [Mark("core1 reload started", T0 + 900 * MS, "keyboard"),
             Mark("core1 back", T0 + 5_000 * MS, "failover mark")]
    found = incidents([out("b", 1_002, 1_070), out("a", 1_000, 1_060),
                       out("a", 4_000, 4_010), out("c", 6_000, None), out("a", 7_000, 7_001)],
                      marks)
    assert [(i.directions, i.start_ns - T0, i.duration_ms) for i in found] == [
        (["a", "b"], 1_000 * MS, 70.0), (["a"], 4_000 * MS, 10.0),
        (["a", "c"], 6_000 * MS, None)]  # c never recovered: everything after joins it
    near = [(i.nearest.text, i.nearest.offset_ms) for i in found if i.nearest]
    assert near == [("core1 reload started", 100.0), ("core1 back", -1_000.0),
                    ("core1 back", 1_000.0)]
    assert incidents([out("a", 1, 2)], [])[0].nearest is None


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("10m", 600), ("3h", 10_800),
                                               ("1h30m", 5_400), ("45", 45), ("0.5m", 30)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3d", "h", "-5s", "0s", "25h", "3 h", "1e3s"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text)


@pytest.fixture
def watch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAILOVER_WATCH_DIR", str(tmp_path / "watch"))
    return tmp_path / "watch"


def test_mark_with_no_watch_running_is_one_line_exit_2(watch_dir: Path) -> None:
    """The real command, as another terminal runs it."""
    env = {**os.environ, "FAILOVER_WATCH_DIR": str(watch_dir)}
    done = subprocess.run([sys.executable, "-c", "from harness.cli import main; main()",
                           "mark", "core1 reload started"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: no watch is running: start one with `failover watch`"]


def test_marks_reach_the_running_watch(watch_dir: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with MarkBoard() as board:
        assert list(running()) == [os.getpid()]
        code, stdout, _ = failover(capsys, monkeypatch, "mark", "  core1   reload started ")
        assert code == 0 and f"mark added to watch {os.getpid()}" in stdout
        _, second = add_mark("core1 back")
        found = board.new()
        assert [(m.text, m.source) for m in found] == [
            ("core1 reload started", "failover mark"), ("core1 back", "failover mark")]
        assert found[1].wall_ns == second.wall_ns
        assert board.new() == []
        with pytest.raises(HarnessError, match="no watch with pid 1 "):
            add_mark("x", pid=1)
        with pytest.raises(HarnessError, match="one printable line"):
            add_mark("a\x1b[31m")
    assert running() == {}
    code, _, err = failover(capsys, monkeypatch, "mark", "late")
    assert code == 2 and "no watch is running" in err


def test_a_killed_watchs_registration_is_ignored(watch_dir: Path) -> None:
    watch_dir.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (watch_dir / f"{dead}.marks").write_text("")
    (watch_dir / f"{dead}.json").write_text(
        f'{{"pid": {dead}, "marks": "{watch_dir / f"{dead}.marks"}"}}')
    assert running() == {}
    with MarkBoard():
        assert list(running()) == [os.getpid()]
        assert not (watch_dir / f"{dead}.json").exists()  # cleaned up


def test_a_flows_file_needs_a_topology(tmp_path: Path) -> None:
    flows = ROOT / "scenarios" / "flows" / "hospital-critical.yml"
    with pytest.raises(InputError, match="give the topology with --topology"):
        load_watched(flows, None, tmp_path)
    loaded = load_watched(flows, ROOT / "topologies" / "hospital-core.clab.yml", tmp_path)
    assert (loaded.spec.name, len(loaded.flows)) == ("hospital-core-watch", 6)
    scenario = load_watched(ROOT / "scenarios" / "core1-power-loss.yml", None, tmp_path)
    assert scenario.spec.faults  # given, and not injected by a watch
