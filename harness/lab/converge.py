"""Wait until a lab's routing has converged, judged from FRR's JSON and the kernel FIB.

Converged means: an OSPF adjacency on every router-to-router link where both ends run
OSPF (not passive), no SPF run scheduled (FRR backs SPF off up to its max hold time after
a burst of events), no router inside its `max-metric router-lsa on-startup` window, every
BFD session up, every BGP peer Established, and then every router's kernel routes unchanged
for a settle period, or, once everything is up again, exactly as at the lab's first
convergence (a state known to be settled). The kernel FIB is the judge because
FRR 8.4 can show ECMP paths the kernel does not have (see shared notes).
"""

from __future__ import annotations

import re
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import frrjson
from harness.errors import LabError
from harness.lab.kernelwatch import KernelWatch
from harness.lab.shell import run

if TYPE_CHECKING:
    from harness.lab.lab import Lab
    from harness.topology import Link

_COMMANDS = {"ospfd": ("show ip ospf interface json", "show ip ospf json"),
             "zebra": ("show ip route ospf json",),
             "bfdd": (frrjson.BFD_PEERS,), "bgpd": ("show bgp summary json",)}
MAX_WORKERS = 8  # routers read at once
CPU_SHARE = 0.15  # of one core for the rounds of reading (the goal: 25 % for the whole wait)
MIN_INTERVAL_S = 0.05
_LINK = re.compile(r"\d+: ([^:@\s]+)\S*: .* state (\S+)")  # `ip -o link show`: name, state
_VIA = re.compile(r"\bvia (?:inet6? )?([0-9a-fA-F.:]+)")
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


@dataclass
class Convergence:
    seconds: float
    ospf_links: list[str]
    bfd_sessions: int
    fibs: dict[str, str] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # what the wait itself used: this process and the commands it ran


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended, so far."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


@dataclass(frozen=True)
class Baseline:
    """How the lab looked when it first converged: what 'restored' means."""

    ospf_links: set[str]
    fibs: dict[str, str]


def fib(lab: Lab, node: str) -> str:
    """The node's kernel routes (IPv4 and IPv6), sorted, without volatile fields (the kernel
    lists routes in insertion order, which a restore changes)."""
    ns = lab.ns(node)
    return _sorted_routes(run(["ip", "-n", ns, "-o", "route", "show"]).stdout +
                          run(["ip", "-n", ns, "-o", "-6", "route", "show"]).stdout)


def _sorted_routes(out: str) -> str:
    return "\n".join(sorted(line.strip() for line in _VOLATILE.sub("", out).splitlines()))


@dataclass(frozen=True)
class KernelView:
    """A router's kernel state: routes (as `fib`), OSPF routes' next hops, link states."""

    fib: str
    ospf_hops: dict[str, set[str]]
    oper: dict[str, str]


def _kernel(lab: Lab, node: str) -> KernelView:
    """Routes, OSPF next hops and link states in two `ip` runs (`ip -batch` takes no family
    per line): IPv4 routes and links, then IPv6 routes."""
    ns = lab.ns(node)
    v4, links = [], {}
    for line in run(["ip", "-n", ns, "-o", "-batch", "-"], stdin="route show\nlink show\n"
                    ).stdout.splitlines():
        if link := _LINK.match(line):
            links[link[1]] = link[2]
        else:
            v4.append(line)
    hops = {(dst if "/" in dst else f"{dst}/32"): set(_VIA.findall(line))
            for line in v4 if " proto ospf " in line for dst in [line.split()[0]]}
    v6 = run(["ip", "-n", ns, "-o", "-6", "route", "show"]).stdout
    return KernelView(_sorted_routes("\n".join(v4) + "\n" + v6), hops, links)


