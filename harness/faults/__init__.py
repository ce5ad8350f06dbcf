"""Faults injected into a running lab, journaled on disk so none outlives a crash.

Each kind is one module with a dataclass of plain parameters (see `FAULTS`); `Guard`
injects them with a journal entry first and restores them on every way out; `recover`
undoes what a crashed run left.
"""

from harness.faults.base import Fault, FaultError, Scope, Stamp
from harness.faults.guard import Guard
from harness.faults.journal import Journal, journal_dir, pending
from harness.faults.recover import Recovery, recover
from harness.faults.registry import FAULTS, build, register
from harness.faults.target import Target

__all__ = ["FAULTS", "Fault", "FaultError", "Guard", "Journal", "Recovery", "Scope", "Stamp",
           "Target", "build", "journal_dir", "pending", "recover", "register"]
