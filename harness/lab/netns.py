"""Network namespaces and veth pairs, built in a few batched `ip` calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from harness.errors import LabError
from harness.lab import netlink
from harness.lab.netlink import NetlinkSocket
from harness.lab.shell import run
from harness.rtnetlink import NETLINK_ROUTE

T = TypeVar("T")
ROUTER_SYSCTLS = (
    "net.ipv4.ip_forward=1",
    "net.ipv6.conf.all.forwarding=1",
    "net.ipv4.fib_multipath_hash_policy=1",  # hash ECMP on L4 ports, as real routers do
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    # a router runs OSPF on dozens of interfaces: ospfd joins AllSPFRouters (and AllDRouters
    # on broadcast links) on each, from one socket; the namespace default (20) stops at 20
    "net.ipv4.igmp_max_memberships=1024",
    "net.ipv4.igmp_max_msf=1024",  # source filters per socket (pimd's SSM joins), default 10
)
# Not settable per namespace on this kernel (6.x), so left to the host: the neighbour table
# thresholds (one table for all namespaces: net.ipv4.neigh.default.gc_thresh3, 1024 by
# default, bounds the ARP entries of the whole lab) and net.core.rmem_max/wmem_max (ospfd
# asks for 8 MB socket buffers and gets at most rmem_max).


def existing() -> set[str]:
    """Namespaces present on the host."""
    out = run(["ip", "netns", "list"]).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def batch(commands: Iterable[str], netns: str | None = None) -> None:
    """Run `ip` commands in one process (in `netns` when given)."""
    text = "".join(f"{c}\n" for c in commands)
    if text:
        run(["ip", *(["-n", netns] if netns else []), "-batch", "-"], stdin=text)


def veth_command(ns_a: str, if_a: str, mac_a: str | None, ns_b: str, if_b: str,
                 mac_b: str | None, mtu: int | None) -> str:
    """One `ip link add` that creates both ends directly inside their namespaces."""
    def side(ns: str, ifname: str, mac: str | None) -> str:
        return f"name {ifname}" + (f" address {mac}" if mac else "") + \
            (f" mtu {mtu}" if mtu else "") + f" netns {ns}"
    return f"link add {side(ns_a, if_a, mac_a)} type veth peer {side(ns_b, if_b, mac_b)}"


def exec_in(netns: str, argv: list[str], check: bool = True, timeout: float = 30.0) -> str:
    return run(["ip", "netns", "exec", netns, *argv], check=check, timeout=timeout).stdout


def pids(netns: str) -> set[int]:
    """Every process living in the namespace."""
    out = run(["ip", "netns", "pids", netns], check=False).stdout
    return {int(p) for p in out.split() if p.isdigit()}


def set_link(netns: str, ifname: str, up: bool) -> None:
    run(["ip", "-n", netns, "link", "set", "dev", ifname, "up" if up else "down"])


def oper_states(netns: str, check: bool = True) -> dict[str, str]:
    """Each interface's operational state (UP, DOWN, LOWERLAYERDOWN, ...) as the kernel
    gives it, over netlink (no `ip` run); with `check`, LabError if it cannot be read
    (without, no interface)."""
    try:
        return _read(netns, netlink.oper_states, "links")
    except LabError:
        if check:
            raise
        return {}


def global_ipv4(netns: str) -> list[str]:
    """The namespace's IPv4 addresses of global scope, as `ip -4 addr show scope global`
    lists them, over netlink (no `ip` run); LabError if they cannot be read."""
    return _read(netns, netlink.global_ipv4, "addresses")


def _read(netns: str, dump: Callable[[NetlinkSocket], T], what: str) -> T:
    try:
        sock = NetlinkSocket(netns, NETLINK_ROUTE)
        try:
            return dump(sock)
        finally:
            sock.close()
    except OSError as exc:
        raise LabError(f"namespace {netns}: {what} cannot be read: "
                       f"{exc.strerror or exc}") from None


def delete(netns: str) -> None:
    run(["ip", "netns", "delete", netns], check=False)
