"""Where probes run: a small interface. A built-in lab node and a containerlab node
(`/var/run/netns/clab-<lab>-<node>`) are both a namespace on this host; a remote Linux host
is reached over SSH (`ssh_endpoint`).

Wherever it runs, the agent is delivered the same way: its stdlib-only modules travel on its
stdin ahead of its spec, and a short bootstrap runs them under `python -S -I` (no site
packages, nothing installed there, and a start about 40 ms faster). To an interpreter that
is this one (a namespace on this host) they travel compiled (marshal): compiling them took
~13 ms of each agent's start-up; elsewhere, as source. On this host, one interpreter, the
session's launcher (`launcher`, `launching`), runs them once and forks each agent into its
namespace: an interpreter's start and its imports cost each agent ~35 ms of CPU.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from typing import IO, TYPE_CHECKING, Protocol

from harness.errors import HarnessError
from harness.lab.netns import global_ipv4

if TYPE_CHECKING:
    from harness.probes.launching import Launcher

SETUP_NICE = 10
# The agent's modules in dependency order: each imports only the stdlib and those before it.
AGENT_MODULES = ("harness.rtnetlink", *(f"harness.probes.{name}" for name in
                 ("wire", "egress", "control", "sender", "receiver", "agent", "launcher")))
BOOTSTRAP = """\
import sys, types
size, form = sys.stdin.buffer.readline().split()
data = sys.stdin.buffer.read(int(size))
if form == b"marshal":
    import marshal
    modules = marshal.loads(data)
else:
    import json
    modules = [(name, compile(source, name, "exec")) for name, source in json.loads(data)]
for name in ("harness", "harness.probes"):
    sys.modules[name] = types.ModuleType(name)
for name, code in modules:
    sys.modules[name] = module = types.ModuleType(name)
    exec(code, module.__dict__)
sys.modules["harness.probes." + (sys.argv[1] if len(sys.argv) > 1 else "agent")].main()
"""


@cache
def agent_bundle(compiled: bool) -> bytes:
    """The agent's modules as the bootstrap reads them: a line with the length and the form,
    then the modules, compiled for this interpreter (marshal) or as source (JSON)."""
    sources = []
    for name in AGENT_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        with open(spec.origin, encoding="utf-8") as fh:
            sources.append((name, fh.read()))
    if compiled:
        data = marshal.dumps([(name, compile(source, name, "exec", dont_inherit=True))
                              for name, source in sources])
        return b"%d marshal\n" % len(data) + data
    data = json.dumps(sources).encode()
    return b"%d json\n" % len(data) + data


def agent_command(python: str) -> list[str]:
    """The command that runs the agent from the bundle it reads first on stdin."""
    return [python, "-S", "-I", "-c", BOOTSTRAP]


def launcher_command(python: str, fd: int) -> list[str]:
    """The command that runs the agent launcher (`launcher`) on its socket `fd`."""
    return [*agent_command(python), "launcher", str(fd)]


def spawn_agent(argv: list[str], compiled: bool,
                pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    """Start `argv` (which ends in `agent_command`) with the bundle already on its stdin
    (`compiled` only where the agent runs this very interpreter)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, pass_fds=pass_fds,
                            start_new_session=True)  # Ctrl-C is the harness's to handle
    assert proc.stdin is not None
    proc.stdin.write(agent_bundle(compiled))
    return proc


class AgentProcess(Protocol):
    """A probe agent as a process this one started looks (`subprocess.Popen`, or an agent
    the session's launcher forked: `launching.LaunchedAgent`)."""

    @property
    def pid(self) -> int: ...

    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class ProbeEndpoint(Protocol):
    @property
    def name(self) -> str: ...

    def spawn(self, launcher: Launcher) -> AgentProcess:
        """Start the node's probe agent there (its sender and receiver), its stdin, stdout
        and stderr piped here (see `agent` for the protocol); `launcher`: the session's, for
        an agent on this host."""

    def address(self) -> str:
        """The endpoint's probe source/destination address."""


@dataclass(frozen=True)
class NetnsEndpoint:
    name: str
    netns: str

    def spawn(self, launcher: Launcher) -> AgentProcess:
        """Forked into the namespace by the session's launcher. The agent starts niced
        (SETUP_NICE) and returns to this process's priority before it says ready: a scenario
        prepares its probes beside its preflight, whose router reads are what the run waits
        for."""
        return launcher.launch(self.netns, os.getpriority(os.PRIO_PROCESS, 0) + SETUP_NICE)

    def address(self) -> str:
        for addr in global_ipv4(self.netns):  # over netlink, from this process
            return addr
        raise HarnessError(f"{self.name}: no IPv4 address to probe from or to")


def containerlab_node(lab: str, node: str) -> NetnsEndpoint:
    """A node of a lab deployed by containerlab on this host."""
    return NetnsEndpoint(name=node, netns=f"clab-{lab}-{node}")
