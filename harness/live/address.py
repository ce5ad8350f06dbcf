"""Where the live page listens, from `--live [ADDR:]PORT`: localhost unless an address is
given; anywhere but localhost, only with an access token."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from harness.errors import HarnessError

LOCALHOST = "127.0.0.1"
LOOPBACK_NAMES = {"localhost": LOCALHOST}
NO_TOKEN = {LOCALHOST, "::1"}  # the local host itself: no token needed


class LiveAddressError(HarnessError):
    """A `--live` value that is not [ADDR:]PORT."""


@dataclass(frozen=True)
class LiveAddress:
    host: str  # an IP address literal
    port: int  # 0: any free port

    @property
    def needs_token(self) -> bool:
        return self.host not in NO_TOKEN

    @property
    def ipv6(self) -> bool:
        return ":" in self.host


def parse_address(value: str) -> LiveAddress:
    """`PORT`, `ADDR:PORT` or `[IPV6]:PORT` (ADDR an IP address or localhost; PORT 0 picks a
    free one); raises LiveAddressError naming the value."""
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise _bad(value, "write an IPv6 address in brackets: [ADDR]:PORT")
    if sep and not host:
        raise _bad(value, "no address before the ':'")
    host = LOOPBACK_NAMES.get(host, host) if sep else LOCALHOST
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        raise _bad(value, f"{host!r} is not an IP address (or localhost)") from None
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise _bad(value, f"{port!r} is not a port (0 to 65535)")
    return LiveAddress(host, int(port))


def _bad(value: str, why: str) -> LiveAddressError:
    return LiveAddressError(f"--live {value!r}: {why} (want [ADDR:]PORT, e.g. 8080 or "
                            "0.0.0.0:8080)")
