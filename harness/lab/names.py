"""Every name the built-in lab gives on the host derives from the lab and node names."""

from __future__ import annotations

from pathlib import Path

PREFIX = "fo"
STATE_DIR = Path("/run/failover/labs")
FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")


def namespace(lab: str, node: str) -> str:
    """The node's network namespace; also its FRR pathspace (`vtysh -N`)."""
    return f"{PREFIX}-{lab}-{node}"


def lab_prefix(lab: str) -> str:
    return f"{PREFIX}-{lab}-"


def state_file(lab: str) -> Path:
    return STATE_DIR / f"{lab}.json"
