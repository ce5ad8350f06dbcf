"""Where a sender's frames go, as pure logic (the kernel side: `test_egress_lab.py`)."""

from __future__ import annotations

from harness.probes.egress import _egress

MAC, OWN = bytes.fromhex("02005e005309"), bytes.fromhex("02005e005301")


def test_frames_only_over_an_ethernet_link_that_is_up_to_a_known_neighbour() -> None:
    framed = _egress(((3, True, OWN), "198.18.251.2", MAC))
    assert framed is not None and (framed.ifindex, framed.header) == (3, MAC + OWN + b"\x08\x00")
    assert _egress(((3, False, OWN), "198.18.251.2", MAC)) is None  # not Ethernet, or down
    assert _egress((None, "198.18.251.2", MAC)) is None  # no such link
    assert _egress(((3, True, OWN), "198.18.251.2", None)) is None  # neighbour not known
