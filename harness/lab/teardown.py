"""Remove everything a lab made, also after a crash or a half-built `up`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from harness.lab import netns
from harness.lab.frr import FrrInstance
from harness.lab.names import FRR_ETC, FRR_RUN, lab_prefix
from harness.lab.procs import alive, kill
from harness.lab.state import LabState


@dataclass
class Teardown:
    namespaces: list[str] = field(default_factory=list)
    killed: list[int] = field(default_factory=list)
    seconds: float = 0.0


def _owned_namespaces(name: str, state: LabState | None) -> set[str]:
    """The lab's namespaces: from its journal, and any left with its exact node names."""
    found = set(state.namespaces.values()) if state else set()
    if state is None:  # journal lost: fall back on names that derive from the lab name
        prefix = lab_prefix(name)
        found |= {ns for ns in netns.existing() if ns.startswith(prefix)}
        found |= {p.name for root in (FRR_ETC, FRR_RUN) if root.is_dir()
                  for p in root.iterdir() if p.name.startswith(prefix)}
    return found


def _remove_shared_frr_files() -> None:
    """ospfd writes one graceful-restart file for all pathspaces; gone with the last one."""
    if FRR_RUN.is_dir() and not any(p.is_dir() for p in FRR_RUN.iterdir()):
        (FRR_RUN / "ospfd-gr.json").unlink(missing_ok=True)


def teardown(name: str) -> Teardown:
    """Kill the lab's processes by pid, delete its namespaces, FRR files and journal."""
    start = time.monotonic()
    state = LabState.load(name)
    result = Teardown()
    present = netns.existing()
    for ns in sorted(_owned_namespaces(name, state)):
        frr = FrrInstance(pathspace=ns, hostname=ns)
        result.killed += frr.stop()
        if ns in present:
            result.killed += kill(p for p in netns.pids(ns) if alive(p))
            netns.delete(ns)
            result.namespaces.append(ns)
        frr.remove_files()
    LabState.remove(name)
    _remove_shared_frr_files()
    result.seconds = time.monotonic() - start
    return result
