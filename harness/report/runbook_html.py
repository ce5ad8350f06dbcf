"""A runbook's report, from its results.json: the verdict, every step as a window (when,
how long, its worst critical outage against its SLA), the operator steps with both instants
(the key press and the first probe lost), and a map of steps against flow directions.
Self-contained HTML in the style of the other reports; everything escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.report.html import utc
from harness.report.page import CSS
from harness.report.sweep_html import HEAT_CSS, problems


def headline(r: dict[str, Any]) -> str:
    ok = r["outcome_as_expected"]
    word = "Every step within its SLA" if ok else "NOT every step went as planned"
    return (f'<p class="{"passed" if ok else "failed"}"><strong>{word}</strong>: runbook '
            f"<code>{escape(r['scenario'])}</code> on <code>{escape(r['topology'])}</code>, "
            f"{len(r['steps'])} step(s) run, from {utc(r['started_ns'])} to "
            f"{utc(r['ended_ns'])}.</p>" + problems(r, "Runbook", "steps"))


def _worst(step: dict[str, Any]) -> tuple[float, float]:
    """The worst critical outage in the step and its SLA, in ms."""
    critical = [v for v in step["verdicts"] if v["critical"]] or [{"stats": {"outage_ms": 0},
                                                                    "sla_ms": 0}]
    worst = max(critical, key=lambda v: v["stats"]["outage_ms"])
    return worst["stats"]["outage_ms"], worst["sla_ms"]


def _notes(step: dict[str, Any]) -> str:
    notes = [step["failed"], step["aborted"] and f"aborted: {step['aborted']}",
             *(f"restored: {x}" for x in step["restored"]),
             *(f"NOT restored: {x}" for x in step["not_restored"]),
             *(f"{v['direction']}: {'; '.join(v['verdict']['reasons'])}"
               for v in step["verdicts"] if v["critical"] and not v["verdict"]["passed"])]
    return escape("; ".join(n for n in notes if n))


def steps_table(r: dict[str, Any]) -> str:
    start = r["started_ns"]
    rows = []
    for n, s in enumerate(r["steps"], start=1):
        worst, sla = _worst(s)
        cls = "passed" if s["passed"] else "failed"
        rows.append(f"<tr><td>{n}. {escape(s['name'])}</td><td>{escape(s['what'])}</td>"
                    f"<td>{(s['started_ns'] - start) / 1e9:+.1f} s</td>"
                    f"<td>{max(0, s['ended_ns'] - s['started_ns']) / 1e9:.1f} s</td>"
                    f"<td>{worst:.0f} / {sla:.0f}</td><td class=\"{cls}\">"
                    f"{'passed' if s['passed'] else 'FAILED'}</td><td>{_notes(s)}</td></tr>")
    return ("<h2>Steps</h2><p>Each step is a window from its start to the next step's start; "
            "its verdict is every critical flow direction's loss-derived outage in that window "
            "against the step's SLA.</p><table class=\"verdicts\"><tr><th>step</th>"
            "<th>what</th><th>start</th><th>duration</th><th>worst critical outage / SLA ms"
            "</th><th>verdict</th><th>notes</th></tr>" + "".join(rows) + "</table>")


def _instant(ns: int, start: int) -> str:
    return f"{utc(ns)} ({(ns - start) / 1e6:+.0f} ms)" if ns else "-"


def operator_steps(r: dict[str, Any]) -> str:
    rows = []
    for s in (s for s in r["steps"] if s["kind"] == "operator"):
        confirmed, failed = s["confirmed_ns"], s["traffic_failed_ns"]
        skew = f"{(confirmed - failed) / 1e6:+.0f} ms" if confirmed and failed else "-"
        rows.append(f"<tr><td>{escape(s['name'])}</td><td>{escape(s['what'])}</td>"
                    f"<td>{_instant(confirmed, s['started_ns'])}</td>"
                    f"<td>{_instant(failed, s['started_ns'])}</td><td>{skew}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Operator steps</h2><p>Two instants per step, from the prompt: when the "
            "operator confirmed, and when traffic began to fail (the first probe lost, from "
            "the probes). The outage figures count from the probes, so an early or late "
            "confirmation does not move them.</p><table><tr><th>step</th><th>prompt</th>"
            "<th>operator confirmed</th><th>traffic began to fail</th><th>confirmed minus "
            "failed</th></tr>" + "".join(rows) + "</table>")


def step_map(r: dict[str, Any]) -> str:
    directions = [d["name"] for d in r["directions"]]
    rows = []
    for s in r["steps"]:
        cells = {v["direction"]: v for v in s["verdicts"]}
        tds = []
        for d in directions:
            v = cells.get(d)
            if v is None:
                tds.append('<td class="heat none">-</td>')
                continue
            cls = "miss" if v["critical"] and not v["verdict"]["passed"] else \
                "loss" if v["stats"]["lost"] else "ok"
            tds.append(f'<td class="heat {cls}" title="SLA {v["sla_ms"]:.0f} ms">'
                       f'{v["stats"]["outage_ms"]:.0f}</td>')
        rows.append(f"<tr><th>{escape(s['name'])}</th>{''.join(tds)}</tr>")
    head = "".join(f"<th>{escape(d)}</th>" for d in directions)
    return ("<h2>Flows through each step</h2><p>Loss-derived outage in ms within each step "
            "(green: none; yellow: within the step's SLA; red: missed).</p><table><tr><th>"
            f"step</th>{head}</tr>" + "".join(rows) + "</table>")


def runbook_body(r: dict[str, Any]) -> str:
    """The report's sections within the evidence report's styled container (its CSS and
    `HEAT_CSS`)."""
    return (f'<div class="failover-report"><style>{HEAT_CSS}</style><h1>Runbook: '
            f"{escape(r['scenario'])}</h1>" + headline(r) + steps_table(r) + operator_steps(r)
            + step_map(r) + "</div>")


def runbook_report(r: dict[str, Any]) -> str:
    """The whole HTML document."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Runbook '
            f"{escape(r['scenario'])}</title><style>{CSS}</style></head><body>"
            f"{runbook_body(r)}</body></html>\n")
