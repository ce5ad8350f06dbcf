"""What a fault acts on, as the network gives it (`Network.target()`): the network's name and
topology, the built-in lab's kernel (`kernel`, on the lab only), and NAPALM sessions to its
devices. Faults never reach a namespace, a process or vtysh any other way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.devices import connect
from harness.errors import HarnessError
from harness.faults.base import FaultError, require
from harness.lab import Lab
from harness.lab.kernel import LabKernel
from harness.topology import Endpoint, Topology
from harness.topology.model import FrrSpec


class Target:
    """`Target(lab)` for the built-in lab, `Target(None, name, topology)` for real devices
    (the topology may be unknown when `failover recover` undoes a device fault)."""

    def __init__(self, built_in: Lab | None, name: str = "",
                 topology: Topology | None = None) -> None:
        self.built_in = built_in
        self.name = name or (built_in.name if built_in else "")
        self._topology = built_in.topology if built_in else topology
        self._kernel = LabKernel(built_in) if built_in else None

    @property
    def kernel(self) -> LabKernel:
        """The built-in lab's kernel; FaultError on real devices."""
        if self._kernel is None:
            from harness.faults.registry import device_kinds  # the registry imports faults
            raise FaultError(f"network {self.name} is not the built-in lab: only faults made "
                             f"through NAPALM ({device_kinds()}) run there")
        return self._kernel

    @property
    def topology(self) -> Topology:
        if self._topology is None:
            raise FaultError(f"network {self.name}: its topology is not known here")
        return self._topology

    def napalm(self, node: str, device: dict[str, Any] | None) -> Any:
        """An open NAPALM session to the node (the lab's FRR locally when `device` names
        none)."""
        try:
            return connect(node, device, self.built_in)
        except HarnessError as exc:
            raise FaultError(str(exc)) from None

    def read(self, node: str, argv: Sequence[str]) -> str:
        """A command's output inside a node of the built-in lab (a fault's live check)."""
        try:
            return self.kernel.lab.run(node, list(argv))
        except HarnessError as exc:
            raise FaultError(f"lab {self.name}: {node}: {exc}") from None

    def show(self, node: str, command: str) -> Any:
        """An FRR router's JSON answer to a `show ... json` command (the built-in lab)."""
        self.router(node)
        try:
            return self.kernel.lab.vtysh_json(node, command)
        except HarnessError as exc:
            raise FaultError(f"lab {self.name}: {node}: {exc}") from None

    def router(self, node: str) -> FrrSpec:
        """The node's FRR spec; FaultError if it is unknown or not a router."""
        found = self.topology.nodes.get(node)
        require(found is not None, f"{self.name} has no node {node!r} "
                                   f"(nodes: {', '.join(self.topology.nodes)})")
        assert found is not None
        if found.frr is None:
            raise FaultError(f"{node} is not an FRR router in lab {self.name}")
        return found.frr

    def endpoints(self, link: str | None, node: str | None, one_end: bool) -> list[Endpoint]:
        """The interfaces a link names (both ends, or only the `node:ifname` given), or every
        interface of a node."""
        topo = self.topology
        if node is not None:
            require(node in topo.nodes, f"lab {self.name} has no node {node!r} "
                                        f"(nodes: {', '.join(topo.nodes)})")
            return [lk.end(node) for lk in topo.links_of(node)]
        assert link is not None
        try:
            found = topo.find_link(link)
        except KeyError as exc:
            raise FaultError(f"lab {self.name}: {exc.args[0]}") from None
        return [found.end(link.partition(":")[0])] if one_end else [found.a, found.b]

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.close()


def ends_text(ends: Sequence[Endpoint]) -> str:
    return ",".join(map(str, ends))
