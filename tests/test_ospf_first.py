"""The lab's reorder of an FRR config before it starts FRR (pure text)."""

from __future__ import annotations

from harness.lab.frr import ospf_first

SAVED = """frr defaults traditional
hostname core1
!
interface eth1
 ip ospf area 0
 ip ospf network point-to-point
exit
!
router ospf
 ospf router-id 198.18.0.1
 max-metric router-lsa on-startup 5
exit
!
end
"""


def test_router_ospf_moves_before_the_first_interface_once() -> None:
    out = ospf_first(SAVED)
    assert out.index("router ospf") < out.index("interface eth1")
    assert out.count("max-metric router-lsa on-startup 5") == 1 and out.endswith("end\n")
    assert ospf_first(out) == out  # already first: unchanged


def test_a_config_without_ospf_or_interfaces_is_unchanged() -> None:
    no_ospf = SAVED.replace("router ospf\n ospf router-id 198.18.0.1\n"
                            " max-metric router-lsa on-startup 5\nexit\n", "")
    assert ospf_first(no_ospf) == no_ospf
    only_ospf = "router ospf\n ospf router-id 1.1.1.1\nexit\n"
    assert ospf_first(only_ospf) == only_ospf


def test_an_ospf6_block_stays_where_it_is() -> None:
    with_v3 = SAVED.replace("end\n", "router ospf6\n ospf6 router-id 198.18.0.1\nexit\n!\nend\n")
    out = ospf_first(with_v3)
    assert out.index("router ospf6") > out.index("interface eth1")
    assert out.index("router ospf\n") < out.index("interface eth1")
