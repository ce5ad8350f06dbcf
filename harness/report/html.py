"""The report's sections as HTML fragments, from a run's results (results.json), in a network
team's words. Everything is escaped; nothing here reads the network or the environment. The
pack's page (`harness.report.page`) and pytest-html's session summary are made of them."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

Results = dict[str, Any]
NETWORKS = {"lab": "the built-in lab", "devices": "real devices, through NAPALM and SSH"}


def utc(ns: int) -> str:
    """A wall-clock instant as ISO 8601 UTC with milliseconds."""
    if not ns:
        return "-"
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat(timespec="milliseconds")


def duration(ms: float | None, missing: str = "not seen") -> str:
    """'32.0 ms', '11.20 s', or `missing` for None."""
    if ms is None:
        return missing
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1e3:.2f} s"


def table(cls: str, head: list[str], rows: list[list[str]], head_html: str = "") -> str:
    """A table of already escaped cells (`head_html`: a ready header instead of `head`)."""
    th = head_html or "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead>{th}</thead><tbody>{body}</tbody></table>'


def _pre(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


def _mark(ok: bool, text: str) -> str:
    return f'<span class="{"passed" if ok else "failed"}">{escape(text)}</span>'


def verdict_words(r: Results) -> str:
    """The verdict in one line of plain text."""
    met = "SLA met" if r["sla_met"] else "SLA MISSED"
    if not r["flows"]:
        met = "SLA not judged (no flow measured)"
    elif r["expect"] == "fail":
        met += " (control scenario: expected to miss its SLA, " + (
            "and it did)" if not r["sla_met"] else "but it did NOT)")
    return f"{met}; outcome {'as expected' if r['outcome_as_expected'] else 'NOT as expected'}"


def headline(r: Results) -> str:
    """The verdict, then whatever makes the run incomplete or unsound, in red."""
    ok = r["outcome_as_expected"]
    lines = [f'<p class="verdict {"passed" if ok else "failed"}"><strong>'
             f'{escape(verdict_words(r))}</strong>: scenario <code>{escape(r["scenario"])}'
             f'</code> on <code>{escape(r["topology"])}</code> '
             f'({NETWORKS.get(r.get("network", "lab"), "?")}).</p>']
    if r.get("incomplete"):
        lines.append(f'<p class="failed"><strong>Run INCOMPLETE</strong>: '
                     f'{escape(r["incomplete"])}. What was measured until then is below.</p>')
    lines += [f'<p class="failed"><strong>Fault NOT restored</strong>: {escape(line)}</p>'
              for line in r.get("not_restored", [])]
    if r.get("restored") and (r.get("incomplete") or r.get("not_restored")):
        lines.append(f'<p>Restored: {escape("; ".join(r["restored"]))}.</p>')
    if r.get("aborted"):
        lines.append(f'<p class="failed">Hard abort: {escape(r["aborted"])}</p>')
    lines += [f'<p class="failed">Measurement not sound: {escape(p)}</p>'
              for p in r.get("probe_problems", [])]
    if r.get("state_diff"):
        lines.append('<p class="failed">The network is NOT back as it was (see "Device state '
                     'before and after").</p>')
    return "".join(lines)


def key_figures(r: Results) -> str:
    """What an auditor asks first: how many critical flows held, how long recovery took."""
    critical = [v for v in r["flows"] if v["critical"]]
    held = sum(v["passed"] for v in critical)
    rec = r.get("recovery") or {}
    hold_s = (r["restore_ns"] - r["fault_ns"]) / 1e9 if r["restore_ns"] and r["fault_ns"] else 0
    faults = "; ".join(s["what"] for s in r["inject_stamps"]) or "none injected"
    rows = [["critical flow directions within their SLA",
             _mark(held == len(critical) and bool(critical), f"{held} of {len(critical)}")],
            ["fault", f"{escape(faults)}, at {utc(r['fault_ns'])}"],
            ["restored", f"{utc(r['restore_ns'])} ({hold_s:.1f} s after the fault)"
             if r["restore_ns"] else _mark(False, "not restored")],
            ["fault to every flow delivering again", escape(duration(rec.get("after_fault_ms")))],
            ["restore to every flow delivering again",
             escape(duration(rec.get("after_restore_ms")))],
            ["restore to the network seen converged (at the latest)",
             escape(duration(rec.get("converged_ms")))],
            ["fault to full recovery (includes the fault's hold)",
             escape(duration(rec.get("fault_to_full_ms")))]]
    return table("key-figures", [], rows, head_html="<tr><th>measure</th><th>value</th></tr>")


FLOW_HEAD = ("<tr><th rowspan=2>flow direction</th><th rowspan=2>critical</th>"
             "<th colspan=4>failover (fault held)</th><th colspan=4>failback (after restore)</th>"
             "<th rowspan=2>verdict</th></tr><tr>"
             + "<th>SLA ms</th><th>outage ms (RFC 6412)</th><th>probes lost</th>"
               "<th>recovered after ms</th>" * 2 + "</tr>")


def _phase_cells(sla_ms: float, p: dict[str, Any]) -> list[str]:
    back = "-" if not p["lost"] else f'{p["recovery_ms"]:.1f}' if p["recovered"] \
        and p["recovery_ms"] is not None else _mark(False, "never")
    return [f"{sla_ms:.0f}", f'{p["outage_ms"]:.1f}', str(p["lost"]), back]


def flows(r: Results) -> str:
    """Per flow direction: each phase's SLA, loss-derived outage, probes lost, recovery."""
    rows = []
    for v in r["flows"]:
        reasons = "; ".join(v["failover_verdict"]["reasons"] + v["failback_verdict"]["reasons"])
        rows.append([escape(v["direction"]), "yes" if v["critical"] else "no",
                     *_phase_cells(v["sla_ms"], v["failover"]),
                     *_phase_cells(v["failback_sla_ms"], v["failback"]),
                     _mark(v["passed"], "PASS" if v["passed"] else "FAIL")
                     + (" " + escape(reasons) if reasons else "")])
    if not rows:
        return "<p>No flow was measured (see above).</p>"
    return table("verdicts", [], rows, head_html=FLOW_HEAD)


