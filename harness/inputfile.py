"""Input files read with bounds: a regular file (never a pipe or a device, which could block or
never end), at most `MAX_BYTES`, UTF-8 text without NUL bytes; every refusal is an `InputError`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.errors import InputError

MAX_BYTES = 1 << 20  # 1 MiB
_TYPES = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a named pipe", stat.S_IFCHR:
          "a character device", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class UnreadableFile(InputError):
    """The file cannot be read as a regular file (missing, a directory, a device, a pipe, a
    path too long, no permission): the fault of whoever names it, who may say where."""


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _TYPES.get(stat.S_IFMT(mode), "not a regular file")
        raise UnreadableFile(path, None, "", f"{kind}, not a regular file")


def check_readable(path: Path) -> None:
    """Raise `UnreadableFile` unless `path` is a regular file (nothing is opened)."""
    try:
        _check_regular(path, os.stat(path).st_mode)
    except OSError as exc:
        raise UnreadableFile(path, None, "", _why(exc)) from None


def _too_big(path: Path, size: int) -> InputError:
    return InputError(path, 1, "", f"the file has {size:,} bytes; an input file has at most "
                      f"{MAX_BYTES:,} (1 MiB)")


def read_bytes(path: Path) -> bytes:
    """The file's bytes: its type and size checked before it is read (and again once open)."""
    check_readable(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise UnreadableFile(path, None, "", _why(exc)) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)  # the file opened is the one checked (not swapped meanwhile)
        _check_regular(path, info.st_mode)
        if info.st_size > MAX_BYTES:
            raise _too_big(path, info.st_size)
        try:
            data = file.read(MAX_BYTES + 1)
        except OSError as exc:
            raise UnreadableFile(path, None, "", _why(exc)) from None
    if len(data) > MAX_BYTES:
        raise _too_big(path, len(data))
    return data


def read_text(path: Path) -> str:
    """The file as UTF-8 text; a byte that is not UTF-8, or a NUL, is refused at its line."""
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(path, line, "", f"not UTF-8 text (byte 0x{data[exc.start]:02x}): "
                         "save the file as UTF-8") from None
    if (nul := text.find("\0")) >= 0:
        raise InputError(path, text.count("\n", 0, nul) + 1, "", "a NUL byte: not a text file")
    return text
