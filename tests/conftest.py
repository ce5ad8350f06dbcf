"""Shared fixtures: real labs on private copies of the reference topologies."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.lab import Lab
from harness.lab.teardown import teardown
from harness.topology import load_topology

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until `predicate` held."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "condition not met in time"
        time.sleep(0.01)
    return time.monotonic() - start


def route_via(lab: Lab, node: str, dst: str) -> str:
    """The next hop `node` uses toward `dst` now ('' while it has no route, mid-reroute)."""
    routes = json.loads(lab.run(node, ["ip", "-j", "route", "get", dst], check=False) or "[]")
    return str(routes[0].get("gateway", "")) if routes else ""


def private_copy(tmp: Path, topology: str) -> Path:
    """Copy a reference topology (and its config folder) under a unique lab name."""
    src = TOPOLOGIES / f"{topology}.clab.yml"
    shutil.copytree(TOPOLOGIES / topology, tmp / topology)
    name = f"t{uuid.uuid4().hex[:6]}"
    text = src.read_text().replace(f"name: {topology}\n", f"name: {name}\n", 1)
    dst = tmp / f"{topology}.clab.yml"
    dst.write_text(text)
    return dst


def require_lab_host() -> None:
    if os.geteuid() != 0 or shutil.which("vtysh") is None:
        pytest.fail("lab tests need root and FRR (run .ci/run or scripts/install.sh)")


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fault journal in the test's own directory (`pytest.mark.usefixtures("journal")` in
    a lab module): a test's faults never meet another run's."""
    path = tmp_path / "journal"
    monkeypatch.setenv("FAILOVER_JOURNAL_DIR", str(path))
    return path


def reference_lab(tmp: Path, topology: str) -> Iterator[Lab]:
    """A converged private copy of a reference topology; always removed afterwards."""
    require_lab_host()
    lab = Lab(load_topology(private_copy(tmp, topology)))
    try:
        lab.up()
        yield lab
    finally:
        teardown(lab.name)


@pytest.fixture(scope="module")
def two_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A converged two-path lab for the module; always removed afterwards."""
    yield from reference_lab(tmp_path_factory.mktemp("topo"), "two-path")


@pytest.fixture(scope="module")
def campus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A converged private hospital-campus for the module; always removed afterwards."""
    yield from reference_lab(tmp_path_factory.mktemp("campus"), "hospital-campus")


@pytest.fixture
def lab_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of two-path that a test brings up itself; removed afterwards."""
    require_lab_host()
    path = private_copy(tmp_path, "two-path")
    try:
        yield path
    finally:
        teardown(load_topology(path).name)


def hospital_lab(tmp: Path, strip_bfd: bool = False,
                 config_lines: dict[str, str] | None = None) -> Iterator[Lab]:
    """A converged private hospital-core; `config_lines`: text added to a router's config."""
    require_lab_host()
    topo = private_copy(tmp, "hospital-core")
    for router, lines in (config_lines or {}).items():
        conf = tmp / "hospital-core" / f"{router}.conf"
        conf.write_text(conf.read_text() + lines)
    if strip_bfd:  # the same network with BFD removed: only OSPF's 4 s dead timer is left
        for conf in (tmp / "hospital-core").glob("*.conf"):
            text = re.sub(r"^bfd\n(?:.*\n)*?exit\n", "", conf.read_text(), flags=re.M)
            conf.write_text(re.sub(r"^ ip ospf bfd.*\n", "", text, flags=re.M))
        daemons = tmp / "hospital-core" / "daemons"
        daemons.write_text(daemons.read_text().replace("bfdd=yes", "bfdd=no"))
    lab = Lab(load_topology(topo))
    try:
        lab.up()
        yield lab
    finally:
        teardown(lab.name)


def scenario_for(lab: Lab, ref: str, tmp: Path, **changes: Any) -> Path:
    """A reference scenario aimed at a private lab, with some fields changed; the file is
    named after the scenario's (possibly changed) name."""
    data = yaml.safe_load((ROOT / "scenarios" / f"{ref}.yml").read_text())
    data["topology"] = str(lab.topology.path)
    data["flows_from"] = [str(ROOT / "scenarios" / f) for f in data["flows_from"]]
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp / f"{data['name']}.yml"
    path.write_text(yaml.safe_dump(data))
    return path
