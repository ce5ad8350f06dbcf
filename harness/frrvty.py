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
    does) over one connection to the daemon's socket `path`; OSError if it does not answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        return [_ask(sock, c) for c in ("enable", *commands)][1:]


def _ask(sock: socket.socket, command: str) -> tuple[int, str]:
    sock.sendall(command.encode() + b"\0")
    buf = bytearray()
    while len(buf) < 4 or buf[-4:-1] != _END:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise ConnectionResetError(f"closed during {command!r}")
        buf += chunk
    return buf[-1], buf[:-4].decode(errors="replace")
