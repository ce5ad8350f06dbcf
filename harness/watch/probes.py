"""A probe session for hours: every direction's outages found while the records stream in
(`DirectionStream`), the records kept compressed, never read whole.

The receivers' records land in `probes/recv-<node>.bin` as in any session; as they are read,
they are appended to `raw/recv-<node>.bin.gz` (gzip members, one closed at every
`checkpoint`: a killed watch leaves a readable file up to its last checkpoint), and the part of
the `.bin` file already read is released to the file system (a hole punched in it)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.probes.analysis import FlowResult
from harness.probes.endpoints import ProbeEndpoint
from harness.probes.flows import Flow
from harness.probes.session import ProbeSession
from harness.watch.stream import DirectionStream

PUNCH_EVERY = 16 << 20  # release a records file's read part once this much has piled up
_FALLOC_FL_KEEP_SIZE, _FALLOC_FL_PUNCH_HOLE = 0x01, 0x02
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
_libc.malloc_trim.argtypes = [ctypes.c_size_t]


def punch_hole(path: Path, length: int) -> bool:
    """Release the first `length` bytes of `path` (they read as zeros after); False where the
    file system cannot (the file then keeps its size on disk)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        return _libc.fallocate(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, 0,
                               length) == 0
    finally:
        os.close(fd)


class WatchProbes(ProbeSession):
    # A starved watch (a loaded machine) reads in slices, not all at once: the memory a read
    # takes stays small (1 MiB: ~44k records; ten reads a second catch up at 10 MiB/s).
    read_max = 1 << 20

    def __init__(self, flows: list[Flow], endpoint_of: Callable[[str], ProbeEndpoint],
                 workdir: Path, raw_dir: Path, max_seconds: float) -> None:
        super().__init__(flows, endpoint_of, workdir, max_seconds)
        self.raw_dir = raw_dir
        self.streams = {d.id: DirectionStream(d.label, d.flow.rate) for d in self.directions}
        self._gz: dict[Path, gzip.GzipFile] = {}
        self._punched: dict[Path, int] = {}

    def _took(self, path: Path, data: memoryview) -> None:
        if not data:
            return
        out = self._gz.get(path)
        if out is None:
            self.raw_dir.mkdir(parents=True, exist_ok=True)
            out = self._gz[path] = gzip.GzipFile(self.raw_dir / f"{path.name}.gz", "ab",
                                                 mtime=0)
        out.write(data)
        done = self._tail[path] - self._tail[path] % 4096
        if done - self._punched.get(path, 0) >= PUNCH_EVERY and punch_hole(path, done):
            self._punched[path] = done

    def _read_new(self) -> list[tuple[int, Any]]:
        new = super()._read_new()
        for flow_id, mine in new:
            self.streams[flow_id].add(mine["seq"], mine["send_ns"], mine["recv_ns"])
        return new

    def _read_slice(self) -> bool:
        """One read of every records file: whether any file had more."""
        before = dict(self._tail)
        self._read_new()
        return self._tail != before

    def checkpoint(self) -> None:
        """Close the raw files' current gzip members and flush them to disk; give the memory
        freed since the last checkpoint back to the system."""
        for path in list(self._gz):
            out = self._gz.pop(path)
            out.close()
            with (self.raw_dir / f"{path.name}.gz").open("ab") as fh:
                os.fsync(fh.fileno())
        _libc.malloc_trim(0)

    def discard_records(self) -> None:
        """Once stopped: the raw records are in `raw_dir`; the read files go."""
        self.checkpoint()
        for path in self._record_files:
            path.unlink()

    def _results(self, sent: dict[str, dict[str, Any]], files: list[Path]) -> list[FlowResult]:
        """From the streams (the records written since the last read first): the records
        are never read whole."""
        while self._read_slice():
            pass
        out = []
        for d in self.directions:
            info = sent[d.src]["flows"][str(d.id)]
            out.append(self.streams[d.id].result(int(info["sent"]), int(info["first_ns"]),
                                                 d.id))
        return out
