"""Raw netlink requests sent from this process into a lab namespace: the effective call of a
fault.

A socket is opened once per namespace and protocol by a short-lived thread that enters the
namespace (the socket stays bound to it); a request is then one send() and one ack, about
50 µs for a link or qdisc change, with no fork and no subprocess. (pyroute2 0.9 forks a
helper per namespace and spends 0.4-0.7 ms in its event loop per call, measured here.) The
messages and the socket's requests are `harness.rtnetlink`'s, which the probe agent shares.
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct
import threading

from harness.rtnetlink import (
    ACK,
    CREATE,
    IFF_UP,
    IFLA_IFNAME,
    REPLACE,
    REQUEST,
    RTM_GETLINK,
    Message,
    Socket,
    attr,
    attributes,
    ifinfo,
)

_CLONE_NEWNET = 0x40000000
_RTM_NEWLINK, _RTM_GETADDR, _RTM_NEWQDISC, _RTM_DELQDISC = 16, 22, 36, 37
_IFA_ADDRESS, _IFA_LOCAL, _RT_SCOPE_UNIVERSE = 1, 2, 0
_TC_H_ROOT, _TCA_KIND, _TCA_OPTIONS = 0xFFFFFFFF, 1, 2
_NFNL_NFTABLES, _NFT_NEWTABLE, _NFT_DELTABLE = 10, 0, 2
_BATCH_BEGIN, _BATCH_END, _NFPROTO_INET = 0x10, 0x11, 1
_NFTA_TABLE_NAME, _NFTA_TABLE_FLAGS = 1, 2


def _tcmsg(index: int, handle: int) -> bytes:
    return struct.pack("=BxxxiIII", 0, index, handle, _TC_H_ROOT, 0)


def link_query(ifname: str) -> Message:
    """Ask for one interface by name (the reply carries its index)."""
    return Message(RTM_GETLINK, REQUEST | ACK,
                   ifinfo(0) + attr(IFLA_IFNAME, ifname.encode() + b"\0"))


def link_admin(index: int, up: bool) -> Message:
    """Set an interface administratively up or down (`ip link set dev X up|down`)."""
    return Message(_RTM_NEWLINK, REQUEST | ACK, ifinfo(index, IFF_UP if up else 0, IFF_UP))


def root_qdisc(index: int, handle: int, kind: str, options: bytes) -> Message:
    """Replace the root qdisc (`tc qdisc replace dev X root handle H: KIND ...`)."""
    body = _tcmsg(index, handle) + attr(_TCA_KIND, kind.encode() + b"\0") + \
        attr(_TCA_OPTIONS, options)
    return Message(_RTM_NEWQDISC, REQUEST | ACK | CREATE | REPLACE, body)


def root_qdisc_delete(index: int, handle: int) -> Message:
    """Delete the root qdisc only if it has this handle (EINVAL otherwise)."""
    return Message(_RTM_DELQDISC, REQUEST | ACK, _tcmsg(index, handle))


def nft_table(name: str, delete: bool = False) -> list[Message]:
    """One nftables transaction on an `inet` table: clear its flags (wake a dormant table up),
    or delete it."""
    def nfgen(family: int, res_id: int = 0) -> bytes:
        return struct.pack("=BBH", family, 0, socket.htons(res_id))
    body = nfgen(_NFPROTO_INET) + attr(_NFTA_TABLE_NAME, name.encode() + b"\0")
    if not delete:
        body += attr(_NFTA_TABLE_FLAGS, struct.pack(">I", 0))
    op = _NFT_DELTABLE if delete else _NFT_NEWTABLE
    return [Message(_BATCH_BEGIN, REQUEST, nfgen(0, _NFNL_NFTABLES)),
            Message(_NFNL_NFTABLES << 8 | op, REQUEST | ACK, body),
            Message(_BATCH_END, REQUEST, nfgen(0, _NFNL_NFTABLES))]


def oper_states(sock: NetlinkSocket) -> dict[str, str]:
    """Each interface's operational state, named as `ip link` names it (UP, DOWN,
    LOWERLAYERDOWN, ...): a link dump over `sock` (NETLINK_ROUTE)."""
    return {link.name: link.oper for link in sock.links()}


def global_ipv4(sock: NetlinkSocket) -> list[str]:
    """The IPv4 addresses of global scope, in `ip -4 addr show scope global`'s order (by
    interface, then as added): an address dump over `sock` (NETLINK_ROUTE)."""
    found = []
    for payload in sock.dump(_RTM_GETADDR, struct.pack("=BBBBi", socket.AF_INET, 0, 0, 0, 0)):
        family, _, _, scope, index = struct.unpack_from("=BBBBi", payload)
        attrs = attributes(payload, 8)  # after struct ifaddrmsg
        local = attrs.get(_IFA_LOCAL, attrs.get(_IFA_ADDRESS))
        if family == socket.AF_INET and scope == _RT_SCOPE_UNIVERSE and local:
            found.append((index, socket.inet_ntoa(local)))
    return [addr for _, addr in sorted(found, key=lambda item: item[0])]


def reply_index(payload: bytes) -> int:
    """The interface index in an RTM_NEWLINK reply."""
    return int(struct.unpack_from("=BxHi", payload)[2])


class NetlinkSocket(Socket):
    """A netlink socket living in a named network namespace (`/run/netns/<name>`)."""

    def __init__(self, netns: str, protocol: int, groups: int = 0) -> None:
        """`groups`: the multicast groups (a bit mask) whose events the socket receives."""
        fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)  # FileNotFoundError: no such netns
        made: list[socket.socket | OSError] = []

        def enter() -> None:  # setns() moves only this thread, which then ends
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                made.append(OSError(errno, f"setns {netns}: {os.strerror(errno)}"))
                return
            made.append(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol))

        try:
            thread = threading.Thread(target=enter, name=f"netns-{netns}")
            thread.start()
            thread.join()
        finally:
            os.close(fd)
        if isinstance(made[0], OSError):
            raise made[0]
        super().__init__(made[0], groups=groups)
