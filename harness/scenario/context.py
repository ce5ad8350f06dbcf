"""Who ran a scenario, where, when, and with which software: what an auditor asks first."""

from __future__ import annotations

import getpass
import os
import platform
import socket
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

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
