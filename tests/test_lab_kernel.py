"""The lab kernel's link changes, as pure logic: how requests are grouped (a stand-in socket
records them; the real ones: `test_faults_lab.py`)."""

from __future__ import annotations

from harness.faults import Fault  # noqa: F401 - first: the faults and the lab kernel import each other
from harness.lab.kernel import LINKS_PER_DATAGRAM, LabKernel
from harness.rtnetlink import NETLINK_ROUTE, Message
from harness.topology import Endpoint


class RecordingSocket:
    """Stands in for a namespace's netlink socket: keeps each datagram's messages."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[Message, ...]] = []

    def request(self, *messages: Message) -> list[bytes]:
        self.datagrams.append(messages)
        return []


def test_a_nodes_link_changes_go_in_datagrams_of_at_most_32_in_order() -> None:
    kernel = LabKernel(lab=None)  # type: ignore[arg-type]  # no lab: its sockets are given
    sockets = {node: RecordingSocket() for node in ("core1", "dist1")}
    ends = [Endpoint("core1", f"eth{i}") for i in range(LINKS_PER_DATAGRAM + 1)] + \
        [Endpoint("dist1", "eth1")]
    for node, sock in sockets.items():
        kernel._sockets[(node, NETLINK_ROUTE)] = sock  # type: ignore[assignment]
    kernel._index.update({end: 10 + i for i, end in enumerate(ends)})
    kernel.set_links(ends, up=False)
    core1, dist1 = sockets["core1"].datagrams, sockets["dist1"].datagrams
    assert [len(d) for d in core1] == [LINKS_PER_DATAGRAM, 1] and [len(d) for d in dist1] == [1]
    indexes = [int.from_bytes(m.body[4:8], "little") for d in core1 for m in d]
    assert indexes == [10 + i for i in range(LINKS_PER_DATAGRAM + 1)]  # each link once, in order
