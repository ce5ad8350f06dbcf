"""Wait until a lab's routing has converged, judged from FRR's JSON and the kernel FIB.

Converged means: an OSPF adjacency Full on every router-to-router link where both ends run
OSPF (not passive), no SPF run scheduled (FRR backs SPF off up to its max hold time after
a burst of events), no router inside its `max-metric router-lsa on-startup` window, the same
LSDB on every router of an area, every BFD session up, every BGP peer Established, every
VRRP group with one master (the expected one), every STP domain with one root and no port
in transition (`harness.lab.layer2`), every
route of each router's OSPF RIB in its kernel FIB with all its ECMP next hops (and no OSPF
route in the kernel that OSPF no longer has), and then no kernel route or link change for a
settle period, or, once everything is up again, every FIB exactly as at the lab's first
convergence (a state known to be settled). The kernel FIB is the judge because FRR 8.4 can
show ECMP paths the kernel does not have (see shared notes), and OSPF's own RIB is what it
must hold because zebra's view can lag OSPF's.

Cost: each round reads every router's FRR daemons over their vty sockets (no vtysh process),
`MAX_WORKERS` routers at a time; a router's kernel is read over netlink, again only after it
announced a change, and then only its changed routes parsed; rounds are paced to `CPU_SHARE`
of one core. While only some routers' own items are missing (a BFD session not yet Up), only
those are read between rounds, within the same share. Per-daemon readers (`_READERS`) fill a
`RouterView`; judges (`waiting_for`, `JUDGES`) name what is missing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import frrjson
from harness.errors import LabError
from harness.lab.kernelwatch import KernelState, KernelWatch, read_kernel
from harness.lab.layer2 import has_layer2, read_layer2
from harness.lab.netlink import NetlinkSocket
from harness.lab.vrrp import SHOW_VRRP
from harness.rtnetlink import NETLINK_ROUTE

if TYPE_CHECKING:
    from harness.lab.lab import Lab
    from harness.topology import Link

_COMMANDS = {"ospfd": ("show ip ospf interface json", "show ip ospf json",
                       "show ip ospf route json"),
             "bfdd": (frrjson.BFD_PEERS,), "bgpd": ("show bgp summary json",),
             "vrrpd": (SHOW_VRRP,)}
MAX_WORKERS = 8  # routers read at once
CPU_SHARE = 0.10  # of one core, for the rounds of reading (the goal: 25 % for the whole wait)
MIN_INTERVAL_S = 0.05  # between rounds


@dataclass
class RouterView:
    """One poll of one router: OSPF interfaces, BFD and BGP peers, kernel routes."""

    ospf_interfaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # BFD/BGP sessions down, SPF scheduled
    fib: str = ""
    bfd_total: int = 0
    admin_up: frozenset[str] = frozenset()  # interfaces set up
    daemons: tuple[str, ...] = ()
    lsdb: dict[str, dict[str, int]] = field(default_factory=dict)  # area -> LSA counts, sums
    vrrp: Any = None  # `show vrrp json`, where vrrpd runs


@dataclass
class Convergence:
    seconds: float
    read_ns: int  # when the round of reading that found it converged started (time.time_ns)
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
    """The node's kernel routes (IPv4 and IPv6, main table) as sorted lines, read over
    netlink (`KernelState.fib`: the text the convergence check compares)."""
    sock = NetlinkSocket(lab.ns(node), NETLINK_ROUTE)
    try:
        return read_kernel(sock, lab.parsed_routes(node)).fib
    finally:
        sock.close()


def _kernel_differs(node: str, kernel: KernelState, routes: dict[str, Any]) -> list[str]:
    """Routes of ospfd's RIB (`show ip ospf route json`) the kernel lacks or holds with other
    next hops, and OSPF routes the kernel holds that ospfd no longer has. A prefix the kernel
    holds from another source (connected, static, eBGP) is that source's. Zebra's own view
    can lag ospfd's and FRR 8.4 can lose an ECMP path silently: never take a baseline then."""
    installed = dict(kernel.ospf_hops)
    other = {r.prefix for r in kernel.routes if r.prefix not in installed}
    out = []
    for prefix, route in routes.items():
        nexthops = route.get("nexthops", []) if isinstance(route, dict) and "/" in prefix else []
        hops = {nh["ip"] for nh in nexthops if isinstance(nh, dict) and nh.get("ip", " ").strip()}
        if not hops:
            continue  # directly attached, or a router route (not installed)
        have = installed.pop(prefix, None)
        if have is None and prefix not in other:
            out.append(f"{node} kernel route to {prefix} (OSPF: via {', '.join(sorted(hops))})")
        elif have is not None and have != hops:
            out.append(f"{node} kernel next hops to {prefix}: {', '.join(sorted(have))} "
                       f"(OSPF: {', '.join(sorted(hops))})")
    return out + [f"{node} kernel route to {prefix} OSPF no longer has" for prefix in installed]


