"""The timeline chart of a failover run, as an inline SVG for the auditor's HTML report.

One horizontal lane per flow direction, each outage window a bar (red: the flow missed its SLA,
orange: the outage stayed within it), labelled with its length; dashed vertical lines for the
events (the fault, the restore). The x axis is seconds from the first marker (the fault).

Drawn with matplotlib's object API (`Figure` with the SVG canvas, never pyplot), so no display is
needed. The SVG is deterministic: the same input gives the same bytes (the pack is hashed), and
text stays text (`svg.fonttype = 'none'`), so labels are searchable and accessible.

Element ids: the root ``<svg>`` gets ``id="tl-<hash>"`` (derived from the input) and every id
inside is prefixed with it, so several charts can be inlined in one page without clashing ids:
the plot area is ``<root id>-plot-area``, each outage bar ``<root id>-outage-<row>-<window>``
(indexes from 0, in the given order) and each marker line ``<root id>-marker-<i>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from xml.sax.saxutils import escape

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.textpath import TextToPath
from matplotlib.transforms import ScaledTranslation, Transform, blended_transform_factory

# matplotlib reads rcParams (svg.hashsalt, svg.fonttype, fonts) from one process-wide dict while
# drawing; our renders are serialised so two threads never see each other's settings.
_LOCK = threading.Lock()

RED = "#d62728"  # outage, the flow missed its SLA
ORANGE = "#ff9f1c"  # outage within the SLA
LANE = "#b0b0b0"
INK = "#222222"
MARKER_INK = "#444444"

FONT = "DejaVu Sans"  # has the arrows of the row labels (→ ←); shipped with matplotlib
FALLBACK_CSS = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, Arial, sans-serif"
LABEL_PT = 9.0
MARKER_PT = 8.0
NOTE_PT = 7.5
TITLE_PT = 11.0

WIDTH_IN = 10.0
ROW_IN = 0.35
MIN_BAR_FRACTION = 1 / 500  # shorter windows are drawn this wide (their note keeps the truth)...
MIN_BAR_PT = 2.5  # ...and never thinner than this, so they show beside an event line
MARKER_LEVEL_PT = 11.0  # vertical step between staggered marker labels
MET = "SLA met"
MISSED = "SLA MISSED"


@dataclass(frozen=True)
class Row:
    label: str  # a flow direction, e.g. "ed-patient-records →"
    passed: bool  # met its SLA
    # outage windows (start_ns, end_ns); end None = never recovered (drawn to the chart end)
    windows: list[tuple[int, int | None]]


@dataclass(frozen=True)
class Marker:
    label: str  # e.g. "fault: power loss core1", "restore"
    at_ns: int


@dataclass(frozen=True)
class _Frame:
    """Where things go: x in seconds from `origin_ns`, sizes in points."""

    origin_ns: int
    lo_ns: int
    hi_ns: int
    axes_w_pt: float
    axes_h_pt: float

    def x(self, ns: int) -> float:
        return (ns - self.origin_ns) / 1e9

    def pt(self, ns: int) -> float:
        """Distance from the plot area's left edge, in points."""
        return (ns - self.lo_ns) / (self.hi_ns - self.lo_ns) * self.axes_w_pt


_TEXT_TO_PATH = TextToPath()


def _text_width_pt(text: str, size: float, bold: bool = False) -> float:
    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    width, _height, _descent = _TEXT_TO_PATH.get_text_width_height_descent(text, prop, False)
    return float(width)


def _nudge(ax: Axes, trans: Transform, dx_pt: float) -> Transform:
    """`trans`, then `dx_pt` points to the right."""
    return trans + ScaledTranslation(dx_pt / 72, 0, ax.figure.dpi_scale_trans)


def _duration_text(ns: int) -> str:
    ms = ns / 1e6
    if ms >= 10:
        return f"{ms:,.0f} ms"
    if ms >= 1:
        return f"{ms:.1f} ms"
    if ms >= 0.01:
        return f"{ms:.2f} ms"
    return "< 0.01 ms"


