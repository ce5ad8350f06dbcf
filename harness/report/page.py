"""The pack's report.html: one self-contained page (inline CSS and SVG, no script), led by the
verdict, that prints to PDF without cut tables or a chart off the page."""

from __future__ import annotations

import re
from html import escape

from harness.report.html import Results, sections, verdict_words
from harness.report.terms import definitions

CSS = """
.failover-report { font: 14px/1.4 'DejaVu Sans', Verdana, Arial, sans-serif; color: #222;
  max-width: 75em; }
.failover-report h1 { font-size: 1.5em; margin: 0.3em 0; }
.failover-report h2 { font-size: 1.2em; margin: 1.2em 0 0.4em; border-bottom: 1px solid #ccc; }
.failover-report h3 { font-size: 1em; margin: 0.8em 0 0.3em; }
.failover-report table { border-collapse: collapse; margin: 0.4em 0 0.8em; }
.failover-report th, .failover-report td { border: 1px solid #bbb; padding: 2px 6px;
  text-align: left; vertical-align: top; }
.failover-report td { overflow-wrap: break-word; }
.failover-report th { background: #f0f0f0; }
.failover-report table.verdicts td, .failover-report table.outages td { text-align: right; }
.failover-report table.verdicts td:first-child,
.failover-report table.outages td:first-child { white-space: nowrap; }
.failover-report table.verdicts td:first-child, .failover-report table.verdicts td:nth-child(2),
.failover-report table.verdicts td:last-child, .failover-report table.outages td:first-child {
  text-align: left; }
.failover-report pre { white-space: pre-wrap; overflow-wrap: break-word; margin: 0;
  font-size: 0.9em; }
.failover-report .passed { color: #1a7f37; } .failover-report .failed { color: #cf222e; }
.failover-report p.verdict { font-size: 1.3em; margin: 0.3em 0 0.6em; }
.failover-report .timeline-chart svg { max-width: 100%; height: auto; }
.failover-report dt { font-weight: bold; margin-top: 0.4em; }
.failover-report dd { margin: 0 0 0 1.5em; }
@page { size: A4; margin: 12mm 10mm; }
@media print {
  .failover-report { font-size: 8.5pt; max-width: none; -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
  .failover-report h2, .failover-report h3, .failover-report dt { break-after: avoid; }
  .failover-report tr, .failover-report .timeline-chart, .failover-report dt,
  .failover-report dd { break-inside: avoid; }
  .failover-report thead { display: table-header-group; }
  .failover-report table { width: 100%; }
  .failover-report .timeline-chart svg { width: auto; max-height: 240mm; }
}
"""


def _slug(title: str) -> str:
    return re.sub(r"[^a-z]+", "-", title.lower()).strip("-")


def body(r: Results, scenario_text: str, svg: str | None = None) -> str:
    """The report's sections and the definitions, within their styled container."""
    parts = [*sections(r, scenario_text, svg), ("Definitions", definitions())]
    return (f'<div class="failover-report"><h1>Failover test: {escape(r["scenario"])}</h1>'
            + "".join(f'<section id="{_slug(title)}"><h2>{escape(title)}</h2>{html}</section>'
                      for title, html in parts) + "</div>")


def report_page(r: Results, scenario_text: str, svg: str | None = None) -> str:
    """The whole HTML document."""
    title = f"Failover test {r['scenario']}: {verdict_words(r)}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>"
            f"<body>{body(r, scenario_text, svg)}</body></html>\n")