def outage_windows(r: Results) -> str:
    """Every outage window of every flow direction, from the fault."""
    rows = [[escape(v["direction"]), f'{(o["start_ns"] - r["fault_ns"]) / 1e6:+.1f}',
             f'{(o["end_ns"] - o["start_ns"]) / 1e6:.1f}' if o["end_ns"] else
             _mark(False, "never recovered"), str(o["last_seq"] - o["first_seq"] + 1)]
            for v in r["flows"] for o in v["result"]["outages"]]
    return table("outages", ["flow direction", "start, ms from the fault", "length ms",
                             "probes lost"], rows) if rows else \
        "<p>No probe lost during the whole run.</p>"


def outages(v: dict[str, Any], fault_ns: int) -> str:
    """One flow direction's outage windows, relative to the fault."""
    return outage_windows({"flows": [v], "fault_ns": fault_ns})


def changes(r: Results) -> str:
    """Every change the harness made, when (both ends of the call), and what it pushed."""
    rows = []
    for phase, stamps in (("fault", r["inject_stamps"]), ("restore", r["restore_stamps"])):
        for s in stamps:
            rows.append([phase, escape(s["what"]), utc(s["wall_start_ns"]),
                         f'{(s["mono_end_ns"] - s["mono_start_ns"]) / 1e6:.0f}',
                         _pre(s["detail"]) if s.get("detail") else "none"])
    return table("changes", ["step", "change", "started (UTC)", "took ms",
                             "configuration diff pushed"], rows)


