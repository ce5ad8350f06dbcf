"""Shared fixtures: real labs on private copies of the reference topologies."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def two_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A converged two-path lab for the module; always removed afterwards."""
    require_lab_host()
    lab = Lab(load_topology(private_copy(tmp_path_factory.mktemp("topo"), "two-path")))
    try:
        lab.up()
        yield lab
    finally:
        teardown(lab.name)


@pytest.fixture
def lab_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of two-path that a test brings up itself; removed afterwards."""
    require_lab_host()
    path = private_copy(tmp_path, "two-path")
    try:
        yield path
    finally:
        teardown(load_topology(path).name)
