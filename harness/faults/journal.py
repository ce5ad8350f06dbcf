"""The fault journal on disk: how to undo each fault, written before the fault is injected.

One JSON-lines file per run in `$FAILOVER_JOURNAL_DIR` (default /run/failover/journal/): a
first line naming the run's process, an `inject` line (lab, kind, parameters) written and
fsynced before each inject, a `restored` line after each restore. A run that ends with
everything restored removes its file; what is left after a crash is what `recover` undoes.
A torn last line (power cut mid-write) is skipped.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.faults.base import Fault

ENV = "FAILOVER_JOURNAL_DIR"
DEFAULT_DIR = Path("/run/failover/journal")


def journal_dir() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT_DIR)


@dataclass(frozen=True)
class Entry:
    """A fault journaled as injected: enough to rebuild it and undo it from another process."""

    id: str
    lab: str
    kind: str
    params: dict[str, Any]
    description: str
    time: float
    file: Path


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks (with the pid, names it across pid reuse)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _read(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # torn write
    return records


class Journal:
    """This run's journal file (created with the first entry)."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or journal_dir()
        stamp = time.strftime("%Y%m%dT%H%M%S")
        self.path = directory / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}.jsonl"
        self._open: set[str] = set()

    def record(self, lab: str, fault: Fault) -> str:
        """Write how to undo `fault` (call before injecting it); the entry's id."""
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _append(self.path, {"op": "run", "pid": os.getpid(),
                                "start": _process_start(os.getpid())})
        entry_id = uuid.uuid4().hex[:12]
        _append(self.path, {"op": "inject", "id": entry_id, "lab": lab, **fault.journal_entry(),
                            "description": fault.describe(), "time": time.time()})
        self._open.add(entry_id)
        return entry_id

    def restored(self, entry_id: str) -> None:
        _append(self.path, {"op": "restored", "id": entry_id})
        self._open.discard(entry_id)

    def close(self) -> None:
        """Remove the file if every fault it holds was restored."""
        if not self._open:
            self.path.unlink(missing_ok=True)


def _run_alive(records: list[dict[str, Any]]) -> bool:
    """Whether the process that wrote these records still runs."""
    header = records[0] if records and records[0].get("op") == "run" else {}
    pid = header.get("pid")
    if not isinstance(pid, int):
        return False
    start = _process_start(pid)
    return start is not None and start == header.get("start")


def pending(directory: Path | None = None, include_live: bool = False) -> list[Entry]:
    """Faults journaled as injected and not restored, oldest first. Runs whose process is
    still alive hold their faults on purpose: left out unless `include_live`."""
    entries = []
    for path in sorted((directory or journal_dir()).glob("*.jsonl")):
        records = _read(path)
        if not include_live and _run_alive(records):
            continue
        done = {r.get("id") for r in records if r.get("op") == "restored"}
        entries += [Entry(r["id"], r["lab"], r["kind"], r["params"], r.get("description", ""),
                          r.get("time", 0.0), path)
                    for r in records if r.get("op") == "inject" and r["id"] not in done]
    return sorted(entries, key=lambda e: e.time)


def mark_restored(entry: Entry) -> None:
    _append(entry.file, {"op": "restored", "id": entry.id})


def clear_finished(directory: Path | None = None) -> list[Path]:
    """Remove the files of dead runs with nothing left to undo; the files removed."""
    holding = {e.file for e in pending(directory, include_live=True)}
    removed = []
    for path in sorted((directory or journal_dir()).glob("*.jsonl")):
        if path not in holding and not _run_alive(_read(path)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
