"""Undo what the journal holds after a crash (kill -9, power cut): `failover recover`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.faults.base import Fault, Stamp
from harness.faults.journal import Entry, clear_finished, mark_restored, pending
from harness.faults.registry import build
from harness.faults.target import Target
from harness.lab import Lab
from harness.lab.state import LabState


@dataclass(frozen=True)
class Recovery:
    entry: Entry
    outcome: str  # "restored", "lab is down", or why it failed (the entry stays journaled)
    stamps: list[Stamp] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("restored", "lab is down")


def _lab_target(lab: str) -> Target | None:
    """The lab, if it is still up (a lab that is down holds no fault any more). A lab whose
    journal exists but cannot be loaded (topology moved or broken) is not "down": the error
    goes up and the entry stays journaled."""
    if LabState.load(lab) is None:
        return None
    found = Lab.attach(lab)
    return Target(found) if found.is_up() else None


def recover(directory: Path | None = None, include_live: bool = False) -> list[Recovery]:
    """Restore every fault the journal holds, newest first, idempotently (restoring what is
    already restored changes nothing); then remove the journal files with nothing left.
    Runs still alive are left alone unless `include_live`. A fault on real devices is undone
    through NAPALM; one on a lab that is down is gone with the lab."""
    labs: dict[str, Target | None] = {}
    results = []
    try:
        for entry in reversed(pending(directory, include_live)):
            try:
                fault = build(entry.kind, entry.params)
                if not fault.needs_lab:
                    target: Target | None = Target(None, entry.lab)
                elif entry.lab not in labs:
                    target = labs[entry.lab] = _lab_target(entry.lab)
                else:
                    target = labs[entry.lab]
            except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the others
                results.append(Recovery(entry, f"failed: {entry.lab}: {exc}"))
                continue
            results.append(_undo(entry, fault, target))
    finally:
        for found in labs.values():
            if found is not None:
                found.close()
    clear_finished(directory)
    return results


def _undo(entry: Entry, fault: Fault, target: Target | None) -> Recovery:
    if target is None:
        mark_restored(entry)
        return Recovery(entry, "lab is down")
    try:
        stamps = fault.restore(target)
    except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the others
        return Recovery(entry, f"failed: {exc}")
    mark_restored(entry)
    return Recovery(entry, "restored", stamps)
