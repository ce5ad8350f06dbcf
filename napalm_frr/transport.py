"""How the driver reaches an FRR instance: one small interface, three ways.

- `LocalTransport`: FRR on this machine, optionally under a pathspace (`vtysh -N`). With a
  pathspace, commands run inside the UTS and network namespaces of its `watchfrr` (found by
  its pid file), so vtysh shows FRR's hostname (FRR issue #7583) and `ip`/`ping` see the
  node's interfaces; a command one daemon answers is asked on that daemon's vty socket
  instead, without starting vtysh (`harness.frrvty`). Nothing goes over the network.
- `SshShellTransport`: a login with a shell (a real FRR box, root on containerlab's FRR
  image). netmiko opens the session; each command runs on an exec channel of it, which gives
  its exit status, its stderr and a stdin to upload candidate files.
- `VtyshLoginTransport`: a login whose shell *is* vtysh (containerlab's `admin`). netmiko
  drives the prompt; only vtysh commands exist there, no shell.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from napalm.base.exceptions import (
    CommandTimeoutException,
    ConnectAuthError,
    ConnectionClosedException,
    ConnectionException,
    ConnectTimeoutError,
)
from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from harness.frrvty import ask_daemon

FRR_RUN = Path("/var/run/frr")
# What vtysh prints instead of output when a command fails.
_VTYSH_ERROR = re.compile(r"^(% .*|\w+ is not running)$", re.MULTILINE)


@dataclass(frozen=True)
class CmdResult:
    """A command's exit status and output."""

    rc: int
    out: str
    err: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def message(self) -> str:
        """What the command said, stderr first (for error messages)."""
        return "\n".join(t.strip() for t in (self.err, self.out) if t.strip()) or f"exit {self.rc}"


class NoShellError(NotImplementedError):
    """The login has no shell: only vtysh commands can run."""


class Transport(ABC):
    """Runs vtysh commands, and shell commands where there is a shell."""

    has_shell = True

    def __init__(self, pathspace: str | None) -> None:
        self.pathspace = pathspace

    @property
    def rundir(self) -> Path:
        """The instance's pid files and vty sockets, on its host."""
        return FRR_RUN / self.pathspace if self.pathspace else FRR_RUN

    @property
    def vtysh_argv(self) -> list[str]:
        return ["vtysh", "-N", self.pathspace] if self.pathspace else ["vtysh"]

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def is_alive(self) -> bool: ...

    @abstractmethod
    def exec(self, argv: Sequence[str], stdin: str | None = None,
             timeout: float = 60.0) -> CmdResult:
        """Run `argv` on the device's host (in the node's namespaces for a lab node)."""

    def vtysh(self, command: str, timeout: float = 60.0, daemon: str | None = None
              ) -> CmdResult:
        """Run one vtysh command; `daemon`: the one daemon that answers it (vtysh `-d`, so
        that vtysh does not connect to every daemon)."""
        only = ["-d", daemon] if daemon else []
        return self.exec([*self.vtysh_argv, *only, "-c", command], timeout=timeout)