def _read_ospf(view: RouterView, node: str, answer: dict[str, Any], kernel: KernelState) -> None:
    view.ospf_interfaces = answer["show ip ospf interface json"].get("interfaces", {})
    view.pending += _kernel_differs(node, kernel, answer["show ip ospf route json"])
    ospf = answer["show ip ospf json"]
    if "spfTimerDueInMsecs" in ospf:
        view.pending.append(f"{node} SPF scheduled")
    if any("activeStartupRemainderMsecs" in a for a in ospf.get("areas", {}).values()):
        view.pending.append(f"{node} still advertising max-metric after its start")
    view.lsdb = {area: {k: v for k, v in info.items()
                        if k.startswith("lsa") and isinstance(v, int)}
                 for area, info in ospf.get("areas", {}).items()}


def _read_bfd(view: RouterView, node: str, answer: dict[str, Any], _: KernelState) -> None:
    peers = frrjson.bfd_peers(answer[frrjson.BFD_PEERS])
    view.bfd_total = len(peers)
    view.pending += [f"{node} BFD to {s['peer']}" for s in peers if not s["is_up"]]


def _read_bgp(view: RouterView, node: str, answer: dict[str, Any], _: KernelState) -> None:
    summary = answer["show bgp summary json"]
    view.pending += [f"{node} BGP to {peer}" for af in summary.values()
                     if isinstance(af, dict) for peer, info in af.get("peers", {}).items()
                     if info.get("state") != "Established"]


Reader = Callable[[RouterView, str, dict[str, Any], KernelState], None]
# what each daemon is asked (`_COMMANDS`) is read into the view by its reader
def _read_vrrp(view: RouterView, _: str, answer: dict[str, Any], __: KernelState) -> None:
    view.vrrp = answer[SHOW_VRRP]  # judged with the bridges, in `harness.lab.layer2`


_READERS: dict[str, Reader] = {"ospfd": _read_ospf, "bfdd": _read_bfd, "bgpd": _read_bgp,
                               "vrrpd": _read_vrrp}


def _view(lab: Lab, node: str, kernel: KernelState) -> RouterView:
    """One router now: its FRR daemons, each asked all its commands over one vty connection;
    its kernel as `kernel` says."""
    spec = lab.node(node).frr
    assert spec is not None
    frr = lab.frr(node)
    view = RouterView(fib=kernel.fib, daemons=spec.daemons, admin_up=kernel.admin_up)
    if not frr.running("zebra"):  # powered off: its links are down, nothing to ask it
        view.daemons = ()
        return view
    for daemon, read in _READERS.items():
        if daemon not in spec.daemons or daemon == "vrrpd" and not frr.running(daemon):
            continue  # a stopped vrrpd shows nothing: layer 2 judges its groups' masters
        try:
            answer = dict(zip(_COMMANDS[daemon], frr.vty_jsons(daemon, *_COMMANDS[daemon]),
                              strict=True))
        except LabError:  # restarting (watchfrr brings it back): not converged yet
            view.pending.append(f"{node} {daemon} answering")
            continue
        read(view, node, answer, kernel)
    return view


def _runs_ospf(view: RouterView, ifname: str) -> bool:
    info = view.ospf_interfaces.get(ifname)
    return bool(info and info.get("ospfEnabled") and not info.get("timerPassiveIface"))


def _candidates(lab: Lab, views: dict[str, RouterView], expected: set[str] | None) -> list[Link]:
    """Router-to-router links that should carry an adjacency now.

    With `expected` (the adjacencies the lab converged with), those whose two ends are set up
    (not their operational state: the kernel reports it up to a second later): a link held
    down by a fault is not expected, a restored one is at once. Without
    it (first start), every link that both ends run OSPF on.
    """
    links = [lk for lk in lab.topology.links if lk.a.node in views and lk.b.node in views]
    if expected is None:
        return [lk for lk in links
                if _runs_ospf(views[lk.a.node], lk.a.interface)
                and _runs_ospf(views[lk.b.node], lk.b.interface)]
    return [lk for lk in links if str(lk) in expected
            and lk.a.interface in views[lk.a.node].admin_up
            and lk.b.interface in views[lk.b.node].admin_up]


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
    for judge in JUDGES:
        waiting += judge(views)
    return waiting, links


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


