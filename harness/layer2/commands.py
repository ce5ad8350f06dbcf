"""What a node's `exec` commands build, read as `ip` and `brctl` would apply them: bridges and
their ports (with STP settings), macvlans on a parent, interface addresses, and the next hops
of its static routes (`ip link add` read by `harness.topology.execs`). Commands that are none
of these are left alone."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface

from harness.topology.execs import link_add


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


def _link_add(build: ExecBuild, command: str) -> None:
    add = link_add(command)
    if add is not None and add.type == "bridge":
        build.bridges[add.name] = _pairs(list(add.type_args))
    elif add is not None and add.type == "macvlan" and "link" in add.options:
        build.macvlans[add.name] = add.options["link"]


def _link_set(build: ExecBuild, words: list[str]) -> None:
    """`ip link set [dev] NAME ... [master BRIDGE | nomaster] [type bridge OPTIONS]`."""
    words = words[1:] if words[:1] == ["dev"] else words
    if not words:
        return
    name, rest = words[0], words[1:]
    if "type" in rest and rest[rest.index("type") + 1:][:1] == ["bridge"]:
        build.bridges.setdefault(name, {}).update(_pairs(rest[rest.index("type") + 2:]))
        rest = rest[:rest.index("type")]
    if "nomaster" in rest:
        build.masters.pop(name, None)
    if "master" in rest[:-1]:
        build.masters[name] = rest[rest.index("master") + 1]


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


def _one(build: ExecBuild, command: str) -> None:
    argv = _split(command)
    if len(argv) >= 3 and argv[0] in ("sh", "bash") and argv[1] == "-c":
        for part in argv[2].replace("&&", ";").split(";"):
            _one(build, part)
        return
    if argv[:1] == ["brctl"]:
        _brctl(build, argv[1:])
        return
    if argv[:1] != ["ip"] or len(argv) < 3:
        return
    obj, verb, rest = argv[1], argv[2], argv[3:]
    if _abbrev(obj, "link") and verb == "add":
        _link_add(build, command)
    elif _abbrev(obj, "link") and verb == "set":
        _link_set(build, rest)
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
        _one(build, command)
    return build
