"""A watch's report, from its results.json: the verdict, every outage (incidents: flows that
failed together) with its nearest mark, the marks, each flow direction's totals against its
SLA. Self-contained HTML in the style of the other reports; everything escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.report.html import duration, table, utc
from harness.report.page import CSS
from harness.report.sweep_html import problems, provenance


def headline(r: dict[str, Any]) -> str:
    ok = r["outcome_as_expected"]
    word = "Every critical flow within its SLA" if ok else "NOT every critical flow within " \
        "its SLA"
    took = max(0, r["ended_ns"] - r["started_ns"]) / 1e9
    return (f'<p class="{"passed" if ok else "failed"}"><strong>{word}</strong>: watch '
            f"<code>{escape(r['scenario'])}</code> on <code>{escape(r['topology'])}</code> "
            f"from {utc(r['started_ns'])} to {utc(r['ended_ns'])} ({took:.0f} s of "
            f"{r['duration_s']:g} s asked; {escape(r['ended'] or 'stopped')}): "
            f"{len(r['incidents'])} outage(s), {len(r['marks'])} mark(s). Nothing was "
            "injected by the harness.</p>" + problems(r, "Watch", "flows"))


def _near(near: dict[str, Any] | None) -> str:
    return f"{escape(near['text'])} ({near['offset_ms'] / 1e3:+.3f} s)" if near else "-"


def outages(r: dict[str, Any]) -> str:
    rows = [[str(n), utc(i["start_ns"]), utc(i["end_ns"] or 0) if i["end_ns"] else
             "not over", duration(i["duration_ms"], "not over"),
             escape(", ".join(f"{o['direction']} ({o['lost']} lost, {o['outage_ms']:.0f} ms)"
                              for o in i["outages"])), _near(i["nearest"])]
            for n, i in enumerate(r["incidents"], start=1)]
    return ("<h2>Outages</h2><p>Each row is an incident: the outages of flow directions that "
            "overlapped in time. An outage runs from the send time of its first lost probe to "
            "the send time of the first probe received after it; its figure in ms is "
            "loss-derived (probes lost / rate). The nearest mark is the one closest in time "
            "to the start (+: the outage began after it).</p>"
            + (table("verdicts", ["#", "start (UTC)", "end", "duration", "flows hit",
                                  "nearest mark"], rows) if rows else "<p>No outage.</p>"))


def marks(r: dict[str, Any]) -> str:
    start = r["started_ns"]
    rows = [[utc(m["wall_ns"]), f"{(m['wall_ns'] - start) / 1e9:+.1f} s", escape(m["text"]),
             escape(m["source"])] for m in r["marks"]]
    return "<h2>Marks</h2>" + (table("marks", ["instant (UTC)", "from the start", "mark",
                                               "from"], rows) if rows else "<p>No mark.</p>")


def flows(r: dict[str, Any]) -> str:
    rows = []
    for t in r["totals"]:
        cls = "passed" if t["passed"] else "failed"
        verdict = ("passed" if t["passed"] else "FAILED: " + "; ".join(t["reasons"])) \
            if t["critical"] else "information"
        rows.append([escape(t["direction"]), str(t["sent"]), str(t["received"]),
                     str(t["lost"]), str(t["outages"]), f"{t['longest_ms']:.0f}",
                     f"{t['total_ms']:.0f}", f"{t['sla_ms']:.0f}",
                     f'<span class="{cls}">{escape(verdict)}</span>'])
    return ("<h2>Flows over the whole watch</h2><p>A critical direction passes when every one "
            "of its outages is within its SLA and it delivered again by the end.</p>"
            + table("verdicts", ["direction", "sent", "received", "lost", "outages",
                                 "longest ms", "total ms", "SLA ms", "verdict"], rows))


def watch_report(r: dict[str, Any]) -> str:
    """The whole HTML document."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Watch '
            f"{escape(r['scenario'])}</title><style>{CSS}</style></head><body>"
            f'<div class="failover-report"><h1>Watch: {escape(r["scenario"])}</h1>'
            + headline(r) + outages(r) + marks(r) + flows(r) + provenance(r)
            + "</div></body></html>\n")
