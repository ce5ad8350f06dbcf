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
        self._last_words: str | None = None
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
            while not self._gone and self._read(0.0):
                pass  # answers so far: its socket never fills up with them
        return agent

    def pid_of(self, agent: LaunchedAgent) -> int | None:
        """The launcher's answer to the agent's request (read now if it was not yet); None
        if it refused it or is gone without answering (then the agent, if forked at all,
        died with it)."""
        with self._lock:
            while agent in self._unanswered and not self._gone:
                self._message(READY_TIMEOUT_S)
        return agent.known_pid

    def said(self) -> str:
        """Why the launcher stopped (its last line on stderr), once it is gone."""
        with self._lock:
            if self._last_words is None:
                self._last_words = self._said()
            return self._last_words

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
        """One message (an exit, an answer) if one comes within `timeout`; False if none came."""
        assert self._sock is not None
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if ready:
            self._message(0.0)
        return bool(ready)

    def _message(self, timeout: float) -> list[str]:
        """The launcher's next message (exits kept, answers given to their agents); [] once
        it is gone."""
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
        elif words[0] in ("pid", "refused:") and self._unanswered:
            agent = self._unanswered.popleft()
            if words[0] == "pid":
                agent.known_pid = int(words[1])
            else:
                agent.refused = " ".join(words[1:])
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
        self.refused = ""  # the launcher's answer, when it did not fork the agent
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.stderr: IO[bytes] | None = stderr
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        pid = self._pid()
        if pid is None:
            raise LaunchError(f"the agent launcher did not start this agent: "
                              f"{self.refused or self._launcher.said()}")
        return pid

    def _pid(self) -> int | None:
        return self.known_pid if self.known_pid is not None else self._launcher.pid_of(self)

    def poll(self) -> int | None:
        return self._status(0.0)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._status(0.0) is None:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"agent {self.known_pid}", timeout or 0.0)
            self._status(min(left, 1.0))
        assert self.returncode is not None
        return self.returncode

    def _status(self, timeout: float) -> int | None:
        """The exit status, waiting up to `timeout` for it; an agent the launcher never
        started has ended: 1 if it was refused, -SIGTERM if the launcher died first."""
        if self.returncode is None:
            pid = self._pid()
            self.returncode = (1 if self.refused else -signal.SIGTERM) if pid is None else \
                self._launcher.exit_status(pid, timeout)
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(LaunchError):  # no answer in time: the launcher's close
            if self.poll() is None:            # kills it, and its agents die with it
                self._launcher.kill(self.pid)
