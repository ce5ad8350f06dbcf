"""Root qdiscs the fault library adds, recognised by their handle so restore removes only them.

Removing our root qdisc gives the interface back its default (noqueue on a veth); a root
qdisc that was there before the fault is not put back (the built-in lab has none).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

from harness.faults.base import Stamp
from harness.faults.target import Target, ends_text
from harness.lab.netlink import root_qdisc, root_qdisc_delete
from harness.topology import Endpoint

BLACKHOLE = 0xFA110000  # handle fa11:
DELAY = 0xFA120000  # handle fa12:


def handle_text(handle: int) -> str:
    return f"{handle >> 16:x}:"


def add(target: Target, ends: Sequence[Endpoint], handle: int, kind: str,
        options: bytes) -> Stamp:
    kernel = target.kernel
    calls = [(kernel.socket(e.node), [root_qdisc(kernel.ifindex(e), handle, kind, options)])
             for e in ends]
    return target.kernel.apply(f"{ends_text(ends)} root qdisc {handle_text(handle)} {kind}", calls)


def remove(target: Target, ends: Sequence[Endpoint], handle: int) -> Stamp:
    """Delete our root qdisc where it is; EINVAL means the root qdisc is not ours (gone)."""
    calls = [(target.kernel.socket(e.node), [root_qdisc_delete(target.kernel.ifindex(e), handle)])
             for e in ends]
    return target.kernel.apply(f"{ends_text(ends)} root qdisc {handle_text(handle)} removed", calls,
                        ignore=(errno.EINVAL, errno.ENOENT))