def state(r: Results) -> str:
    diff = r.get("state_diff", [])
    if not diff:
        return (f"<p>Identical before and after the run on {len(r.get('devices', {}))} routers: "
                "OSPF neighbours, BFD peers, routes.</p>")
    return '<p class="failed">The network is NOT back as it was:</p>' + _pre("\n".join(diff))


def provenance(r: Results) -> str:
    """Who ran it, where, when, with which software."""
    ctx = r.get("context", {})
    rows = [["operator", escape(str(ctx.get("operator", "-")))],
            ["machine", escape(str(ctx.get("host", "-")))],
            ["operating system", escape(str(ctx.get("os", "-")))],
            ["command", f'<code>{escape(str(ctx.get("command", "-")))}</code>'],
            ["started (UTC)", utc(r["started_ns"])], ["ended (UTC)", utc(r["ended_ns"])],
            ["Python", escape(str(ctx.get("python", "-")))]]
    rows += [[escape(p), escape(v)] for p, v in ctx.get("packages", {}).items()]
    return table("provenance", [], rows, head_html="<tr><th>what</th><th>value</th></tr>")


def devices(r: Results) -> str:
    """Each router as NAPALM's get_facts and its OSPF neighbours (CLI through TextFSM) saw it."""
    rows = [[escape(n), escape(str(f.get("driver", ""))), escape(str(f.get("vendor", ""))),
             escape(str(f.get("model", ""))), escape(str(f.get("os_version", ""))),
             escape(str(f.get("hostname", f.get("error", "")))), _ospf(f)]
            for n, f in r.get("devices", {}).items()]
    return table("devices", ["router", "driver", "vendor", "model", "OS version", "hostname",
                             "OSPF neighbours"], rows)


def _ospf(facts: dict[str, Any]) -> str:
    """'3 (3 full): 198.18.0.2 eth1 full, ...' or why they could not be read."""
    if "ospf_neighbors" not in facts:
        return escape(str(facts.get("ospf_neighbors_error", "")))
    ns = facts["ospf_neighbors"]
    full = sum(n["state"] == "full" for n in ns)
    return escape(f"{len(ns)} ({full} full): " + ", ".join(
        f"{n['router_id']} {n['interface']} {n['state']}" for n in ns))


def scenario(text: str) -> str:
    return _pre(text) if text else "<p>Not in the pack.</p>"


def chart(r: Results) -> str:
    """The timeline as an SVG document of its own."""
    from harness.report.timeline import Marker, Row, timeline_svg  # matplotlib: ~1 s to import
    rows = [Row(v["direction"], v["passed"],
                [(o["start_ns"], o["end_ns"]) for o in v["result"]["outages"]])
            for v in r["flows"]]
    markers = [Marker(f"fault: {s['what']}", s["wall_start_ns"]) for s in r["inject_stamps"]]
    markers += [Marker(f"restore: {s['what']}", s["wall_start_ns"])
                for s in r["restore_stamps"][:1]]
    return timeline_svg(rows, markers, r["started_ns"], r["ended_ns"],
                        f"{r['scenario']}: outage windows per flow direction")


def timeline(r: Results, svg: str | None = None) -> str:
    if not r["started_ns"]:
        return "<p>No timeline: the probes never started.</p>"
    return f'<div class="timeline-chart">{svg or chart(r)}</div>'


def sections(r: Results, scenario_text: str, svg: str | None = None) -> list[tuple[str, str]]:
    """The report's sections, top to bottom, as (title, HTML) (`svg`: the timeline chart, if
    drawn already)."""
    return [("Verdict", headline(r) + key_figures(r)),
            ("Timeline", timeline(r, svg)),
            ("Flows", flows(r) + "<h3>Outage windows</h3>" + outage_windows(r)),
            ("Changes made", changes(r)),
            ("Device state before and after", state(r) + "<h3>Routers</h3>" + devices(r)),
            ("Provenance", provenance(r) + "<h3>Scenario as run</h3>" + scenario(scenario_text))]
