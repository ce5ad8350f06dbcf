"""Marks: named instants a person adds during a watch, from its keyboard or from another
terminal (`failover mark "core1 reload started"`).

A running watch registers itself in `$FAILOVER_WATCH_DIR` (default /run/failover/watch/):
`<pid>.json` names its marks file, `<pid>.marks`, to which `failover mark` appends one JSON
line (text and the wall-clock instant it was given, O_APPEND: one write, never interleaved);
the watch reads the new lines ten times a second. A watch whose process is gone (kill -9)
leaves its two files: they are ignored, and removed by the next watch."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError

ENV = "FAILOVER_WATCH_DIR"
DEFAULT_DIR = Path("/run/failover/watch")
MAX_TEXT = 200


def watch_dir() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT_DIR)


@dataclass(frozen=True)
class Mark:
    text: str
    wall_ns: int  # CLOCK_REALTIME, the probes' clock
    source: str  # keyboard, failover mark


def mark_text(text: str) -> str:
    """A mark's text: one line, not empty, at most MAX_TEXT characters."""
    line = " ".join(text.split())
    if not line:
        raise HarnessError("a mark needs a text, e.g. failover mark \"core1 reload started\"")
    if len(line) > MAX_TEXT or not line.isprintable():
        raise HarnessError(f"a mark is one printable line of at most {MAX_TEXT} characters")
    return line


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running() -> dict[int, Path]:
    """The watches running now: pid -> marks file."""
    found = {}
    for entry in sorted(watch_dir().glob("*.json")):
        try:
            info = json.loads(entry.read_text())
            pid, marks = int(info["pid"]), Path(info["marks"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid) and marks.is_file():
            found[pid] = marks
    return found


def add_mark(text: str, pid: int | None = None) -> tuple[int, Mark]:
    """Add a mark to the running watch (the one with `pid`, when several run)."""
    mark = Mark(mark_text(text), time.time_ns(), "failover mark")
    watches = running()
    if pid is not None and pid not in watches:
        raise HarnessError(f"no watch with pid {pid} is running"
                           + (f" (running: {', '.join(map(str, watches))})" if watches else ""))
    if pid is None and not watches:
        raise HarnessError("no watch is running: start one with `failover watch`")
    if pid is None and len(watches) > 1:
        raise HarnessError(f"{len(watches)} watches are running ({', '.join(map(str, watches))})"
                           ": say which with --pid")
    pid = pid if pid is not None else next(iter(watches))
    line = json.dumps({"text": mark.text, "wall_ns": mark.wall_ns}) + "\n"
    fd = os.open(watches[pid], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return pid, mark


class MarkBoard:
    """A running watch's registration: `with MarkBoard() as board: board.new()`."""

    def __init__(self) -> None:
        self.dir = watch_dir()
        self.info = self.dir / f"{os.getpid()}.json"
        self.marks = self.dir / f"{os.getpid()}.marks"
        self._offset = 0

    def __enter__(self) -> MarkBoard:
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.json"):  # watches killed before they could clean up
            if old.stem.isdigit() and not _alive(int(old.stem)):
                old.unlink(missing_ok=True)
                old.with_suffix(".marks").unlink(missing_ok=True)
        self.marks.write_bytes(b"")
        tmp = self.info.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "marks": str(self.marks)}))
        os.replace(tmp, self.info)
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.info.unlink(missing_ok=True)
        self.marks.unlink(missing_ok=True)

    def new(self) -> list[Mark]:
        """Marks added since the last call (whole lines; a bad one is skipped)."""
        with self.marks.open("rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        whole = data[:data.rfind(b"\n") + 1]
        self._offset += len(whole)
        found = []
        for line in whole.splitlines():
            try:
                d = json.loads(line)
                found.append(Mark(mark_text(str(d["text"])), int(d["wall_ns"]), "failover mark"))
            except (ValueError, KeyError, TypeError, HarnessError):
                continue
        return found
