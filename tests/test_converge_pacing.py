"""The convergence check's reads between rounds (`_until_clear`), as pure logic: stand-ins
for the kernels' watch and the routers' readings (the real ones: `test_lab_scale.py`)."""

from __future__ import annotations

import time

from harness.lab.converge import CPU_SHARE, MIN_INTERVAL_S, RouterView, _until_clear


class Watch:
    """Stands in for `KernelWatch`: a kernel announces a change at the `changes`-th wait."""

    def __init__(self, changes: int = 0) -> None:
        self.waits: list[float] = []
        self.changes = changes
        self.stopped = False

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        time.sleep(seconds)
        return len(self.waits) == self.changes


def reader(missing_reads: int, spent: list[float], cost: float = 0.001):
    """A router reading whose BFD session comes Up after `missing_reads` readings."""
    reads: list[str] = []

    def read(node: str) -> RouterView:
        reads.append(node)
        spent.append(cost)
        return RouterView(pending=[f"{node} BFD to 198.18.0.1"] if len(reads) <= missing_reads
                          else [])
    return read, reads


def test_only_the_routers_missing_something_are_read_until_it_comes() -> None:
    spent: list[float] = []
    read, reads = reader(2, spent)
    start = time.monotonic()
    assert _until_clear(Watch(), ["r1"], read, map, spent, 0.001, start + 5.0) is None
    assert reads == ["r1"] * 3  # missing, missing, there: a whole round confirms at once
    assert time.monotonic() - start < 1.0  # not the whole round's pause


def test_the_reads_keep_to_the_cpu_share_and_put_the_next_round_off() -> None:
    spent: list[float] = []
    read, reads = reader(1000, spent, cost=0.004)  # never comes
    watch = Watch()
    deadline = time.monotonic() + 0.3
    later = _until_clear(watch, ["r1", "r2"], read, map, spent, 0.004, deadline)
    assert later is not None and len(reads) >= 2
    assert all(w >= MIN_INTERVAL_S - 1e-9 for w in watch.waits[:-1])  # the last: the deadline
    assert watch.waits[0] >= 2 * 0.004 / CPU_SHARE - 1e-9  # paced before its first read
    assert later - deadline >= len(reads) * 0.004 / CPU_SHARE - 1e-9  # the round put off


def test_a_kernel_change_ends_the_reads_for_the_rounds_own_quiet_wait() -> None:
    spent: list[float] = []
    read, reads = reader(1000, spent)
    deadline = time.monotonic() + 5.0
    later = _until_clear(Watch(changes=2), ["r1"], read, map, spent, 0.001, deadline)
    assert reads == ["r1"]  # one read between the two waits
    assert later is not None and 0.001 / CPU_SHARE <= later - deadline < 0.05  # that read's CPU


def test_a_stop_ends_the_reads_at_once() -> None:
    spent: list[float] = []
    read, reads = reader(1000, spent)
    watch = Watch()
    watch.stopped = True
    start = time.monotonic()
    assert _until_clear(watch, ["r1"], read, map, spent, 0.001, start + 5.0) == start + 5.0
    assert reads == [] and time.monotonic() - start < 0.2
