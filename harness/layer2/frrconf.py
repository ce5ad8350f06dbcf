"""What an FRR configuration says of its interfaces: their IPv4 addresses and VRRP groups
(`vrrp VRID ...` lines under `interface NAME`, as FRR 8's vrrpd reads them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface

DEFAULT_PRIORITY = 100  # RFC 5798, and FRR's


@dataclass
class VrrpConf:
    """One `vrrp VRID` group as an interface configures it."""

    vrid: int
    priority: int = DEFAULT_PRIORITY
    addresses: list[IPv4Address] = field(default_factory=list)
    shutdown: bool = False


@dataclass
class InterfaceConf:
    addresses: list[IPv4Interface] = field(default_factory=list)
    vrrp: dict[int, VrrpConf] = field(default_factory=dict)
    passive: bool = False  # OSPF forms no adjacency on it (`ip ospf passive`, ...)


_VRRP = re.compile(r"(no\s+)?vrrp\s+(\d+)(?:\s+(.*))?$")


def _vrrp_line(conf: InterfaceConf, negated: bool, vrid: int, rest: str) -> None:
    group = conf.vrrp.setdefault(vrid, VrrpConf(vrid))
    words = rest.split()
    if not words:
        if negated:
            del conf.vrrp[vrid]
        return
    what, args = words[0], words[1:]
    if what == "priority":
        group.priority = DEFAULT_PRIORITY if negated or not args else int(args[0])
    elif what == "ip" and args and not negated:
        group.addresses.append(IPv4Address(args[0]))
    elif what == "shutdown":
        group.shutdown = not negated


def _passive(line: str, named: dict[str, bool]) -> None:
    """A `router ospf` line making interfaces passive or not (`[no] passive-interface NAME`,
    `default` for every interface)."""
    words = line.split()
    negated = words[:1] == ["no"]
    words = words[1:] if negated else words
    if len(words) == 2 and words[0] == "passive-interface":
        named[words[1]] = not negated


def _interface_line(conf: InterfaceConf, line: str) -> None:
    match = _VRRP.match(line)
    try:
        if line == "ip ospf passive":
            conf.passive = True
        elif line.startswith("ip address "):
            conf.addresses.append(IPv4Interface(line.split()[2]))
        elif match:
            _vrrp_line(conf, bool(match[1]), int(match[2]), match[3] or "")
    except ValueError:
        pass  # not an IPv4 address or a number: not what is read here


def interfaces(text: str) -> dict[str, InterfaceConf]:
    """Each `interface NAME` block's addresses, VRRP groups and whether OSPF is passive on
    it (blocks of one name merge)."""
    out: dict[str, InterfaceConf] = {}
    current: InterfaceConf | None = None
    in_ospf, named = False, dict[str, bool]()
    for raw in text.splitlines():
        line = raw.strip()
        if raw[:1] not in (" ", "\t"):  # a top-level line ends the block
            current = None
            in_ospf = line.split()[:2] == ["router", "ospf"]
            if line.startswith("interface "):
                current = out.setdefault(line.split()[1], InterfaceConf())
            continue
        if in_ospf:
            _passive(line, named)
        if current is not None:
            _interface_line(current, line)
    default = named.pop("default", False)
    for name in named:
        out.setdefault(name, InterfaceConf())
    for name, conf in out.items():
        conf.passive = named.get(name, conf.passive or default)
    return out
