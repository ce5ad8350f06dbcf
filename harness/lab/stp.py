"""Spanning tree on the lab's Linux bridges (kernel STP), read from sysfs in each node's
namespace, and whether it has converged: in every bridged layer-2 domain (bridges joined by
links that are up) one root, the lowest bridge id of the domain, that every bridge agrees
on, and no port still listening or learning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.lab.shell import run

if TYPE_CHECKING:
    from harness.lab.lab import Lab

# /sys/class/net/<port>/brport/state
PORT_STATES = {0: "disabled", 1: "listening", 2: "learning", 3: "forwarding", 4: "blocking"}
_READ = ("cd /sys/class/net && grep -s . */bridge/stp_state */bridge/bridge_id "
         "*/bridge/root_id */bridge/root_port */brif/*/state */brif/*/port_no */operstate")
# `grep .` prints path:value; the paths hold interface names, which contain no ':' or '/'


@dataclass
class Bridge:
    """One Linux bridge: its STP identity, its view of the root, its ports' states."""

    node: str
    name: str
    stp: bool = False
    bridge_id: str = ""  # "8000.0ee228bc0549": priority.MAC, hex; compares as the standard
    root_id: str = ""
    root_port: int = 0
    ports: dict[str, str] = field(default_factory=dict)  # port -> state name
    port_numbers: dict[int, str] = field(default_factory=dict)  # STP port number -> port

    def __str__(self) -> str:
        return f"{self.node} {self.name}"

    @property
    def is_root(self) -> bool:
        return self.bridge_id == self.root_id

    @property
    def root_port_name(self) -> str:
        """The port toward the root ('' on the root itself)."""
        return self.port_numbers.get(self.root_port, "") if self.root_port else ""


def parse_sysfs(node: str, text: str) -> tuple[list[Bridge], dict[str, str]]:
    """The bridges in `grep . */bridge/... */brif/*/state */operstate` output (run in
    /sys/class/net), and every interface's operational state (up, down, lowerlayerdown...)."""
    found: dict[str, Bridge] = {}
    oper: dict[str, str] = {}
    for line in text.splitlines():
        path, _, value = line.partition(":")
        parts, value = path.split("/"), value.strip()
        if parts[1:] == ["operstate"]:
            oper[parts[0]] = value
        if len(parts) < 3:
            continue
        bridge = found.setdefault(parts[0], Bridge(node, parts[0]))
        if parts[1] == "brif" and parts[3:] == ["state"]:
            bridge.ports[parts[2]] = PORT_STATES.get(int(value), value)
        elif parts[1] == "brif" and parts[3:] == ["port_no"]:
            bridge.port_numbers[int(value, 16)] = parts[2]
        elif parts[2] == "stp_state":
            bridge.stp = value != "0"
        elif parts[2] in ("bridge_id", "root_id"):
            setattr(bridge, parts[2], value)
        elif parts[2] == "root_port":
            bridge.root_port = int(value)
    return [found[name] for name in sorted(found)], oper


def read_bridges(lab: Lab, node: str) -> tuple[list[Bridge], dict[str, str]]:
    """The node's bridges and its interfaces' states now (none when its namespace is gone)."""
    proc = run(["ip", "netns", "exec", lab.ns(node), "sh", "-c", _READ], check=False)
    return parse_sysfs(node, proc.stdout)


def domains(bridges: list[Bridge], links: list[tuple[tuple[str, str], tuple[str, str]]]
            ) -> list[list[Bridge]]:
    """The STP bridges grouped into layer-2 domains: two bridges are in one domain when a
    link (`links`: up links as ((node, interface), (node, interface))) joins ports of both."""
    stp = [b for b in bridges if b.stp]
    port_of = {(b.node, p): i for i, b in enumerate(stp) for p in b.ports}
    parent = list(range(len(stp)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, z in links:
        if a in port_of and z in port_of:
            parent[root(port_of[a])] = root(port_of[z])
    out: dict[int, list[Bridge]] = {}
    for i, b in enumerate(stp):
        out.setdefault(root(i), []).append(b)
    return sorted(out.values(), key=lambda d: str(d[0]))


def domain_name(domain: list[Bridge]) -> str:
    return "STP domain " + ", ".join(str(b) for b in domain)


def lowest(domain: list[Bridge]) -> Bridge:
    """The bridge that should be root: the lowest bridge id (priority, then MAC)."""
    return min(domain, key=lambda b: b.bridge_id)


def judge(domain: list[Bridge]) -> list[str]:
    """What keeps one domain from having converged, one line each (none: converged)."""
    out = []
    roots = sorted({b.root_id for b in domain})
    expected = lowest(domain)
    if len(roots) > 1:
        claim = [str(b) for b in domain if b.is_root]
        out.append(f"{domain_name(domain)}: {len(roots)} roots"
                   + (f" ({', '.join(claim)} claim root)" if claim else ""))
    elif roots[0] != expected.bridge_id:
        out.append(f"{domain_name(domain)}: root {roots[0]}, expected {expected}")
    out += [f"{b} {port} {state}" for b in domain for port, state in sorted(b.ports.items())
            if state in ("listening", "learning")]
    return out
