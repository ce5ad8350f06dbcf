"""What a node's `exec` commands build, for the topology itself: the bridges a switch is made
of, the interfaces enslaved to them (no OSPF there), and how long their spanning tree takes.
The commands are read by `harness.layer2.commands.read_exec`, the one reader of exec."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.layer2.commands import ExecBuild


def _build(commands: tuple[str, ...]) -> ExecBuild:
    # imported here: harness.layer2 reads harness.topology, which is being loaded with this
    from harness.layer2.commands import read_exec
    return read_exec(commands)


def bridges(commands: tuple[str, ...]) -> tuple[str, ...]:
    """The Linux bridges the commands create, in order."""
    return tuple(_build(commands).bridges)


def bridge_ports(commands: tuple[str, ...]) -> set[str]:
    """The interfaces the commands enslave to a bridge."""
    return set(_build(commands).masters)


def stp_seconds(commands: tuple[str, ...]) -> float:
    """The longest a bridge with kernel STP the commands create takes to forward after a
    change: max_age (to expire the old root) + listening + learning (2 x forward_delay);
    0 without STP. Timers in centiseconds, 802.1D's defaults where not given."""
    longest = 0.0
    for options in _build(commands).bridges.values():
        if options.get("stp_state", "0") == "0":
            continue
        try:
            centis = int(options.get("max_age", 2000)) + 2 * int(options.get("forward_delay",
                                                                             1500))
        except ValueError:
            continue
        longest = max(longest, centis / 100)
    return longest
