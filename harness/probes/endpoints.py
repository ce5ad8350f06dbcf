"""Where probes run: a small interface, a network namespace today.

A built-in lab node and a containerlab node (`/var/run/netns/clab-<lab>-<node>`) are both a
namespace on this host. A remote Linux host reached over SSH (probes from real vantage points)
would implement the same two methods.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Protocol

from harness.errors import HarnessError
from harness.lab.shell import run


class ProbeEndpoint(Protocol):
    @property
    def name(self) -> str: ...

    def spawn(self, role: str) -> subprocess.Popen[bytes]:
        """Start a probe agent (`send` or `receive`) there, its stdin, stdout and stderr
        piped here (see `agent` for the protocol)."""

    def address(self) -> str:
        """The endpoint's probe source/destination address."""


@dataclass(frozen=True)
class NetnsEndpoint:
    name: str
    netns: str

    def spawn(self, role: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-m", "harness.probes.agent",
             role], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def address(self) -> str:
        out = run(["ip", "-n", self.netns, "-j", "-4", "addr", "show", "scope", "global"]).stdout
        for link in json.loads(out or "[]"):
            for addr in link.get("addr_info", []):
                return str(addr["local"])
        raise HarnessError(f"{self.name}: no IPv4 address to probe from or to")


def containerlab_node(lab: str, node: str) -> NetnsEndpoint:
    """A node of a lab deployed by containerlab on this host."""
    return NetnsEndpoint(name=node, netns=f"clab-{lab}-{node}")
