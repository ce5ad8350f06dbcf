"""An N-1 campaign's report, from its results.json: the verdict, the single points of
failure, a heatmap of flows against failures (the worst outage per cell, coloured by SLA, the
prediction marked), the surprises, each failure's timeline, and where it ran. Self-contained
HTML; everything escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.report.html import utc
from harness.report.page import CSS

HEAT_CSS = """
.failover-report td.ok { background: #d9f2de; } .failover-report td.loss { background: #fff1c2; }
.failover-report td.miss { background: #ffc9c9; } .failover-report td.spof { background: #e4d4f4; }
.failover-report td.none { background: #eee; color: #777; }
.failover-report td.heat { text-align: right; min-width: 4em; }
.failover-report .legend span { padding: 1px 6px; margin-right: 4px; }
"""


def _cell_class(cell: dict[str, Any]) -> str:
    if not cell["passed"]:
        return "miss"
    return "loss" if cell["outage_ms"] else "ok"


def headline(r: dict[str, Any]) -> str:
    spofs = r["single_points"]
    ok = r["outcome_as_expected"]
    injected = [f for f in r["failures"] if f["fault_ns"]]
    word = "No single failure breaks a critical flow" if ok else \
        "NOT every single failure is survived"
    lines = [f'<p class="{"passed" if ok else "failed"}"><strong>{word}</strong>: sweep '
             f"<code>{escape(r['scenario'])}</code> on "
             f"<code>{escape(r['topology'])}</code>, {len(r['failures'])} single failures, "
             f"{len(injected)} injected and measured, {len(spofs)} single point(s) of "
             "failure.</p>"]
    return "".join(lines) + problems(r, "Sweep", "failures")


def problems(r: dict[str, Any], noun: str, parts: str) -> str:
    """What makes a run's evidence partial or its network changed (a sweep's, a runbook's):
    incomplete, not restored, measurement not sound, state not as before."""
    lines = []
    if r.get("incomplete"):
        lines.append(f'<p class="failed"><strong>{noun} INCOMPLETE</strong>: '
                     f"{escape(r['incomplete'])}. The {parts} measured until then are "
                     "below.</p>")
    lines += [f'<p class="failed"><strong>Fault NOT restored</strong>: {escape(line)}</p>'
              for line in r.get("not_restored", [])]
    lines += [f'<p class="failed">Measurement not sound: {escape(p)}</p>'
              for p in r.get("probe_problems", [])]
    if r.get("state_diff"):
        lines.append('<p class="failed">The network is NOT back as it was: '
                     + escape("; ".join(r["state_diff"][:5])) + "</p>")
    return "".join(lines)


def parts(r: dict[str, Any]) -> str:
    """A shard's place in its campaign, or the parts a merged campaign was made from."""
    shard = r.get("shard")
    if shard:
        return (f'<p class="failed"><strong>Part of a campaign</strong>: shard '
                f"{shard['index']}/{shard['count']}, {len(shard['failures'])} of its "
                f"{len(shard['campaign'])} single failures; the verdict is this part's. Merge "
                "every part into the campaign's pack with <code>failover merge</code>.</p>")
    merged = (r.get("merged") or {}).get("parts")
    if not merged:
        return ""
    rows = "".join(f"<tr><td>{escape(p['shard'])}</td><td><code>{escape(p['copy'])}</code> "
                   f"(from {escape(p['pack'])})</td><td><code>{p['manifest_sha256']}</code>"
                   f"</td><td>{escape(p['signed_by'] or 'UNSIGNED')}</td>"
                   f"<td>{len(p['failures'])}</td><td>{utc(p['started_ns'])}</td></tr>"
                   for p in merged)
    return (f"<h2>Merged from {len(merged)} parts</h2><p>Each part ran its shard of the "
            "failures on its own lab, was verified (MANIFEST and signature) before merging, "
            "and is kept whole in this pack.</p><table><tr><th>shard</th><th>part</th>"
            "<th>its MANIFEST's SHA-256</th><th>signed by</th><th>failures</th>"
            f"<th>started</th></tr>{rows}</table>")


def single_points(r: dict[str, Any]) -> str:
    rows = [f"<tr><td>{escape(f['element'])}</td><td>{escape(', '.join(f['cuts']))}</td>"
            f"<td>{'injected' if f['fault_ns'] else 'not injected'}</td>"
            f"<td>{'known, accepted' if f['accepted'] else 'NEW'}</td></tr>"
            for f in r["failures"] if f["cuts"]]
    if not rows:
        return "<h2>Single points of failure</h2><p>None: every critical flow keeps a path " \
               "through every single failure swept.</p>"
    return ("<h2>Single points of failure</h2><p>Each would leave these critical flows "
            "without any path:</p><table><tr><th>failure</th><th>critical flows cut</th>"
            "<th></th><th>accepted in the sweep</th></tr>" + "".join(rows) + "</table>")


def heatmap(r: dict[str, Any]) -> str:
    directions = [d["name"] for d in r["directions"]]
    head = "".join(f"<th>{escape(d)}</th>" for d in directions)
    rows = []
    for f in r["failures"]:
        cells = {c["direction"]: c for c in f["cells"]}
        tds = []
        for d in directions:
            cell = cells.get(d)
            if cell is None:
                cls = "spof" if f["cuts"] else "none"
                tds.append(f'<td class="heat {cls}">{"SPOF" if f["cuts"] else "-"}</td>')
                continue
            mark = ("&#9679; " if cell["predicted_affected"] else "") + \
                ("! " if cell["surprise"] else "")
            tds.append(f'<td class="heat {_cell_class(cell)}" title="SLA '
                       f'{cell["sla_ms"]:.0f} ms">{mark}{cell["outage_ms"]:.0f}</td>')
        rows.append(f"<tr><th>{escape(f['element'])}</th>{''.join(tds)}</tr>")
    legend = ('<p class="legend"><span class="ok" style="background:#d9f2de">no loss</span>'
              '<span style="background:#fff1c2">loss within SLA</span>'
              '<span style="background:#ffc9c9">SLA missed</span>'
              '<span style="background:#e4d4f4">single point of failure, not injected</span>'
              " &#9679; predicted affected (a forwarding path crosses the failure); ! surprise"
              " (lost probes though no path crosses it, or none though every path does)."
              " Cells: the worst outage, failover or failback, in ms (loss-derived).</p>")
    return ("<h2>Flows against failures</h2>" + legend + f"<table><tr><th>failure</th>{head}"
            "</tr>" + "".join(rows) + "</table>")


def surprises(r: dict[str, Any]) -> str:
    rows = [f"<tr><td>{escape(f['element'])}</td><td>{escape(c['direction'])}</td>"
            f"<td>{escape(c['surprise'])}</td><td>{c['outage_ms']:.0f}</td></tr>"
            for f in r["failures"] for c in f["cells"] if c["surprise"]]
    if not rows:
        return "<h2>Surprises</h2><p>None: every measurement matched its prediction.</p>"
    return ("<h2>Surprises</h2><p>Where the measurement disagreed with the prediction read "
            "from the forwarding tables: a path the tables do not show (policy routing, a "
            "static route, a hash), or protection the tables do not show.</p><table><tr>"
            "<th>failure</th><th>flow direction</th><th>what</th><th>outage ms</th></tr>"
            + "".join(rows) + "</table>")


def timelines(r: dict[str, Any]) -> str:
    parts = ["<h2>Each failure</h2>"]
    for f in r["failures"]:
        parts.append(f"<h3>{escape(f['element'])}</h3>")
        if not f["fault_ns"]:
            parts.append(f"<p>Not injected: {escape(f['skipped'] or 'the sweep stopped before')}"
                         "</p>")
            continue
        fault = f["fault_ns"]
        events = [("fault injected", fault), ("restored", f["restore_ns"]),
                  ("reconverged and clean", f["end_ns"])]
        rows = [f"<tr><td>{escape(what)}</td><td>{utc(ns)}</td>"
                f"<td>{(ns - fault) / 1e6:+.0f} ms</td></tr>" for what, ns in events if ns]
        lost = [c for c in f["cells"] if c["failover"]["lost"] or c["failback"]["lost"]]
        rows += [f"<tr><td>{escape(c['direction'])} lost probes</td><td></td><td>failover "
                 f"{c['failover']['outage_ms']:.0f} ms (first loss "
                 f"{c['failover']['first_loss_ms'] or 0:+.0f} ms), failback "
                 f"{c['failback']['outage_ms']:.0f} ms</td></tr>" for c in lost]
        parts.append(f"<p>{escape(f['fault'])}</p><table><tr><th>event</th><th>UTC</th>"
                     "<th>after the fault</th></tr>" + "".join(rows) + "</table>")
    return "".join(parts)


def provenance(r: dict[str, Any]) -> str:
    ctx = r.get("context", {})
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                   for k, v in ctx.items())
    sources = sorted(set(r.get("prediction_source", {}).values()))
    return (f"<h2>Where and when</h2><table>{rows}<tr><th>started</th><td>"
            f"{utc(r['started_ns'])}</td></tr><tr><th>ended</th><td>{utc(r['ended_ns'])}"
            f"</td></tr><tr><th>predictions read from</th><td>{escape(', '.join(sources))}"
            "</td></tr></table>")


def sweep_body(r: dict[str, Any]) -> str:
    """The report's sections within the evidence report's styled container (its CSS and
    `HEAT_CSS`)."""
    return (f'<div class="failover-report"><style>{HEAT_CSS}</style><h1>N-1 sweep: '
            f"{escape(r['scenario'])}</h1>" + headline(r) + parts(r) + single_points(r)
            + heatmap(r) + surprises(r) + timelines(r) + provenance(r) + "</div>")


def sweep_report(r: dict[str, Any]) -> str:
    """The whole HTML document, in the style of a scenario's report."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>N-1 sweep '
            f"{escape(r['scenario'])}</title><style>{CSS}</style></head><body>"
            f"{sweep_body(r)}</body></html>\n")
