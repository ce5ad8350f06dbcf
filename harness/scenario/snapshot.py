"""Device state before and after a run: OSPF and BFD neighbours, kernel routes, per router."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harness.lab import Lab
from harness.lab.converge import fib
from harness.topology import Node

Snapshot = dict[str, dict[str, list[str]]]


def take(lab: Lab) -> Snapshot:
    """Each router's adjacencies and FIB, as sorted text lines (stable across runs); the
    routers are asked in parallel."""
    routers = lab.topology.routers
    with ThreadPoolExecutor(max_workers=max(1, len(routers))) as pool:
        return dict(zip((r.name for r in routers), pool.map(lambda r: _router(lab, r), routers),
                        strict=True))


def _router(lab: Lab, router: Node) -> dict[str, list[str]]:
    daemons = router.frr.daemons if router.frr else ()
    bfdd = "bfdd" in daemons
    ospf, *bfd = lab.frr(router.name).vtysh_jsons(
        "show ip ospf neighbor json", *(["show bfd peers json"] if bfdd else []))
    return {
        "ospf": sorted(f"{rid} {e.get('ifaceName', '')} {e.get('state', '')}"
                       for rid, entries in ospf.get("neighbors", {}).items() for e in entries),
        "bfd": sorted(f"{p.get('peer')} {p.get('interface', '')} {p.get('status')}"
                      for p in (bfd[0] if bfd else None) or []),
        "fib": fib(lab, router.name).splitlines(),
    }


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs, one line each ('-' before only, '+' after only)."""
    out = []
    for node in sorted(set(before) | set(after)):
        for part in ("ospf", "bfd", "fib"):
            old = set(before.get(node, {}).get(part, []))
            new = set(after.get(node, {}).get(part, []))
            out += [f"{node} {part}: - {line}" for line in sorted(old - new)]
            out += [f"{node} {part}: + {line}" for line in sorted(new - old)]
    return out
