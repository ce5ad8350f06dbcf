"""What a node's `exec` commands create, read from their `ip link add` lines: the bridges a
switch is made of, and the device types the lab's kernel must have."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

# `ip link add` keywords that take a value (the first other bare word is the device's name)
_VALUED = {"link", "name", "dev", "address", "broadcast", "brd", "mtu", "txqueuelen", "txqlen",
           "numtxqueues", "numrxqueues", "netns", "group", "index", "alias", "addrgenmode",
           "gso_max_size", "gso_max_segs", "gro_max_size"}


@dataclass(frozen=True)
class LinkAdd:
    """One `ip link add` command: the device it creates and the words before `type`."""

    name: str
    type: str
    options: dict[str, str]  # keyword -> value, before `type` (link, address, addrgenmode...)
    type_args: tuple[str, ...]  # the words after `type TYPE` (stp_state 1, mode bridge...)


def link_add(command: str) -> LinkAdd | None:
    """The device an `ip link add ...` command creates; None for any other command (or one
    whose quoting is broken: the shell would refuse it when it runs)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if argv[:3] != ["ip", "link", "add"]:
        return None
    words, name = argv[3:], ""
    options: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "type":
            kind = words[i + 1] if i + 1 < len(words) else ""
            return LinkAdd(name, kind, options, tuple(words[i + 2:]))
        if word in _VALUED and i + 1 < len(words):
            options[word] = words[i + 1]
            if word in ("name", "dev"):
                name = words[i + 1]
            i += 2
            continue
        name = name or word
        i += 1
    return LinkAdd(name, "", options, ())


def bridges(commands: tuple[str, ...]) -> tuple[str, ...]:
    """The Linux bridges the commands create, in order."""
    return tuple(add.name for c in commands if (add := link_add(c)) and add.type == "bridge")


def bridge_ports(commands: tuple[str, ...]) -> set[str]:
    """The interfaces the commands enslave to a bridge (`ip link set [dev] X master B`)."""
    out = set()
    for command in commands:
        try:
            argv = shlex.split(command)
        except ValueError:
            continue
        if argv[:3] == ["ip", "link", "set"] and "master" in argv[3:]:
            words = [w for w in argv[3:] if w != "dev"]
            out.add(words[0])
    return out


def stp_seconds(commands: tuple[str, ...]) -> float:
    """The longest a bridge with kernel STP the commands create takes to forward after a
    change: max_age (to expire the old root) + listening + learning (2 x forward_delay);
    0 without STP. Timers in centiseconds, 802.1D's defaults where not given."""
    longest = 0.0
    for command in commands:
        add = link_add(command)
        if add is None or add.type != "bridge":
            continue
        args = dict(zip(add.type_args[::2], add.type_args[1::2], strict=False))
        if args.get("stp_state", "0") == "0":
            continue
        try:
            seconds = (int(args.get("max_age", 2000)) + 2 * int(args.get("forward_delay", 1500)))
        except ValueError:
            continue
        longest = max(longest, seconds / 100)
    return longest
