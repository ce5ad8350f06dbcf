"""The run timeline chart: an inline, deterministic, accessible SVG (pure unit tests)."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET

from harness.report.timeline import Marker, Row, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
S = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000_000_000_000  # the fault, wall clock

ROWS = [
    Row("ed-patient-records →", True, [(T0 + 3 * MS, T0 + 15 * MS)]),
    Row("ed-patient-records ←", False, [(T0 + 2 * MS, T0 + 1800 * MS), (T0 + 20 * S, None)]),
    Row("voip <nurse> & call →", True, []),
]
MARKERS = [Marker("fault: power loss core1", T0), Marker("restore", T0 + 10 * S)]
TITLE = "core1 power loss — run 7 <audit>"


def render(rows: list[Row] = ROWS, markers: list[Marker] = MARKERS) -> str:
    return timeline_svg(rows, markers, T0 - 2 * S, T0 + 30 * S, TITLE)


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def group(root: ET.Element, suffix: str) -> ET.Element:
    [found] = [g for g in root.iter(f"{SVG}g") if g.get("id") == f"{root.get('id')}-{suffix}"]
    return found


def extent(g: ET.Element) -> tuple[float, float, float, float]:
    """x min, x max, y min, y max of a group's path."""
    path = g.find(f"{SVG}path")
    assert path is not None
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), max(xs), min(ys), max(ys)


def outage_ids(root: ET.Element) -> set[str]:
    prefix = f"{root.get('id')}-outage-"
    return {
        str(el.get("id"))[len(prefix) :]
        for el in root.iter()
        if str(el.get("id", "")).startswith(prefix)
    }


def test_inline_svg_with_class_and_title() -> None:
    svg = render()
    assert svg.startswith("<svg")
    assert "<?xml" not in svg and "DOCTYPE" not in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("class") == "timeline"
    assert root[0].tag == f"{SVG}title"
    assert root[0].text == TITLE
    assert str(root.get("id")).startswith("tl-")


def test_labels_are_text() -> None:
    root = ET.fromstring(render())
    shown = texts(root)
    for label in [r.label for r in ROWS] + [m.label for m in MARKERS] + ["seconds from fault"]:
        assert label in shown
    assert "12 ms" in shown  # the window's length in ms
    assert "DejaVuSans-" not in ET.tostring(root, encoding="unicode")  # no glyph outlines


def test_one_bar_per_window() -> None:
    root = ET.fromstring(render())
    assert outage_ids(root) == {"0-0", "1-0", "1-1"}
    assert outage_ids(ET.fromstring(render(markers=[]))) == {"0-0", "1-0", "1-1"}


def test_rows_top_to_bottom_in_order() -> None:
    root = ET.fromstring(render())
    assert extent(group(root, "outage-0-0"))[3] < extent(group(root, "outage-1-0"))[2]


def test_unrecovered_window_reaches_the_chart_end() -> None:
    root = ET.fromstring(render())
    _, plot_right, _, _ = extent(group(root, "plot-area"))
    _, bar_right, _, _ = extent(group(root, "outage-1-1"))
    assert abs(bar_right - plot_right) < 0.01
    _, recovered_right, _, _ = extent(group(root, "outage-1-0"))
    assert recovered_right < plot_right / 2
    assert any("not recovered" in t for t in texts(root))


def test_short_window_still_visible_with_true_length() -> None:
    root = ET.fromstring(render())
    left, right, _, _ = extent(group(root, "plot-area"))
    bar_left, bar_right, _, _ = extent(group(root, "outage-0-0"))
    assert bar_right - bar_left >= (right - left) / 500 - 1e-6  # 12 ms of 32 s: widened
    assert "12 ms" in texts(root)


def test_markers_drawn() -> None:
    root = ET.fromstring(render())
    cid = root.get("id")
    ids = {el.get("id") for el in root.iter()}
    assert {f"{cid}-marker-0", f"{cid}-marker-1"} <= ids


def test_deterministic() -> None:
    assert render() == render()
    other = timeline_svg(ROWS, MARKERS, T0 - 2 * S, T0 + 31 * S, TITLE)
    assert ET.fromstring(other).get("id") != ET.fromstring(render()).get("id")


def test_thread_safe() -> None:
    expected = render()
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(render())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 3


def test_ids_unique_and_namespaced() -> None:
    root = ET.fromstring(render())
    cid = str(root.get("id"))
    ids = [str(el.get("id")) for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert all(i == cid or i.startswith(cid + "-") for i in ids)


def test_no_rows() -> None:
    svg = timeline_svg([], [], T0, T0 + 10 * S, "nothing")
    root = ET.fromstring(svg)
    assert root.get("class") == "timeline"
    assert outage_ids(root) == set()
    assert "no flows measured" in texts(root)