def _kernel_differs(node: str, kernel: KernelView, frr: dict[str, Any]) -> list[str]:
    """OSPF routes whose kernel next hops are not the ones zebra says it installed (`frr`:
    `show ip route ospf json`); the FRR 8.4 ECMP bug can keep one path, or the wrong one,
    silently: never take a baseline then."""
    return [f"{node} kernel next hops to {prefix} differ from FRR's"
            for prefix, entries in frr.items() for e in entries if e.get("installed")
            for hops in [{nh.get("ip") for nh in e.get("nexthops", []) if nh.get("fib")}]
            if hops and kernel.ospf_hops.get(prefix, set()) != hops]


def _view(lab: Lab, node: str, kernel: KernelView) -> RouterView:
    """One router now: FRR read straight from its daemons' vty sockets, one connection per
    daemon with all its commands; the kernel as `kernel` says."""
    spec = lab.node(node).frr
    assert spec is not None
    frr = lab.frr(node)
    view = RouterView(fib=kernel.fib, daemons=spec.daemons, oper=kernel.oper)
    if "zebra" not in frr.pids():  # powered off: its links are down, nothing to ask it
        view.daemons = ()
        return view
    answer: dict[str, Any] = {}
    for daemon, commands in _COMMANDS.items():
        if daemon in spec.daemons:
            try:
                answer.update(zip(commands, frr.vty_jsons(daemon, *commands), strict=True))
            except LabError:  # restarting (watchfrr brings it back): not converged yet
                view.pending.append(f"{node} {daemon} answering")
                answer.update({c: {} for c in commands})
    if "ospfd" in spec.daemons:
        view.ospf_interfaces = answer["show ip ospf interface json"].get("interfaces", {})
        view.pending += _kernel_differs(node, kernel, answer["show ip route ospf json"])
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

    Each round reads every router (`MAX_WORKERS` at a time); kernel state is read again only
    where the kernel announced a change. Rounds are paced to use at most `CPU_SHARE` of a core.
    Converged: a round finds nothing missing, then no kernel changes for `settle` seconds.
    `baseline`: the lab at its first convergence (see `_candidates`, `_differs_from_baseline`).
    """
    routers = [r.name for r in lab.topology.routers]
    start, cpu = time.monotonic(), cpu_seconds()
    last_report = start
    with KernelWatch({r: lab.ns(r) for r in routers}, lambda r: _kernel(lab, r)) as kernel, \
            ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(routers)))) as pool:
        while True:
            round_start, round_cpu = time.monotonic(), cpu_seconds()
            views = dict(zip(routers, pool.map(lambda r: _view(lab, r, kernel.get(r)), routers),
                             strict=True))
            waiting, links = waiting_for(lab, views, baseline.ospf_links if baseline else None)
            if baseline and not waiting:
                waiting = _differs_from_baseline(lab, views, links, baseline)
            # everything up, nothing pending and every FIB exactly as at the first convergence:
            # the lab is back in a state known to be settled, so no settle period is needed
            settled = bool(baseline and not waiting and _everything_up(views, links, baseline)
                           and views.keys() <= baseline.fibs.keys())
            if settled or (not waiting and kernel.quiet(
                    settle - (time.monotonic() - kernel.last_change))):
                return Convergence(seconds=time.monotonic() - start,
                                   ospf_links=[str(lk) for lk in links],
                                   bfd_sessions=sum(v.bfd_total for v in views.values()),
                                   fibs={r: v.fib for r, v in views.items()},
                                   cpu_seconds=cpu_seconds() - cpu)
            now = time.monotonic()
            if now - start > timeout:
                raise LabError(f"lab {lab.name} did not converge in {timeout:.0f} s; "
                               f"waiting for: {', '.join(waiting) or 'kernel routes to settle'}")
            if progress and now - last_report >= 1.0:
                progress(f"converging ({now - start:.0f} of {timeout:.0f} s): "
                         f"{len(waiting)} item(s) pending"
                         + (f" ({', '.join(waiting[:3])}…)" if waiting else ", routes settling"))
                last_report = now
            time.sleep(max(MIN_INTERVAL_S, (cpu_seconds() - round_cpu) / CPU_SHARE
                           - (time.monotonic() - round_start)))
