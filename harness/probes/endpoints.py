"""Where probes run: a small interface. A built-in lab node and a containerlab node
(`/var/run/netns/clab-<lab>-<node>`) are both a namespace on this host; a remote Linux host
is reached over SSH (`ssh_endpoint`).

Wherever it runs, the agent is delivered the same way: its stdlib-only modules travel on its
stdin ahead of its spec, and a short bootstrap runs them under `python -S -I` (no site
packages, nothing installed there, and a start about 40 ms faster).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from harness.errors import HarnessError
from harness.lab.shell import run

AGENT_MODULES = ("harness.probes.wire", "harness.probes.egress", "harness.probes.agent")
BOOTSTRAP = """\
import json, sys, types
modules = json.loads(sys.stdin.read(int(sys.stdin.readline())))
for name in ("harness", "harness.probes"):
    sys.modules[name] = types.ModuleType(name)
for name, source in modules:
    sys.modules[name] = module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
sys.modules["harness.probes.agent"].main()
"""


@cache
def agent_bundle() -> bytes:
    """The agent's modules as the bootstrap reads them: a length line, then JSON."""
    sources = []
    for name in AGENT_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        with open(spec.origin, encoding="utf-8") as fh:
            sources.append((name, fh.read()))
    text = json.dumps(sources)
    return f"{len(text)}\n{text}".encode()


def agent_command(python: str, role: str) -> list[str]:
    """The command that runs the agent from the bundle it reads first on stdin."""
    return [python, "-S", "-I", "-c", BOOTSTRAP, role]


def spawn_agent(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start `argv` (which ends in `agent_command`) with the bundle already on its stdin."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            start_new_session=True)  # Ctrl-C is the harness's to handle
    assert proc.stdin is not None
    proc.stdin.write(agent_bundle())
    return proc


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
        return spawn_agent(["ip", "netns", "exec", self.netns,
                            *agent_command(sys.executable, role)])

    def address(self) -> str:
        out = run(["ip", "-n", self.netns, "-j", "-4", "addr", "show", "scope", "global"]).stdout
        for link in json.loads(out or "[]"):
            for addr in link.get("addr_info", []):
                return str(addr["local"])
        raise HarnessError(f"{self.name}: no IPv4 address to probe from or to")


def containerlab_node(lab: str, node: str) -> NetnsEndpoint:
    """A node of a lab deployed by containerlab on this host."""
    return NetnsEndpoint(name=node, netns=f"clab-{lab}-{node}")
