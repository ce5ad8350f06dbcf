"""The pack's report.html and junit.xml, written by the harness from results.json (no network,
no browser): sections in order, escaped, self-contained, in a network team's words, an
incomplete run said at the top; JUnit with the checks CI tools read."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sample_run import SCENARIO_TEXT, sample_results, sealed_pack

from harness.errors import HarnessError
from harness.report.manifest import verify
from harness.report.pack import render_report
from harness.report.page import report_page
from harness.report.terms import DEFINITIONS

SECTIONS = ["Verdict", "Timeline", "Flows", "Changes made", "Device state before and after",
            "Provenance", "Definitions"]
PYTEST_WORDS = ["tests took", "Environment", "Passed", "Skipped", "Rerun", "pluggy", "::",
                "Plugins", "conftest", "results-table"]


class Text(HTMLParser):
    """The page's text as a reader sees it (outside <style>), and every tag and attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.chunks.append(data)


def parse(page: str) -> Text:
    text = Text()
    text.feed(page)
    return text


def test_sections_in_order_led_by_the_verdict() -> None:
    page = report_page(sample_results(), SCENARIO_TEXT)
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == SECTIONS
    text = "".join(parse(page).chunks)
    assert text.index("SLA met; outcome as expected") < text.index("Timeline")
    for figure in ("6 of 6", "32.0 ms", "404.0 ms", "1.20 s", "11.20 s"):  # held, recoveries
        assert figure in text.split("Timeline")[0], figure
    for term, _ in DEFINITIONS:
        assert term in text.split("Definitions")[-1], term
    assert "Loss-Derived Convergence Time" in text and "outage ms (RFC 6412)" in text


def test_no_pytest_vocabulary_and_nothing_outside_the_page() -> None:
    page = report_page(sample_results(), SCENARIO_TEXT)
    text = "".join(parse(page).chunks)
    assert [w for w in PYTEST_WORDS if w in text] == []
    tags = parse(page).tags
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe")]
    assert not [v for _, attrs in tags for k, v in attrs if k in ("src", "href")]
    assert page.count("<svg") == 1  # the timeline, inline


def test_everything_from_the_run_is_escaped() -> None:
    results = sample_results()
    results["flows"][0]["direction"] = "<script>alert(1)</script> →"
    results["inject_stamps"][0]["detail"] = "+ description <b>uplink</b> & more"
    page = report_page(results, SCENARIO_TEXT)
    assert "<script>" not in page and "<b>uplink" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; →" in page
    assert "# &lt;drain&gt; &amp; check" in page  # the scenario as run
    text = "".join(parse(page).chunks)
    assert "+ description <b>uplink</b> & more" in text


@pytest.mark.parametrize(("changes", "said"), [
    ({"incomplete": "interrupted (Ctrl-C)"}, "Run INCOMPLETE: interrupted (Ctrl-C)"),
    ({"not_restored": ["link-cut r1,r2: the interface refuses to come up"]},
     "Fault NOT restored: link-cut r1,r2: the interface refuses to come up"),
])
def test_an_incomplete_run_says_so_at_the_top_in_red(changes: dict[str, object],
                                                     said: str) -> None:
    page = report_page(sample_results(**changes), SCENARIO_TEXT)
    top = page.split("<h2>Timeline</h2>")[0]
    [line] = [p for p in re.findall(r'<p class="failed">(.*?)</p>', top)
              if re.sub("<[^>]+>", "", p).startswith(said.split(":")[0])]
    assert re.sub("<[^>]+>", "", line).startswith(said)
    assert "outcome NOT as expected" in top and "Restored: planned-drain core1." in top


def test_a_run_without_flows_or_timeline_still_has_its_report() -> None:
    results = sample_results(flows=0, started_ns=0, ended_ns=0, fault_ns=0,
                             incomplete="analysing the probes: ValueError: bad record")
    results["flows"] = []
    page = report_page(results, "")
    text = "".join(parse(page).chunks)
    assert "No flow was measured" in text and "No timeline: the probes never started" in text
    assert "Run INCOMPLETE: analysing the probes" in text
    assert text.index("SLA not judged (no flow measured); outcome NOT as expected") < \
        text.index("Timeline")


def junit(pack: Path) -> ET.Element:
    [suite] = ET.parse(pack / "junit.xml").getroot()
    return suite


def test_pack_report_and_junit_are_sealed(tmp_path: Path) -> None:
    pack = sealed_pack(tmp_path, sample_results(missed=1))
    assert verify(pack).ok
    suite = junit(pack)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == ["preflight", *(f"flow[app{i // 2}-ed-ehr {'→←'[i % 2]}]"
                                          for i in range(6)), "outcome", "restore"]
    assert {c.get("classname") for c in cases.values()} == {"core1-drain"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("9", "2", "0")
    failed = [n for n, c in cases.items() if c.find("failure") is not None]
    assert failed == ["flow[app0-ed-ehr →]", "outcome"]
    failure = cases["flow[app0-ed-ehr →]"].find("failure")
    assert failure is not None and "SLA missed: outage 900 ms > SLA 300 ms" in str(
        failure.get("message"))
    props = {p.get("name"): p.get("value") for p in cases["flow[app1-ed-ehr ←]"].iter("property")}
    assert props == {"sla_ms": "300.0", "failover_outage_ms": "0.0", "failback_outage_ms": "0.0",
                     "failover_lost": "0", "failback_lost": "0"}
    assert float(str(suite.get("time"))) == pytest.approx(15.0)  # the run, not the rendering


def test_control_scenario_misses_are_expected_in_junit(tmp_path: Path) -> None:
    pack = sealed_pack(tmp_path, sample_results(expect="fail", missed=6))
    suite = junit(pack)
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "6")
    flows = [c for c in suite.iter("testcase") if str(c.get("name")).startswith("flow[")]
    assert all(c.find("skipped") is not None for c in flows)
    assert "control scenario: expected to miss its SLA, and it did" in \
        (pack / "report.html").read_text()


def test_a_report_that_cannot_be_rendered_is_one_error(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "results.json").write_text(json.dumps({"scenario": "x"}))
    with pytest.raises(HarnessError, match=r"report for .* not rendered: KeyError"):
        render_report(pack)