def _chart_id(
    rows: Sequence[Row], markers: Sequence[Marker], start: int, end: int, title: str
) -> str:
    blob = json.dumps(
        [
            [[r.label, r.passed, [list(w) for w in r.windows]] for r in rows],
            [[m.label, m.at_ns] for m in markers],
            start,
            end,
            title,
        ],
        ensure_ascii=False,
    )
    return "tl-" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _bounds(
    rows: Sequence[Row], markers: Sequence[Marker], start: int, end: int
) -> tuple[int, int]:
    """The chart's time range: [start, end], widened so no window or marker is ever hidden."""
    times = [start, end, *(m.at_ns for m in markers)]
    for row in rows:
        for w_start, w_end in row.windows:
            times.append(w_start)
            if w_end is not None:
                times.append(w_end)
    lo, hi = min(times), max(times)
    if hi <= lo:
        hi = lo + 1_000_000_000  # a degenerate run: show one second
    return lo, hi


def _place_markers(markers: Sequence[Marker], frame: _Frame) -> list[tuple[int, str]]:
    """Stagger the marker labels so none overlap: (level, horizontal alignment) per marker."""
    taken: list[list[tuple[float, float]]] = []
    placed: list[tuple[int, str]] = []
    for marker in markers:
        x = frame.pt(marker.at_ns)
        width = _text_width_pt(marker.label, MARKER_PT) + 6
        span = (x, x + width) if x + width <= frame.axes_w_pt + 20 else (x - width, x)
        align = "left" if span[0] == x else "right"
        level = 0
        while level < len(taken) and any(a < span[1] and span[0] < b for a, b in taken[level]):
            level += 1
        if level == len(taken):
            taken.append([])
        taken[level].append(span)
        placed.append((level, align))
    return placed


@dataclass(frozen=True)
class _Bar:
    window: int  # index in the row's windows
    start_ns: int  # as drawn
    end_ns: int  # as drawn: at least the minimum width, to the chart end if never recovered
    note: str  # the true length


def _bars(row: Row, frame: _Frame) -> list[_Bar]:
    span = frame.hi_ns - frame.lo_ns
    min_ns = round(max(span * MIN_BAR_FRACTION, span * MIN_BAR_PT / frame.axes_w_pt))
    bars = []
    for j, (w_start, w_end) in enumerate(row.windows):
        end = frame.hi_ns if w_end is None else w_end
        note = _duration_text(end - w_start)
        if w_end is None:
            note = f"≥ {note}, not recovered"
        bars.append(_Bar(j, w_start, max(end, w_start + min_ns), note))
    return bars


def _note_width(cluster: list[_Bar]) -> float:
    return _text_width_pt(", ".join(bar.note for bar in cluster), NOTE_PT)


def _clusters(bars: list[_Bar], frame: _Frame) -> list[list[_Bar]]:
    """Bars too close for a note between them share one note ("50 ms, 15 ms"), in time order."""
    clusters: list[list[_Bar]] = []
    for bar in sorted(bars, key=lambda bar: (bar.start_ns, bar.window)):
        if clusters:
            last = clusters[-1]
            room = frame.pt(bar.start_ns) - frame.pt(max(b.end_ns for b in last))
            if room < _note_width(last) + 10:
                last.append(bar)
                continue
        clusters.append([bar])
    return clusters


def _note_spot(cluster: list[_Bar], free: tuple[float, float], frame: _Frame) -> str:
    """Where a cluster's note goes, within the `free` stretch (points): right, left or inside."""
    x0 = frame.pt(min(bar.start_ns for bar in cluster))
    x1 = frame.pt(max(bar.end_ns for bar in cluster))
    width = _note_width(cluster)
    if x1 + 6 + width <= free[1]:
        return "right"
    if x0 - 6 - width >= free[0]:
        return "left"
    if len(cluster) == 1 and x1 - x0 >= width + 6:
        return "inside"
    return "left"


