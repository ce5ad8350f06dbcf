"""A deterministic share of a sweep's failures, for splitting a campaign over machines (CI
matrix jobs) or pytest-xdist workers: shard k of n takes every n-th failure from the k-th, in
the sweep's order, so the n shards are disjoint, cover every failure, and differ in size by
one at most."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from harness.errors import HarnessError

T = TypeVar("T")
_SHAPE = re.compile(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*")


@dataclass(frozen=True, order=True)
class Shard:
    index: int  # 1..count
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise HarnessError(f"shard {self.index}/{self.count}: want K/N with 1 <= K <= N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def take(self, items: Sequence[T]) -> list[T]:
        """This shard's share of `items` (in their order)."""
        return list(items[self.index - 1::self.count])

    def check(self, failures: int) -> None:
        """Refuse a split with empty shards (more shards than the sweep has failures)."""
        if self.count > failures:
            raise HarnessError(f"shard {self}: the sweep has {failures} single failures: "
                               f"split it in {failures} shards at most")


def parse_shard(text: str) -> Shard:
    """'2/4' -> Shard(2, 4); HarnessError (one line) for anything else."""
    found = _SHAPE.fullmatch(text)
    if found is None:
        raise HarnessError(f"shard {text!r}: want K/N, e.g. 2/4 (the second of four)")
    return Shard(int(found[1]), int(found[2]))


def all_shards(count: int) -> list[Shard]:
    return [Shard(k, count) for k in range(1, count + 1)]
