"""The commit-confirm revert's 'is one waiting?' check, on real processes of this machine:
ours is recognised by the mark in its command line, even while it execs; anything else that
the pid file names is not ours."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from napalm_frr import confirm
from napalm_frr.transport import LocalTransport


@pytest.fixture
def process(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Our revert as it looks mid-way: a process whose every step is an exec, each carrying
    the mark (as the sleeper does when it becomes `flock`); its pid in the pid file."""
    script = tmp_path / "again.sh"
    script.write_text(f"exec /bin/sh {script} {confirm.MARK}\n")
    proc = subprocess.Popen(["/bin/sh", str(script), confirm.MARK])
    (tmp_path / "revert.pid").write_text(f"{proc.pid}\n")
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_revert_that_execs_is_still_pending(process: subprocess.Popen[bytes],
                                              tmp_path: Path) -> None:
    transport = LocalTransport(None)
    answers = [confirm.pending(transport, str(tmp_path)) for _ in range(100)]
    assert answers.count(False) == 0


def test_a_pid_that_is_not_ours_or_gone_is_not_pending(tmp_path: Path) -> None:
    transport = LocalTransport(None)
    assert not confirm.pending(transport, str(tmp_path))  # no pid file
    other = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "revert.pid").write_text(f"{other.pid}\n")
        assert not confirm.pending(transport, str(tmp_path))  # a recycled pid
    finally:
        other.kill()
        other.wait()
    assert not confirm.pending(transport, str(tmp_path))  # gone
