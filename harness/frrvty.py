"""An FRR daemon's vty socket: commands asked straight, as vtysh asks them, without starting
vtysh (a vtysh run costs ~25 ms of CPU: it connects to every daemon; a question on a socket
~0.02 ms). The one client of the built-in lab and of the FRR NAPALM driver's local transport.

Stdlib only and independent of the rest of the harness (as `harness.frrjson`).
"""

from __future__ import annotations

import socket
from pathlib import Path

_END = b"\0\0\0"  # a daemon's vty ends each answer with three NULs and the command's status


def ask_daemon(path: Path, commands: tuple[str, ...], timeout: float) -> list[tuple[int, str]]:
    """Each command's status (0: success) and output, asked in the ENABLE node (as vtysh
    does) over one connection to the daemon's socket `path`; OSError if it does not answer.

    The commands go in one write: the daemon runs every command its read finds, in order,
    and its answers follow one another on the stream, so the daemon is woken once, not once
    a command (show commands only: a suspending one, `write`, drops those after it)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(b"".join(c.encode() + b"\0" for c in ("enable", *commands)))
        return _answers(sock, 1 + len(commands))[1:]


def _answers(sock: socket.socket, count: int) -> list[tuple[int, str]]:
    """The next `count` answers on the stream: each ends with `_END` and its status byte."""
    out: list[tuple[int, str]] = []
    buf, scan = bytearray(), 0
    while len(out) < count:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise ConnectionResetError(f"closed after {len(out)} of {count} answers")
        buf += chunk
        while len(out) < count and (end := buf.find(_END, scan)) >= 0 and end + 4 <= len(buf):
            out.append((buf[end + 3], buf[:end].decode(errors="replace")))
            del buf[:end + 4]
            scan = 0
        scan = max(0, len(buf) - 3)
    return out
