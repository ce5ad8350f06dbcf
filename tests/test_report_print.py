"""A pack's report as a person sees it: in headless Chromium (the verdict above the fold, no
pytest words) and printed to PDF by `failover report --pdf`, checked page by page (page
count, every word within its page, the chart on one page, no table row cut, the table's
header on each page it spans). Needs chromium, chromium-driver and poppler-utils."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import render
from sample_run import sample_results, sealed_pack
from test_report_page import PYTEST_WORDS

from harness.report.manifest import verify

WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
CHART_TOP, CHART_BOTTOM = "outage windows per flow direction", "seconds from fault"


def failover(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, timeout=120)


def pages(pdf: Path) -> list[str]:
    """Each page's text, laid out as printed."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")[:-1]


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def words_off_the_page(pdf: Path) -> list[str]:
    """Words whose box is not within their page's (from pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    off = []
    for page in out.split("<page ")[1:]:
        size = PAGE.match("<page " + page)
        assert size is not None
        width, height = float(size.group(1)), float(size.group(2))
        for m in WORD.finditer(page):
            x0, y0, x1, y1 = map(float, m.groups())
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                off.append(page[m.end():page.index("<", m.end())])
    return off


def print_pack(tmp_path: Path, flows: int, **changes: object) -> tuple[Path, Path]:
    pack = sealed_pack(tmp_path / f"f{flows}", sample_results(flows, **changes))
    proc = failover("report", str(pack), "--pdf")
    pdf = pack.with_name(f"{pack.name}.pdf")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"PDF: {pdf}" in proc.stdout
    return pack, pdf


def check_pages(pdf: Path, results: dict[str, object]) -> list[str]:
    """The page-by-page checks; returns the pages' text."""
    text = pages(pdf)
    assert len(text) == page_count(pdf)
    assert words_off_the_page(pdf) == []
    assert "Failover test: core1-drain" in text[0] and "Verdict" in text[0]
    [chart] = [i for i, t in enumerate(text) if CHART_TOP in t]
    assert CHART_BOTTOM in text[chart]  # the chart's top and bottom on one page
    for v in results["flows"]:  # type: ignore[attr-defined]
        f = v["failover"]
        row = re.compile(rf"^{re.escape(v['direction'])}\s+(yes|no)\s+{v['sla_ms']:.0f}\s+"
                         rf"{f['outage_ms']:.1f}\s+{f['lost']}\s", re.M)
        found = [i for i, t in enumerate(text) if row.search(t)]
        assert len(found) == 1, (v["direction"], found)  # one row, whole, on one page
        assert "failover (fault held)" in text[found[0]]  # with the table's header
    return text


def test_report_prints_to_pdf_page_by_page(tmp_path: Path) -> None:
    pack, pdf = print_pack(tmp_path, 6)
    small = check_pages(pdf, sample_results(6))
    assert 2 <= len(small) <= 4, len(small)
    assert "SLA met; outcome as expected" in small[0]
    assert verify(pack).ok  # the PDF is beside the pack, not in it

    pack, pdf = print_pack(tmp_path, 40, missed=3, incomplete="interrupted (Ctrl-C)")
    big = check_pages(pdf, sample_results(40, missed=3, incomplete="interrupted (Ctrl-C)"))
    assert len(small) < len(big) <= 10, len(big)
    flow_pages = [t for t in big if "failover (fault held)" in t]
    assert len(flow_pages) >= 2  # the flows table spans pages, its header on each
    assert "Run INCOMPLETE: interrupted (Ctrl-C)" in big[0]
    left = [p.name for p in Path("/proc").glob("[0-9]*")
            if b"failover-pdf-" in _cmdline(p)]  # Chromium and its helpers are gone
    assert left == []


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_report_command_refuses_a_pdf_inside_the_pack_or_a_tampered_pack(
        tmp_path: Path) -> None:
    pack = sealed_pack(tmp_path, sample_results())
    proc = failover("report", str(pack))
    assert proc.returncode == 0 and "SLA met; outcome as expected: core1-drain on " \
        "hospital-core" in proc.stdout and f"report: {pack / 'report.html'}" in proc.stdout
    proc = failover("report", str(pack), "--pdf", "-o", str(pack / "report.pdf"))
    assert proc.returncode == 2 and "inside the sealed pack" in proc.stderr, proc.stderr
    assert verify(pack).ok
    (pack / "results.json").write_text((pack / "results.json").read_text().replace(
        '"sla_met": true', '"sla_met": false'))
    proc = failover("report", str(pack), "--pdf")
    assert proc.returncode == 1 and "pack FAILED verification" in proc.stdout, proc.stdout
    assert not pack.with_name(f"{pack.name}.pdf").exists()


@pytest.mark.parametrize("changes", [{}, {"incomplete": "interrupted (Ctrl-C)"}])
def test_report_in_a_browser_leads_with_the_verdict(tmp_path: Path,
                                                    changes: dict[str, object]) -> None:
    pack = sealed_pack(tmp_path, sample_results(**changes))
    sel = ["p.verdict", "p.failed", "table.key-figures", "svg.timeline", "table.verdicts tbody tr",
           "section#definitions dt"]
    page = render(pack / "report.html", sel)
    assert page.console_errors == [] and page.visible("svg.timeline")
    assert page.above_the_fold("p.verdict") and page.above_the_fold("table.key-figures")
    assert page.count("table.verdicts tbody tr") == 7 and page.count("section#definitions dt")
    assert [w for w in PYTEST_WORDS if w in page.text] == []
    assert page.title.startswith("Failover test core1-drain: ")
    if changes:
        assert page.above_the_fold("p.failed")
        assert "Run INCOMPLETE: interrupted (Ctrl-C)" in page.text
    else:
        assert page.count("p.failed") == 0
