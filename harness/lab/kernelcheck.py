"""What a topology's `exec` commands ask of this host's kernel, checked before a lab is built:
a device type the kernel was built without (bonding, 802.1Q, dummy, VRF...) or an option it
refuses is one clear line naming the file, line and field, and nothing is created."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

from harness.errors import InputError
from harness.topology import Topology
from harness.topology.execs import link_add

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
