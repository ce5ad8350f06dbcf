"""What a topology's `exec` commands ask of this host's kernel, checked before a lab is built:
a device type the kernel was built without (bonding, 802.1Q, dummy, VRF...) or an option it
refuses is one clear line naming the file, line and field, and nothing is created."""

from __future__ import annotations

import gzip
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError
from harness.topology import Topology

KERNEL_CONFIG = Path("/proc/config.gz")
# `ip link add ... type X` -> the kernel option that provides X, and what it is
NEEDS = {
    "bond": ("CONFIG_BONDING", "bonding (LACP); dual-home with two links and STP instead"),
    "team": ("CONFIG_NET_TEAM", "team devices"),
    "vlan": ("CONFIG_VLAN_8021Q", "802.1Q VLAN sub-interfaces; use one bridge per VLAN"),
    "dummy": ("CONFIG_DUMMY", "dummy interfaces; put the address on lo or a veth end"),
    "vrf": ("CONFIG_NET_VRF", "VRF devices"),
    "macvlan": ("CONFIG_MACVLAN", "macvlan devices"),
    "ipvlan": ("CONFIG_IPVLAN", "ipvlan devices"),
    "vxlan": ("CONFIG_VXLAN", "VXLAN devices"),
    "bridge": ("CONFIG_BRIDGE", "Linux bridges"),
    "openvswitch": ("CONFIG_OPENVSWITCH", "the Open vSwitch kernel datapath"),
}


# `ip link add` keywords that take a value (the first other bare word is the device's name)
_VALUED = {"link", "name", "dev", "address", "broadcast", "brd", "mtu", "txqueuelen", "txqlen",
           "numtxqueues", "numrxqueues", "netns", "group", "index", "alias", "addrgenmode"}


@dataclass(frozen=True)
class LinkAdd:
    """What one `ip link add` command asks of the kernel: a device type and options."""

    name: str
    type: str
    options: dict[str, str]  # keyword -> value, before `type` (link, address, addrgenmode...)


def link_add(command: str) -> LinkAdd | None:
    """The device an `ip link add ...` command creates; None for any other command (or one
    whose quoting is broken: the shell would refuse it when it runs)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if argv[:3] != ["ip", "link", "add"]:
        return None
    words, name, kind, options, i = argv[3:], "", "", {}, 0
    while i < len(words):
        if words[i] == "type":
            kind = words[i + 1] if i + 1 < len(words) else ""
            break
        if words[i] in _VALUED and i + 1 < len(words):
            options[words[i]] = words[i + 1]
            name = words[i + 1] if words[i] in ("name", "dev") else name
            i += 2
            continue
        name = name or words[i]
        i += 1
    return LinkAdd(name, kind, options)


def kernel_options(path: Path = KERNEL_CONFIG) -> dict[str, str] | None:
    """This kernel's build options (`CONFIG_X` -> y/m/n), or None where it does not say."""
    try:
        text = gzip.decompress(path.read_bytes()).decode(errors="replace")
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            out[key] = value
        elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
            out[line[2:-len(" is not set")]] = "n"
    return out


def check_kernel(topology: Topology,
                 options: Callable[[], dict[str, str] | None] = kernel_options) -> None:
    """InputError for the first exec command this kernel cannot run (none when the kernel's
    options cannot be read: then the command itself will say)."""
    config = None
    release = os.uname().release
    for node in topology.nodes.values():
        for i, command in enumerate(node.exec):
            add = link_add(command)
            if add is None:
                continue
            line = node.exec_lines[i] if i < len(node.exec_lines) else None
            field = f"topology.nodes.{node.name}.exec[{i}]"
            if "addrgenmode" in add.options:
                raise InputError(topology.path, line, field,
                                 f"this kernel ({release}) refuses addrgenmode in `ip link add` "
                                 "(Address family not supported); leave it out, or set it "
                                 f"after: ip link set {add.name or 'DEV'} addrgenmode "
                                 f"{add.options['addrgenmode']}")
            if add.type not in NEEDS:
                continue
            config = options() if config is None else config
            option, what = NEEDS[add.type]
            if config is not None and config.get(option, "n") == "n":
                raise InputError(topology.path, line, field,
                                 f"type {add.type}: this kernel ({release}) has no {what} "
                                 f"({option} is not set)")
