"""Agents on this host, forked into their namespaces by one launcher process (`launcher`) per
probe session, instead of an interpreter started for each: the harness side.

An agent started so is a `LaunchedAgent`: the same pipes, pid, poll, wait and kill as a
process this one started, its exit status relayed by the launcher, and a kill asked of the
launcher (which kills only an agent it has not reaped: a pid is never reused under it). The
launcher is this process's child, killed by its pid when the session closes; it kills the
agents it still has when it stops, and they die with it.
"""

from __future__ import annotations

import array
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import IO

from harness.errors import HarnessError
from harness.probes.endpoints import launcher_command, spawn_agent

STOP_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 15.0


class LaunchError(HarnessError):
    """The launcher could not start an agent."""


class Launcher:
    """Started with its first agent (`launch`), from the thread that prepares the probes (the
    launcher dies with that thread, as agents started directly did)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._exits: dict[int, int] = {}
        self._unanswered: deque[LaunchedAgent] = deque()  # launched, pid not read yet
        self._gone = False

    @property
    def pid(self) -> int | None:
        """The launcher's own pid, once started."""
        return self._proc.pid if self._proc is not None else None

    def launch(self, netns: str, nice: int) -> LaunchedAgent:
        """Fork an agent into `netns`, at niceness `nice` until it is set up (see `agent`);
        its stdin, stdout and stderr are pipes to this process. The request is only sent:
        the launcher answers requests in order, and an agent's pid is read when first asked
        for, so that a session's launches follow one another without waiting."""
        with self._lock:
            sock = self._started()
            stdin, stdout, stderr = os.pipe(), os.pipe(), os.pipe()
            theirs = [stdin[0], stdout[1], stderr[1]]
            try:
                sock.sendmsg([f"spawn {netns} {nice}".encode()],
                               [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", theirs))])
            except BaseException:
                for fd in (stdin[1], stdout[0], stderr[0]):
                    os.close(fd)
                raise
            finally:
                for fd in theirs:
                    os.close(fd)
            agent = LaunchedAgent(self, os.fdopen(stdin[1], "wb"), os.fdopen(stdout[0], "rb"),
                                  os.fdopen(stderr[0], "rb"))
            self._unanswered.append(agent)
        return agent

    def pid_of(self, agent: LaunchedAgent) -> int:
        """The launcher's answer to the agent's request (read now if it was not yet)."""
        with self._lock:
            while agent in self._unanswered:
                if not self._message(READY_TIMEOUT_S):
                    raise LaunchError(f"the agent launcher exited: {self._said()}")
        assert agent.known_pid is not None
        return agent.known_pid

    def exit_status(self, pid: int, timeout: float) -> int | None:
        """The agent's exit status (as `Popen.returncode`) once reaped, waiting up to
        `timeout`; None while it runs. The agents of a launcher that is gone died with it
        (PR_SET_PDEATHSIG: SIGTERM), their status unknown: -SIGTERM."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while pid not in self._exits and not self._gone:
                if not self._read(max(0.0, deadline - time.monotonic())):
                    break
            return self._exits.get(pid, -signal.SIGTERM if self._gone else None)

    def kill(self, pid: int) -> None:
        with self._lock:
            if pid not in self._exits and not self._gone and self._sock is not None:
                try:
                    self._sock.send(f"kill {pid}".encode())
                except OSError:
                    self._gone = True

    def close(self) -> None:
        """Stop the launcher (it kills the agents it still has), by its pid if it lingers."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
            if self._proc is not None:
                try:
                    self._proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._gone = True

    def _started(self) -> socket.socket:
        if self._gone:
            raise LaunchError("the agent launcher is closed")
        if self._sock is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self._proc = spawn_agent(launcher_command(sys.executable, theirs.fileno()),
                                         compiled=True, pass_fds=(theirs.fileno(),))
            finally:
                theirs.close()
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._sock = ours
        return self._sock

    def _read(self, timeout: float) -> bool:
        """One message (an exit) if one comes within `timeout`; False if none came."""
        assert self._sock is not None
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if ready:
            self._message(0.0)
        return bool(ready)

    def _message(self, timeout: float) -> list[str]:
        """The launcher's next message (its exits kept); [] once it is gone."""
        assert self._sock is not None
        self._sock.settimeout(timeout or None)
        try:
            words = self._sock.recv(256).decode().split()
        except TimeoutError:
            raise LaunchError(f"the agent launcher did not answer in {timeout:.0f} s") from None
        except OSError:
            words = []
        if not words:
            self._gone = True
        elif words[0] == "exit":
            self._exits[int(words[1])] = int(words[2])
        elif words[0] == "pid" and self._unanswered:
            self._unanswered.popleft().known_pid = int(words[1])
        return words

    def _said(self) -> str:
        """What the launcher wrote on stderr, once it is gone."""
        assert self._proc is not None and self._proc.stderr is not None
        try:
            self._proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        text = self._proc.stderr.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else f"exit {self._proc.returncode}"



class LaunchedAgent:
    """An agent the launcher forked, as a process this one started looks (see
    `endpoints.AgentProcess`)."""

    def __init__(self, launcher: Launcher, stdin: IO[bytes], stdout: IO[bytes],
                 stderr: IO[bytes]) -> None:
        self._launcher = launcher
        self.known_pid: int | None = None  # once the launcher's answer is read
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.stderr: IO[bytes] | None = stderr
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self.known_pid if self.known_pid is not None else self._launcher.pid_of(self)

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._launcher.exit_status(self.pid, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"agent {self.pid}", timeout or 0.0)
            self.returncode = self._launcher.exit_status(self.pid, min(left, 1.0))
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(LaunchError):  # the launcher is gone, and its agents with it
            if self.poll() is None:
                self._launcher.kill(self.pid)
