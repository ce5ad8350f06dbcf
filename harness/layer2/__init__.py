"""Layer 2 and first-hop gateways, from a topology alone: bridges, layer-2 domains, VRRP
groups, hosts' gateways, and whether a flow keeps a path once a fault is in place
(`of(topology).cut(src, dst, scope, health)`). Pure logic: reads files, changes nothing."""

from __future__ import annotations

from harness.layer2.graph import Bridge, Layer2, Port
from harness.layer2.paths import Model
from harness.layer2.vrrp import Group, Health, Member
from harness.topology import Topology

_MODELS: dict[int, tuple[Topology, Model]] = {}  # by id(topology), holding the topology


def of(topology: Topology) -> Model:
    """The topology's model, read once per topology object (the last few are kept)."""
    found = _MODELS.get(id(topology))
    if found is None or found[0] is not topology:
        if len(_MODELS) >= 8:
            _MODELS.pop(next(iter(_MODELS)))
        found = _MODELS[id(topology)] = (topology, Model(topology))
    return found[1]


__all__ = ["Bridge", "Group", "Health", "Layer2", "Member", "Model", "Port", "of"]
