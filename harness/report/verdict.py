"""A pack's verdict as lines of text, whatever its kind (a scenario, an N-1 sweep, a runbook,
a watch): what `failover report` prints, from the same headline its report.html shows."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from harness.report import runbook_html, sweep_html, watch_html
from harness.report.html import verdict_words
from harness.report.runbook_pack import RUNBOOK_ID
from harness.report.sweep_pack import SWEEP_ID
from harness.report.watch_pack import WATCH_ID

HEADLINES: dict[str, Callable[[dict[str, Any]], str]] = {
    SWEEP_ID: sweep_html.headline, RUNBOOK_ID: runbook_html.headline,
    WATCH_ID: watch_html.headline}
_TAG = re.compile(r"<[^>]+>")


def verdict_lines(results: dict[str, Any]) -> list[str]:
    """The verdict first, then what makes the evidence partial or the network changed."""
    headline = HEADLINES.get(results.get("schema", ""))
    if headline is None:  # one scenario's run
        return [f"{verdict_words(results)}: {results['scenario']} on {results['topology']}"]
    paragraphs = (html.unescape(_TAG.sub("", p)).strip()
                  for p in headline(results).split("</p>"))
    return [" ".join(p.split()) for p in paragraphs if p.strip()]