# what is missing across routers (one router's own: its reader's `pending`)
JUDGES: list[Callable[[dict[str, RouterView]], list[str]]] = [_lsdb_unsynchronised]


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
                   baseline: Baseline | None = None, stop: threading.Event | None = None,
                   through: float | None = None) -> Convergence:
    """Block until the lab has converged; `LabError` naming what is missing on timeout, or
    within ~0.1 s and the reading under way once another thread sets `stop`. With
    `through` (time.monotonic()): converged, and no kernel announcing a change from then
    until `through` (a change, and the rounds go on).

    Converged: a round of reading finds nothing missing, no kernel change was announced
    while it read, and none for `settle` seconds after the last one any router announced
    (or after the call). `baseline`: the lab at its first convergence (see
    `_candidates`, `_differs_from_baseline`).
    """
    routers = [r.name for r in lab.topology.routers]
    start = last_report = time.monotonic()
    layer2 = has_layer2(lab)
    spent: list[float] = []  # CPU seconds of each router read in the current round (and
    # between rounds: `_until_clear`)

    def read(node: str) -> RouterView:
        cpu = time.thread_time()
        try:
            return _view(lab, node, watch.get(node))
        finally:
            spent.append(time.thread_time() - cpu)

    with KernelWatch({r: lab.ns(r) for r in routers},
                     {r: lab.parsed_routes(r) for r in routers}, stop) as watch, \
            ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(routers)))) as pool:
        watch.last_change = start  # what happened just before the call counts as a change
        while True:
            if watch.stopped:
                raise LabError(f"lab {lab.name}: convergence check stopped")
            round_start, round_ns, cpu = time.monotonic(), time.time_ns(), time.thread_time()
            spent.clear()
            views = dict(zip(routers, pool.map(read, routers), strict=True))
            waiting, links = waiting_for(lab, views, baseline.ospf_links if baseline else None)
            l2 = read_layer2(lab, {r: v.vrrp for r, v in views.items() if v.vrrp is not None},
                             pool.map) if layer2 else None
            waiting += l2.waiting() if l2 else []
            if baseline and not waiting:
                waiting = _differs_from_baseline(lab, views, links, baseline)
            # everything up, nothing pending and every FIB exactly as at the first convergence:
            # the lab is back in a state known to be settled, so no settle period is needed
            settled = bool(baseline and not waiting and _everything_up(views, links, baseline)
                           and views.keys() <= baseline.fibs.keys())
            changed = watch.wait(0)  # a change while it read: it may have read a stale state
            # nothing missing, read after the last kernel change, and the kernels quiet for
            # `settle` since that change (any later change is announced, and ends the quiet),
            # and then until `through`
            converged = not waiting and not changed and (settled or not watch.wait(
                watch.last_change + settle - time.monotonic()))
            if converged and (through is None or time.monotonic() >= through
                              or not watch.wait(through - time.monotonic())) \
                    and not watch.stopped:
                return Convergence(seconds=time.monotonic() - start, read_ns=round_ns,
                                   ospf_links=[str(lk) for lk in links],
                                   bfd_sessions=sum(v.bfd_total for v in views.values()),
                                   fibs={r: v.fib for r, v in views.items()},
                                   vrrp_groups=len({m.group for m in l2.members}) if l2 else 0,
                                   stp_domains=len(l2.domains) if l2 else 0)
            now = time.monotonic()
            if now - start > timeout:
                raise LabError(f"lab {lab.name} did not converge in {timeout:.0f} s; "
                               f"waiting for: {', '.join(waiting) or 'kernel routes to settle'}")
            if progress and now - last_report >= 1.0:
                progress(f"converging ({now - start:.0f} of {timeout:.0f} s): "
                         f"{len(waiting)} item(s) pending"
                         + (f" ({', '.join(waiting[:3])}…)" if waiting else ", routes settling"))
                last_report = now
            cost = sum(spent) + time.thread_time() - cpu
            pause = max(MIN_INTERVAL_S, cost / CPU_SHARE - (now - round_start))
            until = time.monotonic() + pause
            own = [r for r, v in views.items() if v.pending]
            others = len(waiting) - sum(len(v.pending) for v in views.values())
            if own and not others and not changed:
                later = _until_clear(watch, own, read, pool.map, spent, cost / len(routers),
                                     until)
                if later is None:
                    continue  # what was missing came: a whole round at once, to confirm
                until = later
            # after a change, a round once the kernels were quiet for half the settle time: it
            # may find the network converged (at most one such round per quiet period)
            watch.wait(max(0.0, until - time.monotonic()), quiet=settle / 2, since=round_start,
                       at_least=MIN_INTERVAL_S)


def _until_clear(watch: KernelWatch, routers: list[str], read: Callable[[str], RouterView],
                 mapper: Callable[..., Any], spent: list[float], per_router: float,
                 deadline: float) -> float | None:
    """Read only `routers`, those whose own items (`RouterView.pending`: a BFD or BGP session
    down, SPF scheduled, kernel routes not yet ospfd's...) are all that is missing, each read
    after a pause that keeps it at CPU_SHARE (`per_router`: CPU seconds a router's reading
    took), the next whole round put off by as much. None once nothing is missing at them (a
    whole round should confirm at once: a BFD session's Up makes no kernel event, and waiting
    out a whole round's pace, ~0.5 s at 50 routers, made the report up to 1 s late); else,
    when a kernel announced a change or the pause is over, when the next whole round is due.
    `spent`: where `read` adds the CPU seconds of each router it reads."""
    cost = per_router * len(routers)
    while True:
        pause = max(MIN_INTERVAL_S, cost / CPU_SHARE)
        if watch.wait(min(pause, max(0.0, deadline - time.monotonic()))) \
                or time.monotonic() >= deadline or watch.stopped:
            return deadline
        cpu, before = time.thread_time(), len(spent)
        if not any(v.pending for v in mapper(read, routers)):
            return None
        cost = sum(spent[before:]) + time.thread_time() - cpu
        deadline += cost / CPU_SHARE
