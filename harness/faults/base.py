"""What every fault is: plain parameters, inject/restore with timestamps, one-line description."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from harness.errors import HarnessError
from harness.topology import Link, Topology

if TYPE_CHECKING:
    from harness.faults.target import Target


def param(doc: str, example: Any, **default: Any) -> Any:
    """A fault parameter: its dataclass field, with the description and example the published
    schema gives it (`default=` or `default_factory=` as for `dataclasses.field`)."""
    return field(metadata={"doc": doc, "example": example}, **default)


class FaultError(HarnessError):
    """A fault cannot be built, injected or restored; nothing was changed unless it says so."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise FaultError(message)


@dataclass(frozen=True)
class Stamp:
    """One effective change and when it ran: both clocks read immediately before and after
    the call that made it (CLOCK_MONOTONIC is the probe engine's clock too)."""

    what: str
    mono_start_ns: int
    mono_end_ns: int
    wall_start_ns: int
    wall_end_ns: int
    detail: str = ""  # e.g. the configuration diff a commit pushed

    @property
    def call_ns(self) -> int:
        return self.mono_end_ns - self.mono_start_ns


def timed(what: str, action: Callable[[], object]) -> Stamp:
    """Run `action` between two readings of each clock (monotonic innermost)."""
    wall = time.time_ns()
    mono = time.monotonic_ns()
    action()
    mono_end = time.monotonic_ns()
    return Stamp(what, mono, mono_end, wall, time.time_ns())


@dataclass(frozen=True)
class Scope:
    """What a fault takes out of forwarding while it is in place (the redundancy gate finds
    last paths with it, and nothing else): whole nodes, links, single interfaces no link
    names (a node's bridge: `ports`, as (node, interface)), routers whose first-hop gateway
    role (VRRP) stops (`gateways`: the other members of their groups must take over);
    whether the data plane keeps forwarding (a control-plane crash); whether it is silent
    (no carrier loss: only BFD or protocol timers notice)."""

    nodes: frozenset[str] = frozenset()
    links: frozenset[Link] = frozenset()
    keeps_forwarding: bool = False
    silent: bool = False
    ports: frozenset[tuple[str, str]] = frozenset()
    gateways: frozenset[str] = frozenset()

    def __or__(self, other: Scope) -> Scope:
        return Scope(self.nodes | other.nodes, self.links | other.links,
                     self.keeps_forwarding and other.keeps_forwarding,
                     self.silent or other.silent, self.ports | other.ports,
                     self.gateways | other.gateways)


class Fault(ABC):
    """A fault kind is a dataclass of plain parameters (what a scenario file gives).

    `check` resolves names and raises FaultError before anything changes; `inject` and
    `restore` return the Stamps of their effective calls; `restore` is idempotent and may run
    in another process (from the journal) on a fault this process never injected.
    """

    kind: ClassVar[str]
    internal: ClassVar[tuple[str, ...]] = ()  # parameters the harness fills in, not a file
    on_devices: ClassVar[bool] = False  # can run on real devices (through NAPALM)

    @abstractmethod
    def scope(self, topology: Topology) -> Scope:
        """What the fault takes out of forwarding in this topology (names already checked)."""

    def details(self) -> list[str]:
        """More lines for --dry-run (e.g. the configuration a fault commits)."""
        return []

    @abstractmethod
    def check(self, target: Target) -> None:
        """Raise FaultError if the fault cannot be injected into this lab; change nothing."""

    @abstractmethod
    def inject(self, target: Target) -> list[Stamp]: ...

    @abstractmethod
    def restore(self, target: Target) -> list[Stamp]: ...

    @property
    def needs_lab(self) -> bool:
        """Whether it acts on the built-in lab (its kernel, its FRR), not on real devices."""
        return True

    @abstractmethod
    def describe(self) -> str:
        """One line for --dry-run and reports."""

    def journal_entry(self) -> dict[str, Any]:
        """How to rebuild this fault to undo it: its kind and parameters."""
        return {"kind": self.kind, "params": asdict(self)}  # type: ignore[call-overload]
