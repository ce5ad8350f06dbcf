"""Who ran a scenario, where, when, and with which software: what an auditor asks first."""

from __future__ import annotations

import getpass
import os
import platform
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from harness.devices import DeviceSpec, device_facts
from harness.lab import Lab

PACKAGES = ("failover-harness", "napalm", "netmiko", "scapy", "pytest", "pytest-html")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def run_context() -> dict[str, Any]:
    """The operator, machine and software versions of this run (no secret, no environment)."""
    return {
        "operator": os.environ.get("SUDO_USER") or getpass.getuser(),
        "host": socket.gethostname(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "command": " ".join(sys.argv),
        "packages": {p: _version(p) for p in PACKAGES},
    }


def devices_facts(lab: Lab, inventory: dict[str, DeviceSpec]) -> dict[str, dict[str, Any]]:
    """NAPALM `get_facts` of every router, in parallel (an unreachable one says why, it does
    not stop the others)."""
    def one(node: str) -> dict[str, Any]:
        spec = inventory.get(node)
        try:
            facts = device_facts(lab, node, spec)
        except Exception as exc:  # any driver's error; connect() already hides the password
            facts = {"error": str(exc) or type(exc).__name__}
        return {"driver": spec.driver if spec else "frr", **facts}
    nodes = [r.name for r in lab.topology.routers]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(nodes, pool.map(one, nodes), strict=True))
