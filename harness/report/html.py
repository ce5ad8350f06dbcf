"""The report's sections as HTML fragments, from a run's results (results.json): what
pytest-html shows above its test table. Everything is escaped; nothing here reads the
network or the environment."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

Results = dict[str, Any]


def utc(ns: int) -> str:
    """A wall-clock instant as ISO 8601 UTC with milliseconds."""
    if not ns:
        return "-"
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat(timespec="milliseconds")


def _table(cls: str, head: list[str], rows: list[list[str]]) -> str:
    """A table of already escaped cells."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _pre(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


NETWORKS = {"lab": "the built-in lab", "devices": "real devices, through NAPALM and SSH"}


def headline(r: Results) -> str:
    met = r["sla_met"]
    word = "SLA met" if met else "SLA MISSED"
    expect = ("control scenario: expected to miss its SLA, "
              + ("and it did" if not met else "but it did NOT")) if r["expect"] == "fail" else ""
    lines = [f'<p class="verdict {"passed" if met else "failed"}"><strong>{word}</strong>'
             f'{" (" + escape(expect) + ")" if expect else ""}: scenario '
             f'<code>{escape(r["scenario"])}</code> on <code>{escape(r["topology"])}</code> '
             f'({NETWORKS.get(r.get("network", "lab"), "?")}), '
             f'outcome {"as expected" if r["outcome_as_expected"] else "NOT as expected"}.</p>']
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
    return "".join(lines)


def verdict_table(r: Results) -> str:
    rows = []
    for v in r["flows"]:
        reasons = "; ".join(v["failover_verdict"]["reasons"] + v["failback_verdict"]["reasons"])
        mark = "PASS" if v["passed"] else "FAIL"
        rows.append([escape(v["direction"]), "yes" if v["critical"] else "no (information)",
                     f'{v["sla_ms"]:.0f}', f'{v["failover"]["outage_ms"]:.1f}',
                     f'{v["failback_sla_ms"]:.0f}', f'{v["failback"]["outage_ms"]:.1f}',
                     str(v["result"]["sent"]),
                     f'{v["failover"]["lost"]} / {v["failback"]["lost"]}',
                     f'<span class="{"passed" if v["passed"] else "failed"}">{mark}</span> '
                     + escape(reasons)])
    return "<h3>Verdict per critical flow</h3>" + _table(
        "verdicts", ["flow direction", "critical", "failover SLA ms", "failover outage ms",
                     "failback SLA ms", "failback outage ms", "probes sent",
                     "lost (failover / failback)", "verdict"],
        rows)


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
    return f'<h3>Timeline</h3><div class="timeline-chart">{svg or chart(r)}</div>'


def outages(v: dict[str, Any], fault_ns: int) -> str:
    """One flow direction's outage windows, relative to the fault."""
    rows = [[f'{(o["start_ns"] - fault_ns) / 1e6:+.1f}',
             f'{(o["end_ns"] - o["start_ns"]) / 1e6:.1f}' if o["end_ns"] else "never recovered",
             str(o["last_seq"] - o["first_seq"] + 1)] for o in v["result"]["outages"]]
    return _table("outages", ["start ms from fault", "length ms", "probes lost"], rows) \
        if rows else "<p>No probe lost during the whole run.</p>"


def changes(r: Results) -> str:
    """Every change the harness made, when (both ends of the call), and what it pushed."""
    rows = []
    for phase, stamps in (("inject", r["inject_stamps"]), ("restore", r["restore_stamps"])):
        for s in stamps:
            rows.append([phase, escape(s["what"]), utc(s["wall_start_ns"]),
                         f'{(s["mono_end_ns"] - s["mono_start_ns"]) / 1e6:.3f}',
                         _pre(s["detail"]) if s.get("detail") else ""])
    return "<h3>Changes made (fault and restore)</h3>" + _table(
        "changes", ["phase", "change", "started (UTC)", "call ms", "configuration diff pushed"],
        rows)


def state(r: Results) -> str:
    diff = r.get("state_diff", [])
    if not diff:
        body = (f"<p>Identical before and after the run on {len(r.get('devices', {}))} routers: "
                "OSPF neighbours, BFD peers, kernel routes.</p>")
    else:
        body = '<p class="failed">The network is NOT back as it was:</p>' + _pre("\n".join(diff))
    return "<h3>Device state before / after</h3>" + body


def provenance(r: Results, scenario_text: str) -> str:
    """Who ran it, where, when, with which software and device versions; the scenario."""
    ctx = r.get("context", {})
    who = [["operator", escape(str(ctx.get("operator", "-")))],
           ["machine", escape(str(ctx.get("host", "-")))],
           ["OS", escape(str(ctx.get("os", "-")))],
           ["command", f'<code>{escape(str(ctx.get("command", "-")))}</code>'],
           ["started (UTC)", utc(r["started_ns"])], ["ended (UTC)", utc(r["ended_ns"])],
           ["Python", escape(str(ctx.get("python", "-")))]]
    who += [[escape(p), escape(v)] for p, v in ctx.get("packages", {}).items()]
    devices = [[escape(n), escape(str(f.get("driver", ""))), escape(str(f.get("vendor", ""))),
                escape(str(f.get("model", ""))), escape(str(f.get("os_version", ""))),
                escape(str(f.get("hostname", f.get("error", "")))), _ospf(f)]
               for n, f in r.get("devices", {}).items()]
    return ("<h3>Run</h3>" + _table("provenance", ["", ""], who)
            + "<h3>Devices (NAPALM get_facts; OSPF neighbours from the CLI through TextFSM)</h3>"
            + _table("devices", ["node", "driver", "vendor", "model", "OS version", "hostname",
                                 "OSPF neighbours"], devices)
            + "<h3>Scenario as run</h3>" + _pre(scenario_text))


def _ospf(facts: dict[str, Any]) -> str:
    """'3 (3 full): 198.18.0.2 eth1 full, ...' or why they could not be read."""
    if "ospf_neighbors" not in facts:
        return escape(str(facts.get("ospf_neighbors_error", "")))
    ns = facts["ospf_neighbors"]
    full = sum(n["state"] == "full" for n in ns)
    return escape(f"{len(ns)} ({full} full): " + ", ".join(
        f"{n['router_id']} {n['interface']} {n['state']}" for n in ns))


STYLE = """<style>
.additional-summary { color: #222; }
.additional-summary table { border-collapse: collapse; margin: 0.5em 0 1em; }
.additional-summary th, .additional-summary td { border: 1px solid #ccc; padding: 2px 8px;
  text-align: left; vertical-align: top; }
.additional-summary pre { white-space: pre-wrap; margin: 0; }
.additional-summary .passed { color: #1a7f37; } .additional-summary .failed { color: #cf222e; }
.timeline-chart svg { max-width: 100%; height: auto; }
</style>"""


def sections(r: Results, scenario_text: str, svg: str | None = None) -> list[str]:
    """The report's summary, top to bottom (`svg`: the timeline chart, if drawn already)."""
    return [STYLE, headline(r), verdict_table(r), timeline(r, svg), changes(r), state(r),
            provenance(r, scenario_text)]