class LocalTransport(Transport):
    """FRR on this machine; with a pathspace, inside its watchfrr's namespaces."""

    def open(self) -> None:
        result = self.vtysh("show version", timeout=15, daemon="zebra")
        if not result.ok:
            raise ConnectionException(f"vtysh{self._where}: {result.message}")

    def close(self) -> None:
        pass

    def vtysh(self, command: str, timeout: float = 60.0, daemon: str | None = None
              ) -> CmdResult:
        """A command one daemon answers is asked on its vty socket (`harness.frrvty`), as
        vtysh would ask it, without starting vtysh."""
        if daemon is None:
            return super().vtysh(command, timeout)
        try:
            [(status, out)] = ask_daemon(self.rundir / f"{daemon}.vty", (command,), timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            return CmdResult(1, "", f"{daemon} is not running")
        except OSError as exc:
            raise ConnectionException(f"{daemon}{self._where}: {exc}") from None
        return CmdResult(status, out)

    def is_alive(self) -> bool:
        return self._watchfrr_pid() is not None if self.pathspace else True

    def exec(self, argv: Sequence[str], stdin: str | None = None,
             timeout: float = 60.0) -> CmdResult:
        prefix: list[str] = []
        if self.pathspace:
            pid = self._watchfrr_pid()
            if pid is None:
                raise ConnectionClosedException(f"FRR{self._where} is not running (no watchfrr)")
            prefix = ["nsenter", "-t", str(pid), "-u", "-n"]
        try:
            proc = subprocess.run([*prefix, *argv], input=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError as exc:
            raise ConnectionException(f"{exc.filename}: not found on this machine") from None
        except subprocess.TimeoutExpired:
            raise ConnectionException(f"timed out after {timeout:.0f} s: {shlex.join(argv)}"
                                      ) from None
        return CmdResult(proc.returncode, proc.stdout, proc.stderr)

    @property
    def _where(self) -> str:
        return f" (pathspace {self.pathspace})" if self.pathspace else ""

    def _watchfrr_pid(self) -> int | None:
        assert self.pathspace
        try:
            pid = int((self.rundir / "watchfrr.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None


class _NetmikoTransport(Transport):
    """Shared connect/close for the two SSH transports."""

    device_type = "linux"

    def __init__(self, pathspace: str | None, hostname: str, username: str, password: str,
                 timeout: int, netmiko_args: dict[str, Any]) -> None:
        super().__init__(pathspace)
        self._params = dict(netmiko_args, host=hostname, username=username, password=password,
                            timeout=timeout, device_type=self.device_type)
        self._target = f"{username}@{hostname}"
        self._conn: Any = None

    def open(self) -> None:
        password = self._params["password"]
        try:
            self._conn = ConnectHandler(**self._params)
        except NetmikoAuthenticationException:
            raise ConnectAuthError(f"SSH authentication failed for {self._target}") from None
        except NetmikoTimeoutException:
            raise ConnectTimeoutError(f"SSH connection to {self._target} timed out") from None
        except Exception as exc:  # netmiko/paramiko raise many kinds; never leak the password
            text = str(exc).replace(password, "***") if password else str(exc)
            raise ConnectionException(f"SSH to {self._target}: {text}") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
            self._conn = None

    def is_alive(self) -> bool:
        return self._conn is not None and bool(self._conn.is_alive())

    def _connection(self) -> Any:
        if self._conn is None:
            raise ConnectionClosedException(f"not connected to {self._target}: call open()")
        return self._conn


class SshShellTransport(_NetmikoTransport):
    """A shell login over SSH; commands on exec channels of netmiko's session."""

    def __init__(self, *args: Any, sudo: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sudo = ["sudo", "-n", "--"] if sudo else []

    def open(self) -> None:
        super().open()
        result = self.vtysh("show version", timeout=15)
        if not result.ok:
            self.close()
            raise ConnectionException(f"vtysh on {self._target}: {result.message}")

    def exec(self, argv: Sequence[str], stdin: str | None = None,
             timeout: float = 60.0) -> CmdResult:
        client = self._connection().remote_conn_pre
        try:
            chan_in, chan_out, chan_err = client.exec_command(shlex.join([*self._sudo, *argv]),
                                                              timeout=timeout)
            if stdin is not None:
                chan_in.write(stdin)
            chan_in.channel.shutdown_write()
            out = chan_out.read().decode(errors="replace")
            err = chan_err.read().decode(errors="replace")
            rc = chan_out.channel.recv_exit_status()
        except Exception as exc:  # paramiko's socket/SSH errors: the session is gone
            raise ConnectionClosedException(f"SSH to {self._target}: {exc}") from None
        return CmdResult(rc, out, err)


class VtyshLoginTransport(_NetmikoTransport):
    """A login whose shell is vtysh (containerlab FRR's `admin`): no shell commands."""

    device_type = "generic"
    has_shell = False

    def open(self) -> None:
        super().open()
        self._conn.set_base_prompt(pri_prompt_terminator="#", alt_prompt_terminator=">")
        self._conn.send_command("terminal length 0")

    def exec(self, argv: Sequence[str], stdin: str | None = None,
             timeout: float = 60.0) -> CmdResult:
        raise NoShellError(f"{self._target} logs into vtysh, which has no shell to run "
                           f"{argv[0]!r}: log in as a user with a shell (root on "
                           "containerlab's FRR image) for this")

    def vtysh(self, command: str, timeout: float = 60.0, daemon: str | None = None
              ) -> CmdResult:
        try:
            out = self._connection().send_command(command, read_timeout=timeout)
        except ReadTimeout:
            raise CommandTimeoutException(f"{self._target}: {command}: no prompt after "
                                          f"{timeout:.0f} s") from None
        except OSError as exc:
            raise ConnectionClosedException(f"SSH to {self._target}: {exc}") from None
        return CmdResult(1 if _VTYSH_ERROR.search(out) else 0, out)
