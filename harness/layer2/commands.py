"""What a node's `exec` commands build, read as `ip` and `brctl` would apply them: bridges and
their ports (with STP settings), macvlans on a parent, interface addresses, and the next hops
of its static routes. Commands that are none of these are left alone."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface

# `ip link` options that take a value (so the value is not read as the interface's name)
_VALUED = {"address", "mtu", "txqueuelen", "txqlen", "netns", "group", "alias", "numtxqueues",
           "numrxqueues", "broadcast", "brd", "master", "link", "name", "dev", "type", "index",
           "peer", "vrf", "addrgenmode", "qlen"}


@dataclass
class ExecBuild:
    """What one node's exec commands build."""

    bridges: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> bridge options
    masters: dict[str, str] = field(default_factory=dict)  # port -> its bridge
    macvlans: dict[str, str] = field(default_factory=dict)  # macvlan -> its parent
    addresses: list[tuple[str, IPv4Interface]] = field(default_factory=list)  # (ifname, addr)
    next_hops: list[IPv4Address] = field(default_factory=list)  # `via` of its routes


def _abbrev(token: str, word: str) -> bool:
    """`ip` takes any prefix of an object's name (`ip a`, `ip li`, `ip ro`)."""
    return bool(token) and word.startswith(token)


def _pairs(tokens: list[str]) -> dict[str, str]:
    return {tokens[i]: tokens[i + 1] for i in range(0, len(tokens) - 1, 2)}


def _link_fields(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    """An `ip link add|set` command's named values (name, link, master, type, ...; a bare
    `nomaster` too), and the arguments after its `type`."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "type":
            fields["type"] = tokens[i + 1] if i + 1 < len(tokens) else ""
            return fields, tokens[i + 2:]
        if tok in _VALUED and i + 1 < len(tokens):
            fields[{"dev": "name"}.get(tok, tok)] = tokens[i + 1]
            i += 2
            continue
        if tok == "nomaster":
            fields["nomaster"] = ""
        elif tok not in ("up", "down", "on", "off"):
            fields.setdefault("name", tok)
        i += 1
    return fields, []


def _link(build: ExecBuild, verb: str, tokens: list[str]) -> None:
    fields, args = _link_fields(tokens)
    name, kind = fields.get("name"), fields.get("type")
    if name is None:
        return
    if "nomaster" in fields:
        build.masters.pop(name, None)
    if verb == "add" and kind == "bridge":
        build.bridges[name] = _pairs(args)
    elif verb == "set" and kind == "bridge" and name in build.bridges:
        build.bridges[name].update(_pairs(args))
    elif verb == "add" and kind == "macvlan" and "link" in fields:
        build.macvlans[name] = fields["link"]
    if "master" in fields:
        build.masters[name] = fields["master"]


def _address(build: ExecBuild, tokens: list[str]) -> None:
    if not tokens or tokens[0] not in ("add", "replace", "change") or len(tokens) < 2:
        return
    try:
        address = IPv4Interface(tokens[1])
    except ValueError:
        return  # IPv6, or not an address
    dev = _pairs(tokens[2:]).get("dev")
    if dev:
        build.addresses.append((dev, address))


def _route(build: ExecBuild, tokens: list[str]) -> None:
    if tokens and tokens[0] in ("add", "replace", "append") and "via" in tokens:
        try:
            build.next_hops.append(IPv4Address(tokens[tokens.index("via") + 1]))
        except (ValueError, IndexError):
            pass


def _brctl(build: ExecBuild, args: list[str]) -> None:
    if len(args) < 2:
        return
    verb, bridge, rest = args[0], args[1], args[2:]
    if verb == "addbr":
        build.bridges.setdefault(bridge, {})
    elif verb == "addif":
        build.masters.update({port: bridge for port in rest})
    elif verb == "stp" and rest and bridge in build.bridges:
        build.bridges[bridge]["stp_state"] = "1" if rest[0] in ("on", "yes", "1") else "0"
    elif verb == "setbridgeprio" and rest and bridge in build.bridges:
        build.bridges[bridge]["priority"] = rest[0]


def _one(build: ExecBuild, argv: list[str]) -> None:
    if len(argv) >= 3 and argv[0] in ("sh", "bash") and argv[1] == "-c":
        for part in argv[2].replace("&&", ";").split(";"):
            _one(build, _split(part))
        return
    if argv[:1] == ["brctl"]:
        _brctl(build, argv[1:])
        return
    if argv[:1] != ["ip"] or len(argv) < 3:
        return
    obj, verb, rest = argv[1], argv[2], argv[3:]
    if _abbrev(obj, "link") and verb in ("add", "set"):
        _link(build, verb, rest)
    elif _abbrev(obj, "address") or obj == "addr":
        _address(build, [verb, *rest])
    elif _abbrev(obj, "route"):
        _route(build, [verb, *rest])


def _split(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return []


def read_exec(commands: tuple[str, ...]) -> ExecBuild:
    """What these exec commands build, in order (a later command changes an earlier one's)."""
    build = ExecBuild()
    for command in commands:
        _one(build, _split(command))
    return build
