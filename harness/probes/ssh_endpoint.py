"""A probe endpoint on a remote Linux host reached over SSH: probes from real vantage points
(a ward PC's VLAN, the data centre) during a maintenance window.

Nothing is installed there: the agent travels on the SSH session's stdin, as it does to a
lab node (see `endpoints`). The host needs `python3` (3.9 or newer) and root or
CAP_NET_RAW for the raw sockets. ssh runs in batch mode, so authentication is by key (or
agent) only and no password is ever asked for or kept; the host key must already be known,
as for any ssh login. Closing the session's stdin stops the agent, and it dies with the
session (PR_SET_PDEATHSIG), so a lost connection leaves nothing running there.
"""

from __future__ import annotations

import ipaddress
import shlex
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.errors import HarnessError
from harness.probes.endpoints import agent_command, spawn_agent

if TYPE_CHECKING:
    from harness.probes.launching import Launcher


@dataclass(frozen=True)
class SshEndpoint:
    """`destination` is what ssh takes: `[user@]host`, or a Host of the ssh config (where a
    jump host, key and user belong). `probe_address` is the address probes use: a host often
    has a management address too."""

    name: str
    destination: str
    probe_address: str
    port: int | None = None
    config_file: str | None = None  # ssh -F
    ssh_options: tuple[str, ...] = ()  # ssh -o, e.g. "ProxyJump=bastion"
    python: str = "python3"

    def address(self) -> str:
        return self.probe_address

    def ssh_command(self, remote: str) -> list[str]:
        config = ["-F", self.config_file] if self.config_file else []
        port = ["-p", str(self.port)] if self.port else []
        options = [arg for option in self.ssh_options for arg in ("-o", option)]
        return ["ssh", "-T", *config, "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", *port,
                *options, "--", self.destination, remote]

    def spawn(self, launcher: Launcher) -> subprocess.Popen[bytes]:
        """Over ssh, with the interpreter of the host (`launcher`: for agents on this host)."""
        remote = f"exec {shlex.join(agent_command(self.python))}"
        return spawn_agent(self.ssh_command(remote), compiled=False)  # its Python is its own


def parse_remote(text: str) -> SshEndpoint:
    """`NODE=DESTINATION,PROBE_ADDRESS` (DESTINATION: `[user@]host[:port]` or an ssh Host)."""
    node, _, rest = text.partition("=")
    destination, _, address = rest.partition(",")
    host, _, port = destination.rpartition(":") if ":" in destination else (destination, "", "")
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise HarnessError(f"--remote {text!r}: expected NODE=[USER@]HOST[:PORT],PROBE_ADDRESS "
                           "with an IPv4 probe address") from None
    if not node or not host or (port and not port.isdigit()):
        raise HarnessError(f"--remote {text!r}: expected NODE=[USER@]HOST[:PORT],PROBE_ADDRESS")
    return SshEndpoint(name=node, destination=host, probe_address=address,
                       port=int(port) if port else None)
