"""Device state before and after a run: OSPF and BFD neighbours, kernel routes, per router."""

from __future__ import annotations

from harness.lab import Lab
from harness.lab.converge import fib

Snapshot = dict[str, dict[str, list[str]]]


def take(lab: Lab) -> Snapshot:
    """Each router's adjacencies and FIB, as sorted text lines (stable across runs)."""
    snap: Snapshot = {}
    for router in lab.topology.routers:
        frr = lab.frr(router.name)
        ospf = frr.vtysh_json("show ip ospf neighbor json").get("neighbors", {})
        daemons = router.frr.daemons if router.frr else ()
        bfd = frr.vtysh_json("show bfd peers json") if "bfdd" in daemons else []
        snap[router.name] = {
            "ospf": sorted(f"{rid} {e.get('ifaceName', '')} {e.get('state', '')}"
                           for rid, entries in ospf.items() for e in entries),
            "bfd": sorted(f"{p.get('peer')} {p.get('interface', '')} {p.get('status')}"
                          for p in bfd or []),
            "fib": fib(lab, router.name).splitlines(),
        }
    return snap


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
