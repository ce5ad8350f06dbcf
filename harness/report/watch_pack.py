"""The evidence pack of a watch: what every pack holds (results.json with every outage,
incident and mark, the raw probes compressed while the watch ran, snapshots before and after,
inputs), its JUnit (one check per critical flow direction) and its report (`watch_html`).
Sealed by the engine like any pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.pack import write_campaign_pack
from harness.report.watch_html import watch_report
from harness.scenario.load import LoadedScenario
from harness.watch.results import WatchResult

WATCH_ID = "failover-harness/watch/1"


def write_watch_pack(pack: Path, loaded: LoadedScenario, result: WatchResult) -> dict[str, Any]:
    return write_campaign_pack(pack, loaded, result, WATCH_ID, watch_report)