def _draw_notes(ax: Axes, index: int, bars: list[_Bar], frame: _Frame) -> None:
    """Each bar's true length next to it (clusters of close bars share one note)."""
    clusters = _clusters(bars, frame)
    free_from = 0.0
    for k, cluster in enumerate(clusters):
        free_to = frame.pt(clusters[k + 1][0].start_ns) if k + 1 < len(clusters) else None
        spot = _note_spot(cluster, (free_from, frame.axes_w_pt if free_to is None else free_to),
                          frame)
        a = min(bar.start_ns for bar in cluster)
        b = max(bar.end_ns for bar in cluster)
        x, ha, dx, ink = {
            "right": (frame.x(b), "left", 4.0, INK),
            "left": (frame.x(a), "right", -4.0, INK),
            "inside": ((frame.x(a) + frame.x(b)) / 2, "center", 0.0, "white"),
        }[spot]
        free_from = frame.pt(b) + (6 + _note_width(cluster) if spot == "right" else 0)
        trans = _nudge(ax, ax.transData, dx)
        # a white backing keeps the note legible over the lane, the grid and the event lines
        backing = None if ink == "white" else {"facecolor": "white", "edgecolor": "none", "pad": 1}
        ax.text(x, index, ", ".join(bar.note for bar in cluster), transform=trans, ha=ha,
                va="center", fontsize=NOTE_PT, color=ink, zorder=4, clip_on=False, bbox=backing)


def _draw_row(ax: Axes, index: int, row: Row, frame: _Frame) -> None:
    """The lane's baseline, one bar per outage window, and the length notes."""
    ax.plot([frame.x(frame.lo_ns), frame.x(frame.hi_ns)], [index, index], color=LANE,
            linewidth=0.8, zorder=1)
    bars = _bars(row, frame)
    for bar in bars:
        rect = Rectangle(
            (frame.x(bar.start_ns), index - 0.3),
            frame.x(bar.end_ns) - frame.x(bar.start_ns),
            0.6,
            facecolor=ORANGE if row.passed else RED,
            edgecolor="none",
            zorder=3,
            clip_on=False,
        )
        rect.set_gid(f"outage-{index}-{bar.window}")
        ax.add_patch(rect)
    _draw_notes(ax, index, bars, frame)


def _draw_markers(ax: Axes, markers: Sequence[Marker], frame: _Frame) -> None:
    """The event lines and their labels above the plot area."""
    placed = _place_markers(markers, frame)
    blend = blended_transform_factory(ax.transData, ax.transAxes)
    for i, (marker, (level, align)) in enumerate(zip(markers, placed, strict=True)):
        top = 1 + (4 + level * MARKER_LEVEL_PT + MARKER_PT) / frame.axes_h_pt
        x = frame.x(marker.at_ns)
        (line,) = ax.plot([x, x], [0, top], transform=blend, color=MARKER_INK, linewidth=1.0,
                          linestyle=(0, (4, 3)), zorder=2, clip_on=False)
        line.set_gid(f"marker-{i}")
        dx = 3.0 if align == "left" else -3.0
        trans = _nudge(ax, blend, dx)
        ax.text(x, top, marker.label, transform=trans, ha=align, va="top", fontsize=MARKER_PT,
                color=MARKER_INK, clip_on=False, zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})


def _legend(fig: Figure, bottom_frac: float) -> None:
    handles = [
        Patch(facecolor=RED, label="outage — flow missed its SLA"),
        Patch(facecolor=ORANGE, label="outage — within SLA"),
        Line2D([], [], color=MARKER_INK, linestyle=(0, (4, 3)), label="event (fault, restore…)"),
        Line2D([], [], color=LANE, linewidth=0.8, label="flow lane"),
    ]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, bottom_frac), ncol=4,
               frameon=False, fontsize=MARKER_PT, handlelength=1.6, columnspacing=1.5)


