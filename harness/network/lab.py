"""The built-in lab as a scenario's network: probes in its namespaces, state read locally
(FRR's JSON through vtysh, the kernel's links and routes)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Network
from typing import Any

from harness import frrjson, layer2
from harness.devices import DeviceSpec, device_facts
from harness.faults.target import Target
from harness.lab import Lab
from harness.lab.converge import fib
from harness.lab.layer2 import has_layer2, read_layer2
from harness.lab.netns import oper_states
from harness.lab.vrrp import read_members
from harness.layer2 import vrrp
from harness.network.base import WORKERS, Snapshot, each
from harness.probes.endpoints import NetnsEndpoint
from harness.topology import Topology


class LabNetwork:
    kind = "lab"

    def __init__(self, lab: Lab, inventory: dict[str, DeviceSpec] | None = None,
                 workers: int = WORKERS) -> None:
        """`workers`: routers read at once."""
        self._lab = lab
        self.inventory = inventory or {}
        self.workers = workers

    @property
    def name(self) -> str:
        return self._lab.name

    @property
    def topology(self) -> Topology:
        return self._lab.topology

    def target(self) -> Target:
        return Target(self._lab)

    def endpoint(self, node: str) -> NetnsEndpoint:
        return NetnsEndpoint(node, self._lab.ns(node))

    def wait_converged(self, timeout: float, stop: threading.Event | None = None,
                       through: float | None = None) -> int:
        return self._lab.wait_converged(timeout=timeout, stop=stop, through=through).read_ns

    def degraded(self) -> list[str]:
        """Links not up at both ends, routers with an FRR daemon not running."""
        down = []
        oper = {node: oper_states(self._lab.ns(node), check=False) for node in self.topology.nodes}
        for lk in self.topology.links:
            if not all(oper[e.node].get(e.interface) == "UP" for e in (lk.a, lk.b)):
                down.append(f"link {lk} is down")
        for router in self.topology.routers:
            running = set(self._lab.frr(router.name).pids())
            missing = [d for d in router.frr.daemons  # type: ignore[union-attr]
                       if d not in running]
            if missing:
                down.append(f"{router.name}: {', '.join(missing)} not running")
        return down

    def gateway_health(self) -> dict[tuple[str, str, int], str]:
        """Each VRRP member's group as its router's vrrpd shows it (if it runs)."""
        members = [m for g in layer2.of(self.topology).groups for m in g.members]
        nodes = sorted({m.node for m in members})
        live = {n: read_members(self._lab, n) if self._lab.frr(n).running("vrrpd") else None
                for n in nodes}
        return vrrp.health(members, live)

    def forwarding(self) -> dict[str, list[tuple[IPv4Network, tuple[str, ...]]]]:
        """Every node's IPv4 routes (main table): prefix -> outgoing interfaces (ECMP: all)."""
        out = {}
        for node in self.topology.nodes:
            text = self._lab.run(node, ["ip", "-4", "-j", "route", "show"], check=False)
            out[node] = [(IPv4Network("0.0.0.0/0" if r["dst"] == "default" else r["dst"],
                                      strict=False),
                          tuple(h["dev"] for h in r.get("nexthops", [r]) if "dev" in h))
                         for r in json.loads(text or "[]") if r.get("type", "unicast")
                         == "unicast"]
        return out

    def snapshot(self) -> Snapshot:
        """Each router's OSPF and BFD neighbours and kernel FIB, each VRRP member's state and
        each bridge's spanning tree (root, port states), at most `workers` nodes read at once."""
        out = each([r.name for r in self.topology.routers], self._router, self.workers)
        if has_layer2(self._lab):
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for node, parts in read_layer2(self._lab, mapper=pool.map).lines().items():
                    out.setdefault(node, {}).update(parts)
        return out

    def _router(self, name: str) -> dict[str, list[str]]:
        """Read over the daemons' vty sockets (a vtysh run per router costs ~50 ms of CPU)."""
        router = self._lab.node(name)
        frr = self._lab.frr(name)
        daemons = router.frr.daemons if router.frr else ()
        [ospf] = frr.vty_jsons("ospfd", frrjson.OSPF_NEIGHBORS) if "ospfd" in daemons else [{}]
        [bfd] = frr.vty_jsons("bfdd", frrjson.BFD_PEERS) if "bfdd" in daemons else [[]]
        return {
            "ospf": sorted(f"{n.router_id} {n.iface} {n.state}"
                           for n in frrjson.ospf_neighbors(ospf)),
            "bfd": sorted(f"{s['peer']} {s['interface']} {s['status']}"
                          for s in frrjson.bfd_peers(bfd)),
            "fib": fib(self._lab, name).splitlines(),
        }

    def facts(self) -> dict[str, dict[str, Any]]:
        """NAPALM facts of every router through the scenario's inventory (the lab's FRR
        locally where it names none), in parallel."""
        def one(node: str) -> dict[str, Any]:
            spec = self.inventory.get(node) or DeviceSpec()
            try:
                facts = device_facts(node, spec, self._lab)
            except Exception as exc:  # any driver's error; connect() hides the password
                facts = {"error": str(exc) or type(exc).__name__}
            return {"driver": spec.driver, **facts}
        return each([r.name for r in self.topology.routers], one, self.workers)

    def close(self) -> None:
        pass
