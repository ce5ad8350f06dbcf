"""The headless-Chromium helper: it sees pages as a person would, reports errors, leaves nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import browser
import pytest
from browser import Page, render

from harness.lab.procs import alive


def _render(html: Path, selectors: list[str], wait_for: str | None = None) -> Page:
    """`render`, then check that the driver and every browser process it started are gone."""
    page = render(html, selectors, wait_for)
    assert len(page.pids) >= 2, page.pids  # chromedriver and at least the browser
    deadline = time.monotonic() + 10
    while (left := [p for p in page.pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processes left running: {left}"
    return page


def _page(tmp_path: Path, body: str) -> Path:
    html = tmp_path / "page.html"
    html.write_text(f"<!DOCTYPE html><html><head><title>T</title></head><body>{body}</body></html>")
    return html


def test_table_and_svg_counted_and_visible(tmp_path: Path) -> None:
    html = _page(tmp_path, """
        <table id="v"><tr><td>alpha</td></tr><tr><td>beta</td></tr></table>
        <svg id="chart" width="200" height="80"><rect width="200" height="80"/></svg>
        <p id="hidden" style="display:none">secret</p><div id="empty"></div>""")
    sel = ["#v tr", "#chart", "#chart rect", "#hidden", "#empty", "#missing"]
    page = _render(html, sel)
    assert page.title == "T"
    assert page.text.split() == ["alpha", "beta"]  # hidden text is not shown
    assert [page.count(s) for s in sel] == [2, 1, 1, 1, 1, 0]
    assert [page.visible(s) for s in sel] == [True, True, True, False, False, False]
    assert page.console_errors == []
    with pytest.raises(KeyError, match="not passed to render"):
        page.count("table")


@pytest.mark.parametrize(("body", "expected"), [
    ('<script>console.error("boom")</script>', '"boom"'),
    ("<script>undefined_fn()</script>", "Uncaught ReferenceError: undefined_fn is not defined"),
    ('<img src="missing.png">', "missing.png - Failed to load resource"),
])
def test_console_errors_reported(tmp_path: Path, body: str, expected: str) -> None:
    page = _render(_page(tmp_path, f"<p>hi</p>{body}"), ["p"])
    assert len(page.console_errors) == 1
    assert expected in page.console_errors[0]
    assert page.visible("p")


def test_wait_for_times_out(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError, match="#never"):
        render(_page(tmp_path, "<p>hi</p>"), ["p"], wait_for="#never", timeout=3)


def test_missing_browser_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(RuntimeError, match="apt-get install chromium"):
        render(_page(tmp_path, ""), [])


def test_pytest_html_report(tmp_path: Path) -> None:
    (tmp_path / "test_gen.py").write_text(
        "def test_ok():\n    pass\n\n\ndef test_bad():\n    assert False\n")
    report = tmp_path / "r.html"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tmp_path}",
         f"--html={report}", "--self-contained-html", "test_gen.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    rows = "#results-table tbody.results-table-row"  # built by the report's JavaScript
    sel = ["#results-table", rows, f"{rows}.failed td.col-result", f"{rows}.passed td.col-result"]
    page = _render(report, sel, wait_for=f"{rows} td.col-result")
    assert page.console_errors == []
    assert page.visible("#results-table")
    assert [page.count(s) for s in sel] == [1, 2, 1, 1]
    assert all(page.visible(s) for s in sel)
    assert "1 Failed" in page.text and "1 Passed" in page.text
    assert "test_gen.py::test_bad" in page.text and "test_gen.py::test_ok" in page.text
