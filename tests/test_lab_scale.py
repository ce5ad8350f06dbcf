"""Real-size labs: generated dual-core topologies, routers with many OSPF interfaces."""

from __future__ import annotations

import json
import re
import threading
import uuid
from pathlib import Path

import pytest
from conftest import require_lab_host

from harness import frrjson
from harness.errors import LabError
from harness.lab import Lab
from harness.lab.converge import Convergence, _kernel_differs, wait_converged
from harness.lab.kernelwatch import RTPROT_OSPF, KernelState, Route
from harness.lab.shell import run
from harness.lab.teardown import teardown
from harness.topology import load_topology
from harness.topology.generate import dual_core


@pytest.mark.parametrize(("dists", "hosts", "uplinks"), [(1, 0, 1), (8, 1, 1), (48, 2, 1),
                                                          (3, 0, 10), (200, 1, 1)])
def test_generated_topologies_validate(tmp_path: Path, dists: int, hosts: int,
                                       uplinks: int) -> None:
    topo = load_topology(dual_core(tmp_path, dists, hosts, uplinks))
    assert len(topo.routers) == dists + 2
    assert len(topo.nodes) == dists * (hosts + 1) + 2
    assert len(topo.links) == 1 + dists * (2 * uplinks + hosts)
    assert len(topo.links_of("core1")) == 1 + dists * uplinks


def test_generator_refuses_sizes_its_addressing_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        dual_core(tmp_path, 201)


@pytest.mark.lab
def test_a_router_with_30_routed_ospf_interfaces_converges(tmp_path: Path) -> None:
    """core1: one link to core2 and 10 to each of 3 distribution routers (31 adjacencies;
    past the namespace's default limit of 20 multicast memberships per socket)."""
    require_lab_host()
    lab = Lab(load_topology(dual_core(tmp_path, 3, hosts=0, uplinks=10,
                                      name=f"t{uuid.uuid4().hex[:6]}")))
    try:
        lab.up(timeout=60)
        neighbors = frrjson.ospf_neighbors(lab.vtysh_json("core1", frrjson.OSPF_NEIGHBORS))
        assert sorted(n.interface for n in neighbors if n.adjacency == "Full") == \
            sorted(f"eth{i}" for i in range(1, 32))
    finally:
        teardown(lab.name)


@pytest.mark.lab
def test_the_convergence_reading_agrees_with_frr_neighbour_states(tmp_path: Path) -> None:
    """25 routers: the links the check reports adjacent are exactly those where FRR (asked
    through vtysh, not the check's own sockets) shows both ends Full on that interface."""
    require_lab_host()
    lab = Lab(load_topology(dual_core(tmp_path, 23, hosts=0, name=f"t{uuid.uuid4().hex[:6]}")))
    try:
        report = lab.up(timeout=90)
        assert report.convergence is not None
        full = {(r.name, n.interface) for r in lab.topology.routers
                for n in frrjson.ospf_neighbors(lab.vtysh_json(r.name, frrjson.OSPF_NEIGHBORS))
                if n.adjacency == "Full"}
        frr_links = {str(lk) for lk in lab.topology.links
                     if {(lk.a.node, lk.a.interface), (lk.b.node, lk.b.interface)} <= full}
        assert sorted(report.convergence.ospf_links) == sorted(frr_links)
        assert len(frr_links) == 1 + 2 * 23
        assert report.convergence.bfd_sessions == 2 * len(frr_links)
    finally:
        teardown(lab.name)


@pytest.mark.lab
def test_the_check_waits_while_a_kernel_lacks_an_ospf_ecmp_next_hop(tmp_path: Path) -> None:
    """dist1's kernel route to another distribution LAN keeps one of its two ECMP next hops
    (OSPF's RIB has both): the check names it, and a wait in progress does not end until the
    route is deleted and zebra installs it again, whole."""
    require_lab_host()
    lab = Lab(load_topology(dual_core(tmp_path, 2, hosts=1, name=f"t{uuid.uuid4().hex[:6]}")))
    try:
        lab.up(timeout=60)
        ns = lab.ns("dist1")
        [route] = [r for r in json.loads(run(["ip", "-n", ns, "-j", "route", "show", "proto",
                                              "ospf"]).stdout)
                   if r["dst"].endswith("/24") and len(r.get("nexthops", [])) == 2]
        prefix, hops = route["dst"], sorted(h["gateway"] for h in route["nexthops"])
        run(["ip", "-n", ns, "route", "replace", prefix, "via", hops[0], "proto", "ospf",
             "metric", "20"])
        with pytest.raises(LabError, match=re.escape(
                f"dist1 kernel next hops to {prefix}: {hops[0]} (OSPF: {', '.join(hops)})")):
            wait_converged(lab, timeout=2)
        done: list[Convergence] = []
        waiter = threading.Thread(target=lambda: done.append(wait_converged(lab, timeout=30)))
        waiter.start()
        waiter.join(1.5)
        assert waiter.is_alive() and not done
        run(["ip", "-n", ns, "route", "del", prefix])  # zebra puts its route back
        waiter.join(30)
        assert done
        [back] = json.loads(run(["ip", "-n", ns, "-j", "route", "show", prefix]).stdout)
        assert sorted(h["gateway"] for h in back["nexthops"]) == hops
    finally:
        teardown(lab.name)


def test_the_kernel_must_hold_every_ospf_route_with_all_its_next_hops() -> None:
    """The comparison alone (no lab): an ECMP hop missing, a route missing, a stale OSPF route
    are named; a directly attached network, a router route and a prefix another source
    installed (static) are not OSPF's to install."""
    kernel = KernelState((
        Route("198.19.1.0/24", RTPROT_OSPF, (("198.18.1.2", "eth1"),), 20),
        Route("198.19.9.0/24", RTPROT_OSPF, (("198.18.1.2", "eth1"),), 20),
        Route("198.19.2.0/24", 4, (("198.18.1.9", "eth3"),), 20),
        Route("198.19.4.0/24", RTPROT_OSPF, (("198.18.1.2", "eth1"), ("198.18.1.4", "eth2")),
              20),
        Route("198.18.1.2/31", 2, (("", "eth1"),), 0)), frozenset({"eth1"}))
    ospf = {"198.19.1.0/24": {"nexthops": [{"ip": "198.18.1.2"}, {"ip": "198.18.1.4"}]},
            "198.19.2.0/24": {"nexthops": [{"ip": "198.18.1.4"}]},
            "198.19.3.0/24": {"nexthops": [{"ip": "198.18.1.4", "via": "eth2"}]},
            "198.19.4.0/24": {"nexthops": [{"ip": "198.18.1.4"}, {"ip": "198.18.1.2"}]},
            "198.18.1.2/31": {"nexthops": [{"ip": " ", "directlyAttachedTo": "eth1"}]},
            "198.18.0.1": {"routeType": "R ", "nexthops": [{"ip": "198.18.1.2"}]}}
    assert _kernel_differs("dist1", kernel, ospf) == [
        "dist1 kernel next hops to 198.19.1.0/24: 198.18.1.2 (OSPF: 198.18.1.2, 198.18.1.4)",
        "dist1 kernel route to 198.19.3.0/24 (OSPF: via 198.18.1.4)",
        "dist1 kernel route to 198.19.9.0/24 OSPF no longer has"]
