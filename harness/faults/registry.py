"""Every fault kind by name, and faults built from plain parameters (scenario file, journal)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from harness.faults.base import Fault, FaultError
from harness.faults.blackhole import SilentBlackhole
from harness.faults.daemon_crash import RoutingDaemonCrash
from harness.faults.degraded_link import DegradedLink
from harness.faults.delay import Delay
from harness.faults.flapping_link import FlappingLink
from harness.faults.link_cut import LinkCut
from harness.faults.napalm_change import InterfaceShutdown, PlannedDrain
from harness.faults.node_power_loss import NodePowerLoss
from harness.faults.stp_root_failure import StpRootFailure
from harness.faults.vrrp_master_loss import VrrpMasterLoss
from harness.faults.vrrp_priority_drop import VrrpPriorityDrop

FAULTS: dict[str, type[Fault]] = {}

F = typing.TypeVar("F", bound=type[Fault])


def register(cls: F) -> F:
    """Make a fault kind known to scenario files, the journal and the published schema."""
    FAULTS[cls.kind] = cls
    return cls


for _kind in (LinkCut, NodePowerLoss, RoutingDaemonCrash, SilentBlackhole, DegradedLink,
              FlappingLink, Delay, PlannedDrain, InterfaceShutdown, VrrpMasterLoss,
              VrrpPriorityDrop, StpRootFailure):
    register(_kind)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a plain value (from YAML or JSON) fits a field's type hint."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if typing.get_origin(hint) is dict:
        return isinstance(value, dict)
    if typing.get_origin(hint) is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    return isinstance(value, hint)


def device_kinds() -> str:
    """The fault kinds that can run on real devices, for messages."""
    return ", ".join(kind for kind, cls in FAULTS.items() if cls.on_devices)


def build(kind: str, params: Mapping[str, Any]) -> Fault:
    """A fault of this kind; FaultError naming the kind and the bad parameter otherwise."""
    cls = FAULTS.get(kind)
    if cls is None:
        raise FaultError(f"unknown fault kind {kind!r} (kinds: {', '.join(FAULTS)})")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise FaultError(f"{kind}: unknown parameter {', '.join(unknown)} "
                         f"(parameters: {', '.join(fields)})")
    missing = [name for name, f in fields.items() if name not in params
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise FaultError(f"{kind}: missing parameter {', '.join(missing)}")
    for name, value in params.items():
        if not _fits(value, hints[name]):
            raise FaultError(f"{kind}: {name} must be {hint_text(hints[name])}, "
                             f"not {value!r}")
    return cls(**params)


def hint_text(hint: Any) -> str:
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    return text.replace("NoneType", "None")
