"""degraded-link: a random share of the packets leaving the interfaces dropped by nftables.

Each end gets its own table `inet failover_loss_<ifname>` holding one rule
(`oifname X numgen random mod 1000 < N drop`, 0.1 % steps). `nft` loads the table dormant
(untimed), then one netlink call wakes it up: that call is the Stamp. Restore deletes
exactly that table through netlink; every packet counts, OSPF and BFD included, as on a
real lossy link.
"""

from __future__ import annotations

import errno
import re
import shutil
from dataclasses import dataclass
from typing import ClassVar

from harness.faults.base import Fault, Scope, Stamp, param, require
from harness.faults.links import OnLinks
from harness.faults.target import Target, ends_text
from harness.lab.netlink import nft_table
from harness.rtnetlink import NETLINK_NETFILTER
from harness.topology import Topology

TABLE_PREFIX = "failover_loss_"


def table_name(ifname: str) -> str:
    return TABLE_PREFIX + re.sub(r"\W", "_", ifname)


def _dormant_table(ifname: str, per_mille: int) -> str:
    name = table_name(ifname)
    return (f"table inet {name} {{}}\ndelete table inet {name}\n"  # start from nothing
            f"table inet {name} {{\n  flags dormant\n"
            f"  chain out {{ type filter hook postrouting priority 0;\n"
            f'    oifname "{ifname}" numgen random mod 1000 < {per_mille} drop\n  }}\n}}\n')


@dataclass(kw_only=True)
class DegradedLink(OnLinks, Fault):
    kind: ClassVar[str] = "degraded-link"
    percent: float = param("the share of outgoing packets dropped, in (0, 100]", 30)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0 < self.percent <= 100, f"{self.kind}: percent must be in (0, 100]")

    def check(self, target: Target) -> None:
        require(shutil.which("nft") is not None,
                f"{self.kind} needs nftables (apt-get install nftables)")
        super().check(target)
        for end in self.ends(target):
            target.kernel.socket(end.node, NETLINK_NETFILTER)

    def scope(self, topology: Topology) -> Scope:
        """Silent; a link that drops everything is out of forwarding, a lossy one is not."""
        return Scope(links=self.links(topology) if self.percent >= 100 else frozenset(),
                     silent=True)

    def inject(self, target: Target) -> list[Stamp]:
        ends = self.ends(target)
        for end in ends:
            target.kernel.run(end.node, ["nft", "-f", "-"],
                              stdin=_dormant_table(end.interface, round(self.percent * 10)))
        calls = [(target.kernel.socket(e.node, NETLINK_NETFILTER),
                  nft_table(table_name(e.interface))) for e in ends]
        return [target.kernel.apply(f"{ends_text(ends)} drop {self.percent:g}% (nftables)", calls)]

    def restore(self, target: Target) -> list[Stamp]:
        ends = self.ends(target)
        calls = [(target.kernel.socket(e.node, NETLINK_NETFILTER),
                  nft_table(table_name(e.interface), delete=True)) for e in ends]
        return [target.kernel.apply(f"{ends_text(ends)} nftables loss removed", calls,
                             ignore=(errno.ENOENT,))]

    def describe(self) -> str:
        return f"degraded-link {self.where()}: {self.percent:g}% of outgoing packets dropped"
