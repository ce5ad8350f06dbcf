"""Netlink messages and a netlink socket of this process's network namespace: the codec the
lab's faults and readings use (`lab.netlink`) and the probe agent carries (stdlib only, and
Python 3.9 on a remote host: see `probes.endpoints`).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections import namedtuple

TYPE_CHECKING = False  # as typing's, without importing typing (3 ms of an agent's start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator

NETLINK_ROUTE, NETLINK_NETFILTER = 0, 12
TIMEOUT_S = 5.0
REQUEST, ACK, REPLACE, CREATE, DUMP = 0x1, 0x4, 0x100, 0x400, 0x300
NLMSG_ERROR, NLMSG_DONE, DUMP_INTR = 2, 3, 0x10
MAX_DUMP_TRIES = 10  # a dump the kernel says changed while it ran is taken again
RTM_GETLINK, IFLA_ADDRESS, IFLA_IFNAME, IFLA_OPERSTATE, IFF_UP = 18, 1, 3, 16, 0x1
OPER_STATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")


IFINFO = "=BxHiII"  # struct ifinfomsg: family, type, index, flags, change
Message = namedtuple("Message", "type flags body")  # a request (its header added on sending)


def attr(kind: int, data: bytes) -> bytes:
    """One attribute (type, value), padded to 4 bytes."""
    size = 4 + len(data)
    return struct.pack("=HH", size, kind) + data + b"\0" * (-size % 4)


def messages(buf: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """Each netlink message in a datagram: type, flags, sequence number, payload."""
    offset = 0
    while offset + 16 <= len(buf):
        size, kind, flags, seq, _ = struct.unpack_from("=IHHII", buf, offset)
        yield kind, flags, seq, buf[offset + 16: offset + size]
        offset += max(16, (size + 3) & ~3)


def attributes(buf: bytes, offset: int = 0) -> dict[int, bytes]:
    """A message's attributes (type -> value) from `offset` on; the last of a repeated type."""
    out = {}
    while offset + 4 <= len(buf):
        size, kind = struct.unpack_from("=HH", buf, offset)
        if size < 4:
            break
        out[kind & 0x3FFF] = buf[offset + 4: offset + size]  # without NLA_F_NESTED and order
        offset += (size + 3) & ~3
    return out


def ifinfo(index: int, flags: int = 0, change: int = 0) -> bytes:
    """A struct ifinfomsg: the interface `index` (0: any), its `flags` under mask `change`."""
    return struct.pack(IFINFO, 0, 0, index, flags, change)


class Link:
    """An interface as a link dump gives it (`ip link show`)."""

    __slots__ = ("address", "flags", "index", "kind", "name", "oper")

    def __init__(self, payload: bytes) -> None:
        """From an RTM_NEWLINK payload (struct ifinfomsg, then the attributes)."""
        _, self.kind, self.index, self.flags, _ = struct.unpack_from(IFINFO, payload)
        attrs = attributes(payload, 16)
        self.name = attrs.get(IFLA_IFNAME, b"").rstrip(b"\0").decode()
        self.address = attrs.get(IFLA_ADDRESS, b"")  # hardware address (ARPHRD `kind`)
        state = attrs.get(IFLA_OPERSTATE, b"\0")[0]
        self.oper = OPER_STATES[state] if state < len(OPER_STATES) else "UNKNOWN"

    @property
    def up(self) -> bool:
        """Administratively up (`ip link set up`)."""
        return bool(self.flags & IFF_UP)


class Socket:
    """A netlink socket: requests answered by acks or replies, and dumps."""

    def __init__(self, sock: socket.socket | None = None, protocol: int = NETLINK_ROUTE,
                 groups: int = 0) -> None:
        """`sock`: an unbound netlink socket made elsewhere (in another namespace), else one of
        `protocol` made here; `groups`: the multicast groups (a bit mask) whose events it
        receives."""
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
        self.sock.bind((0, groups))
        self.sock.settimeout(TIMEOUT_S)  # the kernel answers at once; never hang a restore
        self._seq = 0

    def request(self, *requests: Message) -> list[bytes]:
        """Send the messages in one datagram and wait for the ack of each that asks for one;
        the payloads of other replies. A failure raises OSError with the kernel's errno
        (socket.timeout, TimeoutError from Python 3.10 on, if no ack comes)."""
        data, waiting = b"", set()
        for msg in requests:
            self._seq += 1
            data += struct.pack("=IHHII", 16 + len(msg.body), msg.type, msg.flags, self._seq, 0)
            data += msg.body + b"\0" * (-len(msg.body) % 4)  # the next message is aligned
            if msg.flags & ACK:
                waiting.add(self._seq)
        self.sock.send(data)
        replies, error = [], 0
        while waiting:
            for kind, _, seq, payload in messages(self.sock.recv(65536)):
                if seq not in waiting:
                    continue  # left over from a request interrupted by a signal
                if kind == NLMSG_ERROR:
                    waiting.discard(seq)
                    error = error or -struct.unpack_from("=i", payload)[0]
                else:
                    replies.append(payload)
        if error:
            raise OSError(error, os.strerror(error))
        return replies

    def dump(self, kind: int, body: bytes) -> list[bytes]:
        """A dump request (`ip route show`, `ip link show`): the payload of every object, taken
        again (MAX_DUMP_TRIES in all) while the kernel says the objects changed during it."""
        for _ in range(MAX_DUMP_TRIES):
            self._seq += 1
            seq = self._seq
            self.sock.send(struct.pack("=IHHII", 16 + len(body), kind, REQUEST | DUMP, seq, 0)
                           + body)
            out, interrupted, done = [], False, False
            while not done:
                for kind_, flags, seq_, payload in messages(self.sock.recv(1 << 17)):
                    if seq_ != seq:
                        continue
                    interrupted |= bool(flags & DUMP_INTR)
                    done |= kind_ in (NLMSG_DONE, NLMSG_ERROR)
                    error = struct.unpack_from("=i", payload)[0] if done and len(payload) >= 4 \
                        else 0
                    if error < 0:  # refused, or failed part-way (in its NLMSG_DONE)
                        raise OSError(-error, os.strerror(-error))
                    if not done:
                        out.append(payload)
            if not interrupted:
                return out
        raise OSError(errno.EAGAIN, f"the dump changed while it ran, {MAX_DUMP_TRIES} times")

    def links(self) -> list[Link]:
        """Every interface of the namespace (a link dump)."""
        return [Link(p) for p in self.dump(RTM_GETLINK, ifinfo(0))]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
