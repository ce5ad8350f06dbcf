"""What a node's `exec` commands create: one `ip link add` read (`link_add`, also what the
lab's kernel check and `harness.layer2.commands.read_exec` build on), and from a node's
commands as `read_exec` reads them, the bridges a switch is made of, the interfaces enslaved
to them (no OSPF there), and how long their spanning tree takes."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.layer2.commands import ExecBuild

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
    words, name, i = argv[3:], "", 0
    options: dict[str, str] = {}
    while i < len(words):
        if words[i] == "type":
            kind = words[i + 1] if i + 1 < len(words) else ""
            return LinkAdd(name, kind, options, tuple(words[i + 2:]))
        if words[i] in _VALUED and i + 1 < len(words):
            options[words[i]] = words[i + 1]
            name = words[i + 1] if words[i] in ("name", "dev") else name
            i += 2
            continue
        name = name or words[i]
        i += 1
    return LinkAdd(name, "", options, ())


def _build(commands: tuple[str, ...]) -> ExecBuild:
    # imported here: harness.layer2 reads harness.topology, which is being loaded with this
    from harness.layer2.commands import read_exec
    return read_exec(commands)


def bridges(commands: tuple[str, ...]) -> tuple[str, ...]:
    """The Linux bridges the commands create, in order."""
    return tuple(_build(commands).bridges)


def bridge_ports(commands: tuple[str, ...]) -> set[str]:
    """The interfaces the commands enslave to a bridge."""
    return set(_build(commands).masters)


def stp_seconds(commands: tuple[str, ...]) -> float:
    """The longest a bridge with kernel STP the commands create takes to forward after a
    change: max_age (to expire the old root) + listening + learning (2 x forward_delay);
    0 without STP. Timers in centiseconds, 802.1D's defaults where not given."""
    longest = 0.0
    for options in _build(commands).bridges.values():
        if options.get("stp_state", "0") == "0":
            continue
        try:
            centis = int(options.get("max_age", 2000)) + 2 * int(options.get("forward_delay",
                                                                             1500))
        except ValueError:
            continue
        longest = max(longest, centis / 100)
    return longest
