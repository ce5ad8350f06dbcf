"""What `failover init` proposes for a topology: its cores, their uplinks and the flows to probe.

Cores: the nodes labelled `role: core` (containerlab `labels:`) or in a group named `core`;
without any, the transit routers (no host attached) that lie on the most host-to-host
shortest paths (hop count), ties included.

Flows: a host's name parts (split on `-`, `_`, `.` and digits) or its `app` label say what it
serves (`ehr` and `web`: https, `ad` and `ldap`: ldap, `pacs`: dicom, `pbx`: rtp and sip, ...).
Each other host (a client) gets one flow per application of each server attached to another
router; phones (`voip`, `phone`, `voice`) reach the voice servers, the other clients the
rest. Without both clients and servers, each host talks https to the next host (by name)
attached to another router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

from harness.errors import HarnessError
from harness.probes.flows import APPLICATIONS
from harness.topology import Link, Topology

SERVES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("ehr", "emr", "epic", "records", "web", "www", "app", "portal", "erp",
                     "crm", "intranet"), ("https",)),
    **dict.fromkeys(("hl7", "mirth", "interface"), ("hl7",)),
    **dict.fromkeys(("ad", "dc", "ldap", "idm"), ("ldap",)),
    **dict.fromkeys(("kdc", "kerberos"), ("kerberos",)),
    "dns": ("dns",),
    **dict.fromkeys(("pacs", "dicom", "imaging"), ("dicom",)),
    **dict.fromkeys(("pbx", "sbc", "cucm", "callmanager"), ("rtp", "sip")),
}
PHONES = frozenset({"voip", "phone", "phones", "voice"})
VOICE_APPS = frozenset({"rtp", "sip"})
SLA_CLASS = {"rtp": "voice", "sip": "voice", "dicom": "bulk"}  # others: interactive


@dataclass(frozen=True)
class StarterFlow:
    src: str
    dst: str
    application: str
    why: str

    @property
    def name(self) -> str:
        return f"{self.src}-{self.dst}-{self.application}"

    @property
    def sla_class(self) -> str:
        return SLA_CLASS.get(self.application, "interactive")


@dataclass(frozen=True)
class Starter:
    topology: Topology
    cores: list[str]
    how: str  # how the cores were recognised
    uplinks: list[Link]  # each core's links to the other routers (not to hosts, not core-core)
    flows: list[StarterFlow]


def _parts(name: str) -> list[str]:
    return [p for p in re.split(r"[-_.\d]+", name.lower()) if p]


def _attached(topology: Topology) -> dict[str, set[str]]:
    """Each host (a node that is neither a router nor a switch, with links) and the routers it
    is linked to, directly or through layer-2 switches."""
    hosts: dict[str, set[str]] = {}
    for node in topology.nodes.values():
        if not (node.is_router or node.is_switch) and topology.links_of(node.name):
            hosts[node.name] = _routers_near(topology, node.name)
    return hosts


def _routers_near(topology: Topology, host: str) -> set[str]:
    """The routers a host reaches without crossing another router (switches are walked)."""
    seen, todo, found = {host}, [host], set()
    while todo:
        node = todo.pop()
        for lk in topology.links_of(node):
            nxt = topology.nodes[lk.other(node).node]
            if nxt.name in seen:
                continue
            seen.add(nxt.name)
            if nxt.is_router:
                found.add(nxt.name)
            elif nxt.is_switch:
                todo.append(nxt.name)
    return found


def _on_shortest_paths(topology: Topology, hosts: set[str], routers: list[str]) -> dict[str, int]:
    """For each router, the number of host pairs it lies on a shortest path of."""
    dist = {h: topology.hops_from(h) for h in hosts}
    count = dict.fromkeys(routers, 0)
    for a, b in combinations(sorted(hosts), 2):
        if b not in dist[a]:
            continue
        for r in routers:
            if r in dist[a] and r in dist[b] and dist[a][r] + dist[b][r] == dist[a][b]:
                count[r] += 1
    return count


def find_cores(topology: Topology) -> tuple[list[str], str]:
    """The cores and how they were recognised."""
    labelled = [r.name for r in topology.routers
                if r.labels.get("role") == "core" or r.group == "core"]
    if labelled:
        return labelled, "labelled `role: core` or in group `core`"
    hosts = _attached(topology)
    edge = set().union(*hosts.values()) if hosts else set()
    transit = [r.name for r in topology.routers if r.name not in edge]
    candidates = transit or [r.name for r in topology.routers]
    count = _on_shortest_paths(topology, set(hosts), candidates)
    best = max(count.values(), default=0)
    if best == 0:
        raise HarnessError(f"topology {topology.name}: no router carries traffic between two "
                           "hosts: label the cores `role: core` (containerlab labels)")
    kind = "transit routers (no host attached)" if transit else "routers"
    return [r for r in candidates if count[r] == best], \
        f"the {kind} on the most host-to-host shortest paths ({best} host pairs)"


def _uplinks(topology: Topology, cores: list[str]) -> list[Link]:
    routers = {r.name for r in topology.routers}
    return [lk for core in cores for lk in topology.links_of(core)
            if lk.other(core).node in routers - set(cores)]


def _serves(topology: Topology, host: str) -> tuple[str, ...]:
    label = topology.nodes[host].labels.get("app")
    if label and label not in APPLICATIONS:
        raise HarnessError(f"topology {topology.name}: {host}: label app: {label!r} is not an "
                           f"application the probes know ({', '.join(APPLICATIONS)})")
    if label:
        return (label,)
    return next((SERVES[p] for p in _parts(host) if p in SERVES), ())


def _client_server_flows(topology: Topology, hosts: dict[str, set[str]]) -> list[StarterFlow]:
    servers = {h: _serves(topology, h) for h in sorted(hosts) if _serves(topology, h)}
    clients = [h for h in sorted(hosts) if h not in servers]
    phones = {c for c in clients if PHONES & set(_parts(c))}
    flows = []
    for client in clients:
        for server, apps in servers.items():
            voice = bool(VOICE_APPS & set(apps))
            wanted = (client in phones or not phones) if voice else \
                (client not in phones or phones == set(clients))
            if wanted and hosts[client] != hosts[server]:
                why = f"{'/'.join(apps)} server"
                flows += [StarterFlow(client, server, app, why) for app in apps]
    return flows


def _generic_flows(hosts: dict[str, set[str]]) -> list[StarterFlow]:
    names = sorted(hosts)
    pairs: set[frozenset[str]] = set()
    flows = []
    for i, src in enumerate(names):
        dst = next((d for d in names[i + 1:] + names[:i] if hosts[d] != hosts[src]), None)
        if dst is not None and frozenset((src, dst)) not in pairs:
            pairs.add(frozenset((src, dst)))
            flows.append(StarterFlow(src, dst, "https", "nothing says what flows: set its "
                                     "application"))
    return flows


def starter(topology: Topology) -> Starter:
    """Cores, uplinks and flows for `topology`; HarnessError when no flow crosses a router."""
    hosts = _attached(topology)
    flows = _client_server_flows(topology, hosts) or _generic_flows(hosts)
    if not flows:
        raise HarnessError(f"topology {topology.name}: no two hosts attached to different "
                           "routers: no flow would cross the network")
    cores, how = find_cores(topology)
    return Starter(topology, cores, how, _uplinks(topology, cores), flows)
