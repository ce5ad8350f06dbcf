"""Wait until a lab's routing has converged, judged from FRR's JSON and the kernel FIB.

Converged means: an OSPF adjacency on every router-to-router link where both ends run
OSPF (not passive), no SPF run scheduled (FRR backs SPF off up to its max hold time after
a burst of events), no router inside its `max-metric router-lsa on-startup` window, every
BFD session up, every BGP peer Established, every VRRP group with one master (the expected
one) and every STP domain with one root and no port in transition (`harness.lab.layer2`),
and then every router's kernel routes unchanged
for a settle period, or, once everything is up again, exactly as at the lab's first
convergence (a state known to be settled). The kernel FIB is the judge because
FRR 8.4 can show ECMP paths the kernel does not have (see shared notes).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import frrjson
from harness.errors import LabError
from harness.lab.layer2 import has_layer2, read_layer2
from harness.lab.netns import oper_states
from harness.lab.shell import run
from harness.lab.vrrp import SHOW_VRRP

if TYPE_CHECKING:
    from harness.lab.lab import Lab
    from harness.topology import Link

_COMMANDS = {"ospfd": ("show ip ospf interface json", "show ip route ospf json",
                       "show ip ospf json"),
             "bfdd": (frrjson.BFD_PEERS,), "bgpd": ("show bgp summary json",),
             "vrrpd": (SHOW_VRRP,)}
_VOLATILE = re.compile(r"\s(nhid \d+|expires \S+|age \S+)")


@dataclass
class RouterView:
    """One poll of one router: OSPF interfaces, BFD and BGP peers, kernel routes."""

    ospf_interfaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # BFD/BGP sessions down, SPF scheduled
    fib: str = ""
    bfd_total: int = 0
    oper: dict[str, str] = field(default_factory=dict)
    daemons: tuple[str, ...] = ()
    lsdb: dict[str, dict[str, int]] = field(default_factory=dict)  # area -> LSA counts, sums
    vrrp: Any = None  # `show vrrp json`, where vrrpd runs


@dataclass
class Convergence:
    seconds: float
    ospf_links: list[str]
    bfd_sessions: int
    fibs: dict[str, str] = field(default_factory=dict)
    vrrp_groups: int = 0
    stp_domains: int = 0


@dataclass(frozen=True)
class Baseline:
    """How the lab looked when it first converged: what 'restored' means."""

    ospf_links: set[str]
    fibs: dict[str, str]


def fib(lab: Lab, node: str) -> str:
    """The node's kernel routes (IPv4 and IPv6), sorted, without volatile fields (the kernel
    lists routes in insertion order, which a restore changes)."""
    ns = lab.ns(node)
    out = run(["ip", "-n", ns, "-o", "route", "show"]).stdout + \
        run(["ip", "-n", ns, "-o", "-6", "route", "show"]).stdout
    return "\n".join(sorted(line.strip() for line in _VOLATILE.sub("", out).splitlines()))


def _kernel_differs(lab: Lab, node: str, frr: dict[str, Any]) -> list[str]:
    """OSPF routes whose kernel next hops are not the ones zebra says it installed (`frr`:
    `show ip route ospf json`); the FRR 8.4 ECMP bug can keep one path, or the wrong one,
    silently: never take a baseline then."""
    out = run(["ip", "-n", lab.ns(node), "-j", "route", "show", "proto", "ospf"]).stdout
    kernel = {(e["dst"] if "/" in e["dst"] else f"{e['dst']}/32"):
              {nh.get("gateway") for nh in e.get("nexthops", [e])}
              for e in json.loads(out or "[]")}
    return [f"{node} kernel next hops to {prefix} differ from FRR's"
            for prefix, entries in frr.items() for e in entries if e.get("installed")
            for hops in [{nh.get("ip") for nh in e.get("nexthops", []) if nh.get("fib")}]
            if hops and kernel.get(prefix, set()) != hops]


def _view(lab: Lab, node: str) -> RouterView:
    spec = lab.node(node).frr
    assert spec is not None
    frr = lab.frr(node)
    view = RouterView(fib=fib(lab, node), daemons=spec.daemons, oper=oper_states(lab.ns(node)))
    running = frr.pids()
    if "zebra" not in running:  # powered off: its links are down, nothing to ask it
        view.daemons = ()
        return view
    asked = [c for daemon, commands in _COMMANDS.items() if daemon in spec.daemons
             and (daemon != "vrrpd" or daemon in running)  # vtysh fails on a stopped vrrpd
             for c in commands]
    answer = dict(zip(asked, frr.vtysh_jsons(*asked), strict=True)) if asked else {}
    if "ospfd" in spec.daemons:
        view.ospf_interfaces = answer["show ip ospf interface json"].get("interfaces", {})
        view.pending += _kernel_differs(lab, node, answer["show ip route ospf json"])
        ospf = answer["show ip ospf json"]
        if "spfTimerDueInMsecs" in ospf:
            view.pending.append(f"{node} SPF scheduled")
        if any("activeStartupRemainderMsecs" in a for a in ospf.get("areas", {}).values()):
            view.pending.append(f"{node} still advertising max-metric after its start")
        view.lsdb = {area: {k: v for k, v in info.items()
                            if k.startswith("lsa") and isinstance(v, int)}
                     for area, info in ospf.get("areas", {}).items()}
    if "bfdd" in spec.daemons:
        peers = frrjson.bfd_peers(answer[frrjson.BFD_PEERS])
        view.bfd_total = len(peers)
        view.pending += [f"{node} BFD to {s['peer']}" for s in peers if not s["is_up"]]
    view.vrrp = answer.get(SHOW_VRRP)
    if "bgpd" in spec.daemons:
        summary = answer["show bgp summary json"]
        view.pending += [f"{node} BGP to {peer}" for af in summary.values()
                         if isinstance(af, dict) for peer, info in af.get("peers", {}).items()
                         if info.get("state") != "Established"]
    return view


def _runs_ospf(view: RouterView, ifname: str) -> bool:
    info = view.ospf_interfaces.get(ifname)
    return bool(info and info.get("ospfEnabled") and not info.get("timerPassiveIface"))


def _candidates(lab: Lab, views: dict[str, RouterView], expected: set[str] | None) -> list[Link]:
    """Router-to-router links that should carry an adjacency now.

    With `expected` (the adjacencies the lab converged with), those whose two ends are up
    in the kernel: a link held down by a fault is not expected, a restored one is. Without
    it (first start), every link that both ends run OSPF on.
    """
    links = [lk for lk in lab.topology.links if lk.a.node in views and lk.b.node in views]
    if expected is None:
        return [lk for lk in links
                if _runs_ospf(views[lk.a.node], lk.a.interface)
                and _runs_ospf(views[lk.b.node], lk.b.interface)]
    return [lk for lk in links if str(lk) in expected
            and views[lk.a.node].oper.get(lk.a.interface) == "UP"
            and views[lk.b.node].oper.get(lk.b.interface) == "UP"]


def waiting_for(lab: Lab, views: dict[str, RouterView],
                expected: set[str] | None = None) -> tuple[list[str], list[Link]]:
    """What is not converged yet, and the links that should carry an adjacency."""
    waiting = [f"{r} OSPF interfaces" for r, v in views.items()
               if "ospfd" in v.daemons and not v.ospf_interfaces]
    links = _candidates(lab, views, expected)
    for lk in links:
        for end in (lk.a, lk.b):
            info = views[end.node].ospf_interfaces.get(end.interface, {})
            if info.get("nbrAdjacentCount", 0) < 1:
                waiting.append(f"{end} OSPF adjacency")
    for view in views.values():
        waiting += view.pending
    return waiting + _lsdb_unsynchronised(views), links


def _lsdb_unsynchronised(views: dict[str, RouterView]) -> list[str]:
    """Areas whose live OSPF routers do not yet hold the same LSDB (LSA counts and checksums),
    or hold fewer router-LSAs than there are live routers in the area."""
    areas: dict[str, list[dict[str, int]]] = {}
    for view in views.values():
        for area, counts in view.lsdb.items():
            areas.setdefault(area, []).append(counts)
    out = []
    for area, lsdbs in areas.items():
        same = len({tuple(sorted(c.items())) for c in lsdbs}) == 1
        if not same or min(c.get("lsaRouterNumber", 0) for c in lsdbs) < len(lsdbs):
            out.append(f"OSPF area {area} LSDB synchronisation")
    return out


def _everything_up(views: dict[str, RouterView], links: list[Link], baseline: Baseline) -> bool:
    return len(links) == len(baseline.ospf_links) and all(v.daemons for v in views.values())


def _differs_from_baseline(lab: Lab, views: dict[str, RouterView], links: list[Link],
                           baseline: Baseline) -> list[str]:
    """Once everything is up again, every router's FIB must be back to its baseline (FRR's
    own state can look converged while LSAs are still being re-originated)."""
    if not _everything_up(views, links, baseline):
        return []
    out = []
    for r, v in views.items():
        if r in baseline.fibs and v.fib != baseline.fibs[r]:
            old, new = set(baseline.fibs[r].splitlines()), set(v.fib.splitlines())
            change = [f"-{x}" for x in sorted(old - new)] + [f"+{x}" for x in sorted(new - old)]
            out.append(f"{r} routes back to baseline ({'; '.join(change[:2])})")
    return out


def wait_converged(lab: Lab, timeout: float = 60.0, settle: float = 0.3,
                   progress: Callable[[str], None] | None = None,
                   baseline: Baseline | None = None) -> Convergence:
    """Block until the lab has converged; `LabError` naming what is missing on timeout.

    `baseline`: the lab at its first convergence (see `_candidates`, `_differs_from_baseline`).
    """
    routers = [r.name for r in lab.topology.routers]
    start = time.monotonic()
    stable_since: float | None = None
    last_fibs: dict[str, str] = {}
    last_report = start
    layer2 = has_layer2(lab)
    with ThreadPoolExecutor(max_workers=max(1, len(routers))) as pool:
        while True:
            views = dict(zip(routers, pool.map(lambda r: _view(lab, r), routers), strict=True))
            waiting, links = waiting_for(lab, views, baseline.ospf_links if baseline else None)
            l2 = read_layer2(lab, {r: v.vrrp for r, v in views.items() if v.vrrp is not None},
                             pool.map) if layer2 else None
            waiting += l2.waiting() if l2 else []
            if baseline and not waiting:
                waiting = _differs_from_baseline(lab, views, links, baseline)
            fibs = {r: v.fib for r, v in views.items()}
            now = time.monotonic()
            # everything up, nothing pending and every FIB exactly as at the first convergence:
            # the lab is back in a state known to be settled, so no settle period is needed
            settled = bool(baseline and not waiting and _everything_up(views, links, baseline)
                           and views.keys() <= baseline.fibs.keys())
            if waiting:
                stable_since = None
            elif fibs != last_fibs or stable_since is None:
                stable_since = now
            if settled or (stable_since is not None and now - stable_since >= settle):
                return Convergence(seconds=now - start, ospf_links=[str(lk) for lk in links],
                                   bfd_sessions=sum(v.bfd_total for v in views.values()),
                                   fibs=fibs,
                                   vrrp_groups=len({m.group for m in l2.members}) if l2 else 0,
                                   stp_domains=len(l2.domains) if l2 else 0)
            last_fibs = fibs
            if now - start > timeout:
                raise LabError(f"lab {lab.name} did not converge in {timeout:.0f} s; "
                               f"waiting for: {', '.join(waiting) or 'kernel routes to settle'}")
            if progress and now - last_report >= 1.0:
                progress(f"converging ({now - start:.0f} of {timeout:.0f} s): "
                         f"{len(waiting)} item(s) pending"
                         + (f" ({', '.join(waiting[:3])}…)" if waiting else ", routes settling"))
                last_report = now
            time.sleep(0.05)
