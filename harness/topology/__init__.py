"""Topologies in containerlab's own file format."""

from harness.topology.clab import load_topology
from harness.topology.model import Endpoint, FrrSpec, Link, Node, Topology

__all__ = ["Endpoint", "FrrSpec", "Link", "Node", "Topology", "load_topology"]
