"""A lab written with FRR's default OSPF timers converges within the default timeout it gets
from those timers (60 s fixed gave up on a loaded machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import private_copy, require_lab_host

from harness.lab import Lab
from harness.lab.teardown import teardown
from harness.topology import load_topology
from harness.topology.timers import converge_budget

FAST_TIMERS = (" ip ospf network point-to-point\n", " ip ospf hello-interval 1\n",
               " ip ospf dead-interval 4\n")


@pytest.mark.lab
def test_default_ospf_timers_get_the_time_they_need(tmp_path: Path) -> None:
    """Broadcast links with hello 10 s / dead 40 s: each router waits its wait timer (40 s)
    before electing a designated router."""
    require_lab_host()
    path = private_copy(tmp_path, "two-path")
    for conf in (tmp_path / "two-path").glob("r*.conf"):
        text = conf.read_text()
        for line in FAST_TIMERS:
            text = text.replace(line, "")
        conf.write_text(text)
    topology = load_topology(path)
    assert converge_budget(topology).seconds == 100
    lines: list[str] = []
    try:
        report = Lab(topology).up(progress=lines.append)
    finally:
        teardown(topology.name)
    assert report.convergence and len(report.convergence.ospf_links) == 4
    assert any("waiting up to 100 s for 4 routers to converge" in ln
               and "largest OSPF dead interval 40 s" in ln for ln in lines), lines
    assert 30 < report.phases["converge"] < 100, report.phases  # the wait timer was waited
