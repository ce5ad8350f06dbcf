"""The harness's own errors: one clear line for the user."""

from __future__ import annotations

from pathlib import Path


def one_line(text: str) -> str:
    """`text` as one printable line: newlines and other control characters escaped (a file
    name, a key or a value quoted in a message may hold them)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class HarnessError(Exception):
    """Base of every error the harness reports to its user."""


class InputError(HarnessError):
    """Bad input: names the file, line and field, and nothing was changed on the network."""

    def __init__(self, file: Path | str, line: int | None, field: str, message: str) -> None:
        self.file, self.line, self.field, self.message = str(file), line, field, message
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(one_line(f"{where}: {field}: {message}" if field
                                  else f"{where}: {message}"))


class NetworkError(HarnessError):
    """The network could not be reached, read or brought to converge (lab or devices)."""


class LabError(NetworkError):
    """The built-in lab could not be built, reached or torn down."""


class DeviceError(NetworkError):
    """A real device could not be reached or read (NAPALM, SSH)."""
