"""The agent launcher (stdlib only, shipped with the agent, see `endpoints`): one interpreter
on this host, the agent's modules loaded once, that forks each node's agent into the node's
network namespace on request. An agent started on its own pays an interpreter's start and
its imports (~35 ms of CPU): the 48 agents of a 50-router lab took 2-3 s to start.

Protocol on its SOCK_SEQPACKET socket (the fd in argv): a request is "spawn NETNS NICE" (the
namespace's name, the niceness the agent sets up at), with the agent's stdin, stdout and
stderr passed along (SCM_RIGHTS); the answer "pid N" (or "refused: WHY"), in the requests'
order.
"kill N" kills an agent it has not reaped yet. Whenever it reaps an agent it says "exit N
STATUS" (STATUS as `Popen.returncode`: minus the signal that killed it). It stops when its
socket closes or its parent dies (PR_SET_PDEATHSIG), killing the agents it still has; an
agent dies with it (its own PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import os
import select
import signal
import socket
import sys

from harness.probes import agent
from harness.probes.control import LIBC, die_with_parent, fork

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


def main() -> None:
    die_with_parent()
    sock = socket.socket(fileno=int(sys.argv[2]))
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the select below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    children: set[int] = set()
    try:
        while True:
            ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
            if wake_r in ready:
                os.read(wake_r, 4096)
                _reap(sock, children)
            if sock.fileno() in ready and not _request(sock, children, [wake_r, wake_w]):
                return
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _request(sock: socket.socket, children: set[int], wake: list[int]) -> bool:
    """One request; False when the socket closed or the parent is gone."""
    fds = array.array("i")
    try:
        data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(3 * fds.itemsize))
    except OSError:
        return False
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if not data:
        return False
    words = data.decode().split()
    if words[0] == "kill" and int(words[1]) in children:
        os.kill(int(words[1]), signal.SIGKILL)
    elif words[0] == "spawn" and (len(fds) != 3 or len(words) != 3):
        sock.send(f"refused: {len(fds)} file descriptors, request {data[:80]!r}".encode())
    elif words[0] == "spawn":
        pid = fork()
        if not pid:
            _become_agent(words[1], int(words[2]), list(fds), [sock.fileno(), *wake])
        children.add(pid)
        sock.send(f"pid {pid}".encode())
        _reap(sock, children)  # one that died at once: its SIGCHLD may have come already
    for fd in fds:
        os.close(fd)
    return True


def _reap(sock: socket.socket, children: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sock.send(f"exit {pid} {code}".encode())


def _become_agent(netns: str, nice: int, fds: list[int], launcher_fds: list[int]) -> None:
    """In the forked child: into the namespace at niceness `nice`, the pipes as
    stdin/stdout/stderr, the agent; never returns."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)  # the agent returns to ours once set up
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()  # Ctrl-C is the harness's to handle, as for an agent it starts itself
        for fd in launcher_fds:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin, sys.stdout, sys.stderr = (open(0, closefd=False),
                                             open(1, "w", closefd=False),
                                             open(2, "w", closefd=False))
        try:
            ns = os.open(f"{NETNS_DIR}/{netns}", os.O_RDONLY)
        except OSError as exc:
            sys.exit(f"cannot open network namespace {netns}: {exc.strerror}")
        if LIBC.setns(ns, CLONE_NEWNET) != 0:
            sys.exit(f"cannot enter network namespace {netns}: "
                     f"{os.strerror(ctypes.get_errno())}")
        os.close(ns)
        agent.main()
    except SystemExit as exc:  # as the interpreter would end it: a message, an exit code
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr, flush=True)
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    except BaseException as exc:  # noqa: BLE001 - said on the agent's stderr
        print(f"launcher: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(0)
