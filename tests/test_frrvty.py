"""The vty client's framing, against a stand-in daemon (pure logic: the stream's format as
FRR's vty writes it; the lab tests ask real daemons)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from harness.frrvty import ask_daemon


def _daemon(path: Path, answers: list[bytes], chunk: int) -> threading.Thread:
    """Answers each command read with the next answer (text, three NULs, status), written
    `chunk` bytes at a time; the commands it read are appended to `answers` at the end."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn, server:
            asked = b""
            while asked.count(b"\0") < len(answers):
                more = conn.recv(4096)
                if not more:  # the client stopped asking: it gets no answer
                    break
                asked += more
            stream = b"".join(answers)
            for i in range(0, len(stream), chunk):
                conn.sendall(stream[i: i + chunk])
            answers.append(asked)
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64, 1 << 16])
def test_answers_asked_at_once_are_split_where_each_ends(tmp_path: Path, chunk: int) -> None:
    answers = [b"\0\0\0\0", b'{"a": 1}\n\0\0\0\0', b"\0\0\0\0", b"% Unknown command\n\0\0\0\2",
               b'{"b": [' + b"2, " * 5000 + b"3]}\0\0\0\0"]
    thread = _daemon(tmp_path / "d.vty", answers, chunk)
    got = ask_daemon(tmp_path / "d.vty", ("show a", "show nothing", "shw", "show b"), 5.0)
    thread.join(5)
    assert answers[-1] == b"enable\0show a\0show nothing\0shw\0show b\0"
    assert got == [(0, '{"a": 1}\n'), (0, ""), (2, "% Unknown command\n"),
                   (0, '{"b": [' + "2, " * 5000 + "3]}")]


def test_a_daemon_closing_early_is_an_error(tmp_path: Path) -> None:
    thread = _daemon(tmp_path / "d.vty", [b"\0\0\0\0", b"{}\0\0"], 64)
    with pytest.raises(ConnectionResetError, match="closed after 1 of 2 answers"):
        ask_daemon(tmp_path / "d.vty", ("show a",), 5.0)
    thread.join(5)
