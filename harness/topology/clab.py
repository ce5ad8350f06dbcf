"""Read a containerlab topology file (`*.clab.yml`) as containerlab reads it.

Node settings come from the node, then its group, then its kind, then `topology.defaults`
(containerlab's precedence); `binds`, `labels` and `env` merge across those levels.
FRR routers are recognised both ways containerlab users write them: `kind: frr`
(alias `frrouting`) with a `startup-config`, or `kind: linux` with an FRR image and binds
of `daemons`/`frr.conf`. A `kind: bridge` node is a Linux bridge named like the node.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.inputfile import UnreadableFile, check_readable, read_text
from harness.topology.execs import bridges
from harness.topology.model import (
    ALWAYS_DAEMONS,
    BRIDGE_KINDS,
    Endpoint,
    FrrSpec,
    Link,
    Node,
    Topology,
)
from harness.topology.schema import CONTAINER_KEYS, ClabFile
from harness.validation import validate
from harness.yamlsrc import LineDict, LineList, gc_paused, load_yaml

FRR_KINDS = {"frr", "frrouting"}
HOST_KINDS = {"linux"}
IFNAME = re.compile(r"[A-Za-z0-9_.@-]{1,15}")  # whole names only: fullmatch
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", re.IGNORECASE)
MAX_NAME = 40  # lab + node names end up in FRR's socket paths (108 bytes at most)
KNOWN_DAEMONS = {"bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd",
                 "nhrpd", "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd",
                 "pathd", "zebra", "staticd"}
CONFIG_SECTIONS = {"router ospf": "ospfd", "router ospf6": "ospf6d", "router bgp": "bgpd",
                   "router isis": "isisd", "router rip": "ripd", "router ripng": "ripngd",
                   "bfd": "bfdd", "router pim": "pimd", "mpls ldp": "ldpd"}


_NOTHING = LineDict()  # what a missing mapping reads as (never changed)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent
        self.notes: dict[str, list[str]] = {}
        self.parsed: dict[tuple[Callable[[str], frozenset[str]], Path], frozenset[str]] = {}
        self.files: dict[str, Path] = {}  # a file named in the topology -> its path, checked

    def fail(self, where: LineDict | LineList, key: Any, field: str, message: str) -> InputError:
        return InputError(self.path, where.line_of(key), field, message)

    def mapping(self, parent: LineDict, key: str, field: str) -> LineDict:
        value = parent.get(key)
        if value is None:
            return _NOTHING
        if not isinstance(value, LineDict):
            raise self.fail(parent, key, field, "must be a mapping")
        return value

    def note(self, key: str, node: str) -> None:
        self.notes.setdefault(key, []).append(node)

    def parse(self, parse: Callable[[str], frozenset[str]], path: Path) -> frozenset[str]:
        """`parse` of a file's text, each file read and parsed once per topology (routers
        often share one)."""
        if (parse, path) not in self.parsed:
            self.parsed[parse, path] = parse(read_text(path))
        return self.parsed[parse, path]


@gc_paused()
def load_topology(path: Path | str) -> Topology:
    """Read and check a containerlab topology; raise `InputError` naming file, line and field."""
    path = Path(path)
    doc = load_yaml(path)
    reader = _Reader(path)
    if not isinstance(doc, LineDict):
        raise InputError(path, 1, "", "a containerlab topology must be a mapping")
    validate(path, doc, ClabFile)  # shapes and keys; what they mean is read below
    name = doc["name"]
    if not NAME.fullmatch(name) or len(name) > MAX_NAME // 2:
        raise reader.fail(doc, "name", "name",
                          f"lab name must be letters, digits, '-' or '_' (at most {MAX_NAME // 2})")
    topo = reader.mapping(doc, "topology", "topology")
    raw_nodes = reader.mapping(topo, "nodes", "topology.nodes")
    if not raw_nodes:
        raise reader.fail(topo, "nodes", "topology.nodes", "a topology needs nodes")
    nodes = {n: _node(reader, topo, raw_nodes, n) for n in raw_nodes}
    links = _links(reader, topo, nodes)
    notes = tuple(f"{key} ({', '.join(sorted(set(who)))}): {CONTAINER_KEYS[key]}"
                  for key, who in sorted(reader.notes.items()))
    return Topology(name=name, path=path.resolve(), nodes=nodes, links=links, notes=notes)


def _levels(reader: _Reader, topo: LineDict, raw: LineDict, field: str) -> list[LineDict]:
    """The settings that apply to a node, most specific first: node, group, kind, defaults."""
    group = raw.get("group")
    groups = reader.mapping(topo, "groups", "topology.groups")
    if group is not None and group not in groups:
        raise reader.fail(raw, "group", f"{field}.group", f"unknown group {group!r}")
    levels = [raw] + ([reader.mapping(groups, group, f"topology.groups.{group}")] if group else [])
    defaults = reader.mapping(topo, "defaults", "topology.defaults")
    kind = next((lv["kind"] for lv in [*levels, defaults] if lv.get("kind")), None)
    if kind is None:
        raise reader.fail(raw, "kind", f"{field}.kind",
                          "no kind on the node, its group or defaults")
    kinds = reader.mapping(topo, "kinds", "topology.kinds")
    if kind in kinds:
        levels.append(reader.mapping(kinds, kind, f"topology.kinds.{kind}"))
    levels.append(defaults)
    return levels


def _first(levels: list[LineDict], key: str) -> tuple[Any, LineDict | None]:
    for level in levels:
        if level.get(key) is not None:
            return level[key], level
    return None, None


def _merged_binds(levels: list[LineDict]) -> dict[str, tuple[str, LineDict]]:
    """containerlab merges binds across levels; a more specific level wins per container path."""
    binds: dict[str, tuple[str, LineDict]] = {}
    for level in reversed(levels):
        for bind in level.get("binds") or []:
            host, _, rest = str(bind).partition(":")
            binds[rest.split(":")[0]] = (host, level)
    return binds


def _node(reader: _Reader, topo: LineDict, raw_nodes: LineDict, name: str) -> Node:
    field = f"topology.nodes.{name}"
    raw = raw_nodes.get(name)
    raw = raw if isinstance(raw, LineDict) else _empty_at(raw_nodes.line_of(name))
    if not NAME.fullmatch(name) or len(name) > MAX_NAME // 2:
        raise reader.fail(raw_nodes, name, field, "node name must be letters, digits, '-' or '_'")
    levels = _levels(reader, topo, raw, field)
    kind = str(_first(levels, "kind")[0])
    image = _first(levels, "image")[0]
    for key in {k for level in levels for k, v in level.items() if v is not None}:
        if key in CONTAINER_KEYS:
            reader.note(key, name)
    execs, exec_level = _first(levels, "exec")
    exec_lines = tuple(exec_level["exec"].line_of(i) for i in range(len(execs))) \
        if isinstance(execs, LineList) and exec_level is not None else ()
    labels: dict[str, str] = {}
    for level in reversed(levels):
        labels.update({str(k): str(v) for k, v in (level.get("labels") or {}).items()})
    frr = _frr_spec(reader, levels, raw, kind, image, field)
    if frr is None and kind not in HOST_KINDS | BRIDGE_KINDS:
        raise reader.fail(raw, "kind", f"{field}.kind",
                          f"kind {kind!r} needs a container engine; the built-in lab runs "
                          "FRR routers (kind frr, or linux with an FRR image), linux hosts "
                          "and bridges")
    commands = tuple(str(c) for c in execs or ())
    if kind in BRIDGE_KINDS:
        if not IFNAME.fullmatch(name):
            raise reader.fail(raw_nodes, name, field, "a bridge node is a Linux bridge named "
                              "like the node: at most 15 characters")
        if commands:
            raise reader.fail(exec_level or raw, "exec", f"{field}.exec",
                              "a bridge node runs no commands (it is not a container)")
    return Node(name=name, kind=kind, image=str(image) if image else None,
                group=raw.get("group"), exec=commands, labels=labels, frr=frr,
                exec_lines=exec_lines,
                bridges=(name,) if kind in BRIDGE_KINDS else bridges(commands))


def _empty_at(line: int) -> LineDict:
    out = LineDict()
    out.line, out.key_lines = line, {}
    return out


def _frr_spec(reader: _Reader, levels: list[LineDict], raw: LineDict, kind: str,
              image: Any, field: str) -> FrrSpec | None:
    is_frr_image = kind in HOST_KINDS and image and "frr" in str(image).lower()
    if kind not in FRR_KINDS and not is_frr_image:
        return None
    binds = _merged_binds(levels)
    startup, level = _first(levels, "startup-config")
    if startup is not None and level is not None:
        config = _existing(reader, level, "startup-config", f"{field}.startup-config", startup)
    elif "/etc/frr/frr.conf" in binds:
        host, level = binds["/etc/frr/frr.conf"]
        config = _existing(reader, level, "binds", f"{field}.binds", host)
    else:
        raise reader.fail(raw, "kind", field, "an FRR node needs a startup-config or a bind "
                          "of frr.conf to /etc/frr/frr.conf")
    daemons = _daemons(reader, levels, binds, config, field)
    return FrrSpec(config=config, daemons=daemons)


def _existing(reader: _Reader, where: LineDict, key: str, field: str, value: Any) -> Path:
    """The regular file `value` names (checked once however many nodes name it)."""
    if str(value) in reader.files:
        return reader.files[str(value)]
    path = (reader.base / str(value)).resolve()
    try:
        check_readable(path)
    except UnreadableFile as exc:
        why = "file not found" if not path.exists() else exc.message
        raise reader.fail(where, key, field, f"{why}: {path}") from None
    reader.files[str(value)] = path
    return path


def _daemons(reader: _Reader, levels: list[LineDict], binds: dict[str, tuple[str, LineDict]],
             config: Path, field: str) -> tuple[str, ...]:
    extras, level = _first(levels, "extras")
    named = ((extras or {}).get("frr") or {}).get("daemons")
    if named is not None and level is not None:
        bad = [d for d in named if d not in KNOWN_DAEMONS]
        if bad:
            raise reader.fail(level, "extras", f"{field}.extras.frr.daemons",
                              f"unknown FRR daemon(s): {', '.join(map(str, bad))}")
        chosen = frozenset(str(d) for d in named)
    elif "/etc/frr/daemons" in binds:
        host, lvl = binds["/etc/frr/daemons"]
        chosen = reader.parse(_daemons_file, _existing(reader, lvl, "binds", f"{field}.binds",
                                                       host))
    else:
        chosen = reader.parse(_config_daemons, config)
    return (*ALWAYS_DAEMONS, *sorted(chosen - set(ALWAYS_DAEMONS)))


def _daemons_file(text: str) -> frozenset[str]:
    """The daemons an FRR `daemons` file turns on (`ospfd=yes`)."""
    return frozenset(re.findall(r"^[ \t]*(\w+)[ \t]*=[ \t]*yes\b", text, re.M)) & KNOWN_DAEMONS


def _config_daemons(text: str) -> frozenset[str]:
    """The daemons a configuration needs, from its sections (indentation is spaces or tabs:
    a `\\s*` would rescan a run of blank lines from each of them)."""
    chosen = {d for sect, d in CONFIG_SECTIONS.items()
              if re.search(rf"^[ \t]*{sect}(\s|$)", text, re.M)}
    if re.search(r"^[ \t]*ip ospf bfd|^[ \t]*neighbor \S+ bfd", text, re.M):
        chosen.add("bfdd")
    return frozenset(chosen)


def _links(reader: _Reader, topo: LineDict, nodes: dict[str, Node]) -> tuple[Link, ...]:
    raw_links = topo.get("links") or LineList()
    if not isinstance(raw_links, LineList):
        raise reader.fail(topo, "links", "topology.links", "must be a list")
    used: dict[tuple[str, str], int] = {}
    links = []
    for i, raw in enumerate(raw_links):
        field = f"topology.links[{i}]"
        line = raw_links.line_of(i)
        if not isinstance(raw, LineDict):
            raise InputError(reader.path, line, field, "a link must be a mapping with endpoints")
        ends = [_endpoint(reader, raw, j, ep, field) for j, ep in enumerate(_raw_endpoints(
            reader, raw, field))]
        for ep in ends:
            if ep.node not in nodes:
                raise InputError(reader.path, line, f"{field}.endpoints",
                                 f"unknown node {ep.node!r}")
            if (ep.node, ep.interface) in used:
                raise InputError(reader.path, line, f"{field}.endpoints",
                                 f"{ep} is already used by the link on line "
                                 f"{used[(ep.node, ep.interface)]}")
            used[(ep.node, ep.interface)] = line
        mtu = raw.get("mtu")
        links.append(Link(a=ends[0], b=ends[1], mtu=int(mtu) if mtu else None))
    return tuple(links)


def _raw_endpoints(reader: _Reader, raw: LineDict, field: str) -> list[Any]:
    link_type = raw.get("type", "veth")
    if link_type != "veth":
        raise reader.fail(raw, "type", f"{field}.type",
                          f"link type {link_type!r}: the built-in lab has veth links only")
    eps = raw.get("endpoints")
    if not isinstance(eps, list) or len(eps) != 2:
        raise reader.fail(raw, "endpoints", f"{field}.endpoints",
                          "a veth link needs exactly two endpoints")
    return eps


ENDPOINT_KEYS = {"node", "interface", "mac", "vars"}


def _endpoint(reader: _Reader, raw: LineDict, index: int, ep: Any, field: str) -> Endpoint:
    where = f"{field}.endpoints[{index}]"
    fail = functools.partial(reader.fail, raw, "endpoints", where)
    if isinstance(ep, dict):
        unknown = sorted(set(ep) - ENDPOINT_KEYS)
        if unknown:
            raise fail(f"unknown key {unknown[0]!r} (an endpoint has "
                       f"{', '.join(sorted(ENDPOINT_KEYS))})")
        ep = {k: v for k, v in ep.items() if k != "vars"}
        if not all(isinstance(v, str) for v in ep.values()):
            raise fail("an endpoint's node, interface and mac are strings")
        node, iface, mac, sep = ep.get("node", ""), ep.get("interface", ""), ep.get("mac"), ":"
    else:
        node, sep, iface = ep.partition(":") if isinstance(ep, str) else ("", "", "")
        mac = None
    if not sep or not node or not iface:
        raise fail("endpoint must be 'node:interface' or a mapping with node and interface")
    if not IFNAME.fullmatch(iface) or iface in {".", ".."}:
        raise fail(f"interface name {iface!r} is not a valid Linux interface name "
                   "(1-15 characters, no '/' or spaces)")
    if mac is not None and (not MAC.fullmatch(mac) or int(mac[:2], 16) & 1
                            or not int(mac.replace(":", ""), 16)):
        raise fail(f"MAC address {mac!r} is not a unicast MAC (e.g. 02:00:00:00:00:01)")
    return Endpoint(node=node, interface=iface, mac=mac)
