"""Who ran a scenario, where, when, and with which software: what an auditor asks first."""

from __future__ import annotations

import getpass
import os
import platform
import shlex
import socket
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = ("failover-harness", "napalm", "netmiko", "scapy", "pytest", "pytest-html")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def command(argv: list[str]) -> str:
    """The command as a person typed it: the program's name, not its path (`python -m PKG`
    for a package run as a module), then its arguments, quoted as a shell would need."""
    prog = Path(argv[0])
    name = f"python -m {prog.parent.name}" if prog.name == "__main__.py" else prog.name
    return " ".join([name, *(shlex.quote(arg) for arg in argv[1:])])


def run_context() -> dict[str, Any]:
    """The operator, machine and software versions of this run (no secret, no environment)."""
    return {
        "operator": os.environ.get("SUDO_USER") or getpass.getuser(),
        "host": socket.gethostname(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "command": command(sys.argv),
        "packages": {p: _version(p) for p in PACKAGES},
    }