def _render(
    rows: Sequence[Row], markers: Sequence[Marker], start_ns: int, end_ns: int, title: str
) -> Figure:
    lo, hi = _bounds(rows, markers, start_ns, end_ns)
    origin = markers[0].at_ns if markers else start_ns
    label_w = max((_text_width_pt(r.label, LABEL_PT) for r in rows), default=0.0)
    left_in = min(max(label_w / 72 + 0.25, 0.8), 4.0)
    right_in = (_text_width_pt(MISSED, NOTE_PT, bold=True) + 14) / 72  # the SLA status column
    lanes = max(len(rows), 1)
    axes_h_in = lanes * ROW_IN + 0.15
    frame0 = _Frame(origin, lo, hi, (WIDTH_IN - left_in - right_in) * 72, axes_h_in * 72)
    levels = len({level for level, _ in _place_markers(markers, frame0)})
    top_in = 0.45 + (levels * MARKER_LEVEL_PT + 6) / 72
    bottom_in = 0.8
    height_in = axes_h_in + top_in + bottom_in

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=72)
    FigureCanvasSVG(fig)
    ax = fig.add_axes((left_in / WIDTH_IN, bottom_in / height_in,
                       1 - (left_in + right_in) / WIDTH_IN, axes_h_in / height_in))
    ax.patch.set_gid("plot-area")
    frame = _Frame(origin, lo, hi, frame0.axes_w_pt, frame0.axes_h_pt)
    ax.set_xlim(frame.x(lo), frame.x(hi))
    ax.set_ylim(lanes - 0.5, -0.5)  # first row at the top
    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=LABEL_PT)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=MARKER_PT)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("seconds from fault" if markers else "seconds from start", fontsize=LABEL_PT)

    status = _nudge(ax, blended_transform_factory(ax.transAxes, ax.transData), 6.0)
    for i, row in enumerate(rows):
        _draw_row(ax, i, row, frame)
        ax.text(1.0, i, MET if row.passed else MISSED, transform=status,
                ha="left", va="center", fontsize=NOTE_PT, clip_on=False,
                color=INK if row.passed else RED, weight="normal" if row.passed else "bold")
    if not rows:
        ax.text(0.5, 0.5, "no flows measured", transform=ax.transAxes, ha="center",
                va="center", fontsize=LABEL_PT, color=MARKER_INK)
    _draw_markers(ax, markers, frame)
    fig.text(0.5, 1 - 0.12 / height_in, title, ha="center", va="top", fontsize=TITLE_PT,
             weight="bold", color=INK)
    _legend(fig, 0.03 / height_in)
    return fig


_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_REFS = re.compile(r'(\sid="|url\(#|xlink:href="#|\shref="#)')


def _namespace_ids(svg: str, cid: str) -> str:
    """Prefix every element id (and every reference to one) with the chart id.

    matplotlib names elements "figure_1", "axes_1", ...; two charts inlined in one HTML page
    would otherwise repeat them. Only tags are touched: text never contains a raw "<".
    """

    def tag(match: re.Match[str]) -> str:
        return _REFS.sub(lambda ref: f"{ref.group(1)}{cid}-", match.group(0))

    return _TAG.sub(tag, svg)


def _finish(svg: str, cid: str, title: str) -> str:
    """Drop the prolog, name and title the root element, give fonts a generic fallback."""
    svg = _namespace_ids(svg[svg.index("<svg") :], cid)
    head_end = svg.index(">") + 1
    head = svg[:head_end].replace("<svg ", f'<svg class="timeline" id="{cid}" role="img" ', 1)
    body = svg[head_end:].replace(f"'{FONT}'", FALLBACK_CSS)
    return f"{head}\n <title>{escape(title)}</title>{body}"


@contextmanager
def _style(cid: str) -> Iterator[None]:
    """matplotlib's defaults (the user's matplotlibrc must not change the pack's bytes), plus ours.

    rcParams is one process-wide dict read while drawing, so renders are serialised.
    """
    with _LOCK, mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": cid,
                "font.family": [FONT],
            }
        )
        yield


def timeline_svg(
    rows: list[Row], markers: list[Marker], start_ns: int, end_ns: int, title: str
) -> str:
    """The run's timeline as SVG text (a root ``<svg class="timeline">``, no XML prolog).

    Times are wall-clock nanoseconds (CLOCK_REALTIME). x = seconds from `markers[0]` (the fault)
    or, without markers, from `start_ns`. The range is [start_ns, end_ns], widened if a window or
    marker falls outside it. A window whose end is None never recovered: it is drawn to the end.
    """
    cid = _chart_id(rows, markers, start_ns, end_ns, title)
    out = io.StringIO()
    with _style(cid):
        fig = _render(rows, markers, start_ns, end_ns, title)
        fig.savefig(out, format="svg", metadata={"Date": None})
    return _finish(out.getvalue(), cid, title)


__all__ = ["Marker", "Row", "timeline_svg"]
