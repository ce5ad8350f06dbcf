"""The senders' egress lookup (netlink, in the agent's namespace) in namespaces of its own,
checked against the addresses `ip` shows: a routed and a connected destination, a source the
kernel refuses, no route, an unresolved next hop that `prime` resolves, neighbour entries
failed, stale, permanent and NOARP, a link down. (Frames need an Ethernet link that is up:
that is `test_egress.py`'s, since the kernel gives no neighbour address on any other.)"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator

import pytest

from harness.lab.netns import batch, delete, existing, veth_command
from harness.lab.shell import run

pytestmark = pytest.mark.lab

LOOK = """
import json, sys
from harness.probes import egress
keys = [tuple(k) for k in json.loads(sys.argv[2])]
found = getattr(egress, sys.argv[1])(keys)
print(json.dumps([[list(k), None if e is None else [e.ifindex, e.header.hex()]]
                  for k, e in found.items()]))
"""
ROUTED, CONNECTED, NOWHERE = ("198.18.252.9", "198.18.251.1"), ("198.18.251.2", "198.18.251.1"), \
    ("198.18.253.1", "198.18.251.1")
FOREIGN_SOURCE = ("198.18.252.9", "198.18.99.99")  # not this host's: looked up without it


@pytest.fixture
def ns() -> Iterator[str]:
    """A host (va) and its gateway's namespace (vb); yields the host's."""
    host, gateway = f"fo-egress-{os.getpid()}", f"fo-egress-gw-{os.getpid()}"
    try:
        for name in (host, gateway):
            run(["ip", "netns", "add", name])
        batch([veth_command(host, "va", None, gateway, "vb", None, None)])
        batch(["link set vb up", "addr add 198.18.251.2/30 dev vb"], gateway)
        batch(["link set va up", "addr add 198.18.251.1/30 dev va",
               "route add 198.18.252.0/24 via 198.18.251.2 dev va"], host)
        yield host
    finally:
        for name in (host, gateway):
            if name in existing():
                delete(name)


def look(ns: str, how: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list | None]:
    out = run(["ip", "netns", "exec", ns, sys.executable, "-c", LOOK, how,
               json.dumps(keys)]).stdout
    return {tuple(k): e for k, e in json.loads(out)}


def ip(ns: str, *args: str) -> list[dict]:
    return json.loads(run(["ip", "-n", ns, "-j", *args]).stdout)


def test_egress_as_ip_gives_it(ns: str) -> None:
    va = ip(ns, "link", "show", "va")[0]
    vb = ip(f"fo-egress-gw-{os.getpid()}", "link", "show", "vb")[0]
    header = (vb["address"] + va["address"]).replace(":", "") + "0800"
    keys = [ROUTED, CONNECTED, NOWHERE, FOREIGN_SOURCE]
    assert look(ns, "resolve", keys) == dict.fromkeys(keys)  # no neighbour entry yet: IP
    primed = look(ns, "prime", keys)  # asks the kernel to resolve 198.18.251.2 (vb answers)
    assert ip(ns, "neigh", "show", "198.18.251.2", "dev", "va")[0]["lladdr"] == vb["address"]
    assert primed == {ROUTED: [va["ifindex"], header], CONNECTED: [va["ifindex"], header],
                      NOWHERE: None, FOREIGN_SOURCE: [va["ifindex"], header]}
    assert look(ns, "resolve", keys) == primed
    other = [va["ifindex"], "02005e005309" + va["address"].replace(":", "") + "0800"]
    for nud, expected in (("failed", None), ("noarp", None), ("reachable", other),
                          ("stale", other), ("permanent", other)):
        run(["ip", "-n", ns, "neigh", "replace", "198.18.251.2", "dev", "va", "lladdr",
             "02:00:5e:00:53:09", "nud", nud])
        assert look(ns, "resolve", [ROUTED]) == {ROUTED: expected}, nud
    run(["ip", "-n", ns, "link", "set", "va", "down"])
    assert look(ns, "resolve", [ROUTED]) == {ROUTED: None}  # no route left, nor a link up

