"""Every fault kind on a real two-path lab: its effect seen, then gone after restore; the
journal undoing what a killed run left; signals restoring at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import route_via, wait_for

from harness.faults import FaultError, Guard, Stamp, Target, build, journal_dir, pending, recover
from harness.faults.degraded_link import TABLE_PREFIX
from harness.faults.delay import netem_missing
from harness.faults.journal import ENV
from harness.lab import Lab

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
H1, H2 = "198.19.1.10", "198.19.2.10"
VIA_R2, VIA_R3 = "198.18.2.1", "198.18.2.3"  # r1's next hops toward h2
BACK_VIA_R3 = "198.18.2.6"  # r4's next hop toward h1 through r3
HOLD = """
import json, sys, time
from harness.faults import Guard, build
from harness.lab import Lab
with Guard(Lab.attach(sys.argv[1])) as guard:
    print("injecting", flush=True)
    for kind, params in json.loads(sys.argv[2]):
        guard.inject(build(kind, params))
    print("held", flush=True)
    time.sleep(60)
"""


def ip_json(lab: Lab, node: str, *argv: str) -> list[dict[str, Any]]:
    return list(json.loads(lab.run(node, ["ip", "-j", *argv]) or "[]"))


def flags(lab: Lab, node: str, ifname: str) -> list[str]:
    return list(ip_json(lab, node, "link", "show", "dev", ifname)[0]["flags"])


def root_qdisc(lab: Lab, node: str, ifname: str) -> str:
    out = json.loads(lab.run(node, ["tc", "-j", "qdisc", "show", "dev", ifname]))
    return next(f"{q['kind']} {q['handle']}" for q in out if q.get("root"))


def nft_tables(lab: Lab, node: str) -> list[str]:
    out = json.loads(lab.run(node, ["nft", "-j", "list", "tables"]))["nftables"]
    return [item["table"]["name"] for item in out if "table" in item]


def ping(lab: Lab, src: str, dst: str, count: int, interval: float) -> subprocess.Popen[str]:
    argv = ["ping", "-q", "-n", "-c", str(count), "-i", str(interval), "-W", "1", dst]
    return subprocess.Popen(["ip", "netns", "exec", lab.ns(src), *argv],
                            stdout=subprocess.PIPE, text=True)


def sent_received(proc: subprocess.Popen[str]) -> tuple[int, int]:
    out, _ = proc.communicate(timeout=30)
    sent, rest = out.split(" packets transmitted, ")
    return int(sent.split()[-1]), int(rest.split()[0])


def loss(lab: Lab, src: str, dst: str, count: int, interval: float = 0.005) -> float:
    sent, received = sent_received(ping(lab, src, dst, count, interval))
    return 1 - received / sent


def faults_left(lab: Lab) -> list[str]:
    """Anything a fault leaves behind: our qdiscs, our nft tables, interfaces down, FRR down."""
    left = []
    for node in lab.topology.nodes:
        for link in ip_json(lab, node, "link", "show"):
            name = str(link["ifname"])
            if name != "lo" and "UP" not in link["flags"]:
                left.append(f"{node}:{name} down")
            if name != "lo" and root_qdisc(lab, node, name).split()[-1].startswith("fa1"):
                left.append(f"{node}:{name} {root_qdisc(lab, node, name)}")
        left += [f"{node} nft {t}" for t in nft_tables(lab, node) if t.startswith(TABLE_PREFIX)]
        spec = lab.node(node).frr
        if spec is not None:
            missing = {"watchfrr", *spec.daemons} - lab.frr(node).pids().keys()
            left += [f"{node} {d} not running" for d in sorted(missing)]
    return left


@pytest.fixture
def lab(two_path: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    """The shared lab with a private journal; whatever a test leaves is undone, then the
    lab must be clean and converged back to its primary path."""
    monkeypatch.setenv(ENV, str(tmp_path / "journal"))
    try:
        yield two_path
    finally:
        recover(include_live=True)
        assert faults_left(two_path) == []
        two_path.wait_converged(timeout=30)
        assert route_via(two_path, "r1", H2) == VIA_R2


def assert_precise(stamps: list[Stamp]) -> None:
    """One in-process netlink call per end: 0.1-6 ms measured on a loaded 2-vCPU VM (a link
    change waits for the kernel's RCU grace period), never a subprocess or a wait."""
    for stamp in stamps:
        assert 0 < stamp.call_ns < 50e6, stamp


def test_link_cut_both_ends_then_one_end(lab: Lab) -> None:
    with Guard(lab) as guard:
        stamps = guard.inject(build("link-cut", {"link": "r1:eth1"}))
        assert_precise(stamps)
        assert "UP" not in flags(lab, "r1", "eth1") and "UP" not in flags(lab, "r2", "eth1")
        wait_for(lambda: route_via(lab, "r1", H2) == VIA_R3)
    assert "UP" in flags(lab, "r1", "eth1") and "UP" in flags(lab, "r2", "eth1")
    lab.wait_converged(timeout=30)
    with Guard(lab) as guard:
        guard.inject(build("link-cut", {"link": "r2:eth1", "one_end": True}))
        assert "UP" in flags(lab, "r1", "eth1")  # admin up, but the carrier is gone
        assert "NO-CARRIER" in flags(lab, "r1", "eth1") and "UP" not in flags(lab, "r2", "eth1")
        wait_for(lambda: route_via(lab, "r1", H2) == VIA_R3)


def test_node_power_loss_and_return(lab: Lab) -> None:
    with Guard(lab) as guard:
        fault = build("node-power-loss", {"node": "r2"})
        stamps = guard.inject(fault)
        assert [s.what for s in stamps] == ["r2:eth1,r2:eth2 down",
                                            "r2 zebra staticd bfdd ospfd killed"]
        assert_precise(stamps[:1])
        assert lab.frr("r2").pids() == {}
        assert all("UP" not in flags(lab, "r2", i) for i in ("eth1", "eth2"))
        wait_for(lambda: route_via(lab, "r1", H2) == VIA_R3)
        wait_for(lambda: route_via(lab, "r4", H1) == BACK_VIA_R3)  # the replies' path too
        assert loss(lab, "h1", H2, 20) == 0
        restored = guard.restore(fault)
    assert [s.what for s in restored] == ["r2 FRR started", "r2:eth1,r2:eth2 up"]


def test_routing_daemon_crash_keeps_forwarding(lab: Lab) -> None:
    routes = ip_json(lab, "r2", "route", "show", "proto", "ospf")
    pings = ping(lab, "h1", H2, 250, 0.01)
    with Guard(lab) as guard:
        time.sleep(0.3)
        guard.inject(build("routing-daemon-crash", {"node": "r2"}))
        assert lab.frr("r2").pids() == {}
        wait_for(lambda: route_via(lab, "r1", H2) == VIA_R3)  # r1's BFD noticed
        assert ip_json(lab, "r2", "route", "show", "proto", "ospf") == routes  # kernel kept them
        sent, received = sent_received(pings)
    assert (sent, received) == (250, 250)


def test_silent_blackhole_keeps_links_up_and_drops_until_rerouted(lab: Lab) -> None:
    pings = ping(lab, "h1", H2, 150, 0.01)
    with Guard(lab) as guard:
        time.sleep(0.3)
        stamps = guard.inject(build("silent-blackhole", {"link": "r1:eth1"}))
        assert_precise(stamps)
        for node in ("r1", "r2"):
            assert root_qdisc(lab, node, "eth1") == "pfifo fa11:"
            assert "LOWER_UP" in flags(lab, node, "eth1")
        rerouted = wait_for(lambda: route_via(lab, "r1", H2) == VIA_R3, timeout=5)
        sent, received = sent_received(pings)
    assert 0 < sent - received < 100, (sent, received, rerouted)  # BFD 100 ms x 3 detects it
    assert root_qdisc(lab, "r1", "eth1") == "noqueue 0:"


def test_degraded_link_drops_a_share_at_one_end(lab: Lab) -> None:
    with Guard(lab) as guard:
        stamps = guard.inject(build("degraded-link", {"link": "r1:eth1", "one_end": True,
                                                      "percent": 50}))
        assert_precise(stamps)
        assert nft_tables(lab, "r1") == [f"{TABLE_PREFIX}eth1"]
        assert nft_tables(lab, "r2") == []
        assert 0.3 < loss(lab, "r1", VIA_R2, 200) < 0.7
    assert nft_tables(lab, "r1") == []
    assert loss(lab, "r1", VIA_R2, 50) == 0


def test_flapping_link_follows_its_schedule_and_ends_up(lab: Lab) -> None:
    with Guard(lab) as guard:
        stamps = guard.inject(build("flapping-link", {"link": "r1:eth1", "count": 3,
                                                      "period": 0.4}))
        assert [s.what.split()[-1] for s in stamps] == ["down", "up"] * 3
        offsets_ms = [(s.mono_start_ns - stamps[0].mono_start_ns) / 1e6 for s in stamps]
        assert all(abs(got - 200 * i) < 30 for i, got in enumerate(offsets_ms)), offsets_ms
        assert_precise(stamps)
        assert "UP" in flags(lab, "r1", "eth1")


def test_delay_is_refused_clearly_without_netem(lab: Lab) -> None:
    if not netem_missing():
        pytest.skip("this kernel has sch_netem")
    with pytest.raises(FaultError) as err, Guard(lab) as guard:
        guard.inject(build("delay", {"link": "r1:eth1", "ms": 20}))
    assert "cannot be injected on this kernel: it has no sch_netem" in str(err.value)
    assert "\n" not in str(err.value)
    assert root_qdisc(lab, "r1", "eth1") == "noqueue 0:"
    assert pending(include_live=True) == []


def hold(lab: Lab, faults: list[tuple[str, dict[str, object]]],
         until: str = "held") -> subprocess.Popen[str]:
    """A separate `python` holding faults through a Guard, once it printed `until`."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, lab.name, json.dumps(faults)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, ENV: str(journal_dir())})
    assert proc.stdout is not None
    while (line := proc.stdout.readline().strip()) != until:
        assert line, f"holder died: {proc.communicate()[1][-2000:]}"
    return proc


def test_recover_undoes_what_a_killed_run_left(lab: Lab) -> None:
    faults: list[tuple[str, dict[str, object]]] = [
        ("silent-blackhole", {"link": "r1:eth1"}),
        ("degraded-link", {"link": "r3:eth2", "percent": 10}),
        ("link-cut", {"link": "r4:eth1", "one_end": True}),
        ("routing-daemon-crash", {"node": "r3", "daemons": ["ospfd", "bfdd"]}),
    ]
    proc = hold(lab, faults)
    assert recover() == []  # a live run holds its faults on purpose
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sorted(faults_left(lab)) == [
        "r1:eth1 pfifo fa11:", "r2:eth1 pfifo fa11:", "r3 bfdd not running",
        "r3 nft failover_loss_eth2", "r3 ospfd not running", "r3 watchfrr not running",
        "r4 nft failover_loss_eth2", "r4:eth1 down"]
    assert len(pending()) == 4
    results = recover()
    assert [r.outcome for r in results] == ["restored"] * 4
    assert [r.entry.kind for r in results] == [kind for kind, _ in reversed(faults)]
    assert faults_left(lab) == [] and list(journal_dir().iterdir()) == []
    assert recover() == []
    target = Target(lab)
    for kind, params in faults:  # restoring what is restored changes nothing, fails nothing
        build(kind, params).restore(target)
    target.close()


@pytest.mark.parametrize(("signum", "fault", "until"), [
    (signal.SIGINT, ("link-cut", {"link": "r1:eth1"}), "held"),
    (signal.SIGTERM, ("flapping-link", {"link": "r1:eth1", "count": 50, "period": 0.2}),
     "injecting"),
])
def test_a_signal_restores_at_once(lab: Lab, signum: int,
                                   fault: tuple[str, dict[str, object]], until: str) -> None:
    proc = hold(lab, [fault], until)
    time.sleep(0.25)
    proc.send_signal(signum)
    took = wait_for(lambda: "UP" in flags(lab, "r1", "eth1") and
                    "UP" in flags(lab, "r2", "eth1"), timeout=2)
    proc.wait(timeout=5)
    # SIGTERM: the Guard's SystemExit(128 + n); SIGINT: KeyboardInterrupt re-raised as SIGINT
    assert proc.returncode == {signal.SIGINT: -signal.SIGINT,
                               signal.SIGTERM: 128 + signal.SIGTERM}[signum], proc.returncode
    assert took < 0.5
    assert "UP" in flags(lab, "r1", "eth1") and "UP" in flags(lab, "r2", "eth1")
    assert list(journal_dir().iterdir()) == []
