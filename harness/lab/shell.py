"""Run host commands with errors that say what failed."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from harness.errors import LabError


def run(argv: Sequence[str], *, stdin: str | None = None, check: bool = True,
        timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run `argv`; with `check`, a non-zero exit raises `LabError` carrying its stderr."""
    try:
        proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise LabError(f"command not found: {argv[0]} (is it installed?)") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"timed out after {timeout:.0f} s: {' '.join(argv)}") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"{' '.join(argv)}: exit {proc.returncode}: "
                       f"{detail[-1] if detail else 'no output'}")
    return proc
