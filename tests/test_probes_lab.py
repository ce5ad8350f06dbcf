"""The probe engine on a real lab: clean paths, a known outage, no agent left behind."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import wait_for

from harness.lab import Lab
from harness.lab.netns import batch, delete, existing, veth_command
from harness.lab.procs import alive
from harness.lab.shell import run
from harness.probes.endpoints import SETUP_NICE, NetnsEndpoint
from harness.probes.flows import Flow
from harness.probes.launching import Launcher, LaunchError
from harness.probes.session import ProbeError, ProbeSession

pytestmark = pytest.mark.lab


def session(lab: Lab, flows: list[Flow], tmp_path: Path) -> ProbeSession:
    return ProbeSession(flows, lambda n: NetnsEndpoint(n, lab.ns(n)), tmp_path, max_seconds=60)


def agent_processes(lab: Lab) -> list[int]:
    """Every probe agent process in the lab's namespaces: the agents and the senders they
    forked."""
    pids = [int(p) for node in lab.topology.nodes
            for p in run(["ip", "netns", "pids", lab.ns(node)]).stdout.split()]
    return [p for p in pids if b"harness.probes." in _cmdline(p)]  # the agents' bootstrap


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def children(pids: list[int]) -> list[int]:
    """The processes the given ones forked (an agent's sender)."""
    return [int(c) for p in pids
            for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_healthy_path_loses_nothing_in_either_direction(two_path: Lab, tmp_path: Path) -> None:
    flows = [Flow(name=f"udp{i}", src="h1", dst="h2", port=50000 + i, direction="both")
             for i in range(4)] + [Flow.for_application("pacs", "h1", "h2", "dicom"),
                                   Flow.for_application("voice", "h2", "h1", "rtp")]
    for host in ("h1", "h2"):  # from a cold ARP cache: the senders resolve before they start
        run(["ip", "netns", "exec", two_path.ns(host), "ip", "neigh", "flush", "dev", "eth1"])
    with session(two_path, flows, tmp_path) as probes:
        probes.start()
        time.sleep(2.0)
        result = probes.stop()
    assert len(result.results) == 10
    for r in result.results:
        assert r.sent >= 1900, r
        assert (r.received, r.lost, r.duplicates) == (r.sent, 0, 0), r
    assert sorted(result.framed) == sorted(r.name for r in result.results)  # the fast path


def test_two_sessions_on_the_same_hosts_keep_their_probes_apart(two_path: Lab,
                                                                  tmp_path: Path) -> None:
    """Two runs probing the same hosts at once (two engineers, one probe host): each
    receiver sees both runs' probes, and each run counts only its own."""
    flows = [Flow(name="f", src="h1", dst="h2", direction="both")]
    with session(two_path, flows, tmp_path / "a") as one, \
            session(two_path, flows, tmp_path / "b") as other:
        one.start()
        other.start()
        time.sleep(1.0)
        results = [*one.stop().results, *other.stop().results]
    for r in results:
        assert r.sent >= 900 and (r.received, r.lost, r.duplicates) == (r.sent, 0, 0), r


def test_sender_follows_its_gateway_to_a_new_mac(two_path: Lab, tmp_path: Path) -> None:
    """h1's gateway r1 changes its MAC and announces it (gratuitous ARP): frames must go to the
    new MAC within milliseconds, where a sender that kept the old one would lose every probe."""
    flows = [Flow(name="f", src="h1", dst="h2")]
    r1 = ["ip", "netns", "exec", two_path.ns("r1")]
    old = json.loads(run([*r1, "ip", "-j", "link", "show", "eth3"]).stdout)[0]["address"]
    with session(two_path, flows, tmp_path) as probes:
        probes.start()
        time.sleep(1.5)  # past the neighbour entry's locktime (1 s), so the announcement counts
        run([*r1, "sysctl", "-qw", "net.ipv4.conf.eth3.arp_notify=1"])
        run([*r1, "ip", "link", "set", "eth3", "address", "02:00:5e:00:53:01"])
        time.sleep(1.5)
        result = probes.stop()
    run([*r1, "ip", "link", "set", "eth3", "address", old])
    r = result.results[0]
    assert r.received > 2500 and r.lost <= 50, r
    assert result.framed == ["f"]


def test_known_blackhole_is_measured_within_tolerance(two_path: Lab, tmp_path: Path) -> None:
    """Drop everything leaving r2 toward r4 for ~150 ms (shorter than BFD's 300 ms detection,
    so routing does not react): the probes must see exactly that outage."""
    flows = [Flow(name=f"f{i}", src="h1", dst="h2", port=51000 + i) for i in range(5)]
    tc = ["ip", "netns", "exec", two_path.ns("r2"), "tc", "qdisc"]
    with session(two_path, flows, tmp_path) as probes:
        probes.start()
        time.sleep(0.5)
        t0 = time.time_ns()
        run([*tc, "replace", "dev", "eth2", "root", "pfifo", "limit", "0"])
        t1 = time.time_ns()
        time.sleep(0.15)
        t2 = time.time_ns()
        run([*tc, "del", "dev", "eth2", "root"])
        t3 = time.time_ns()
        time.sleep(0.5)
        result = probes.stop()
    shortest, longest = (t2 - t1) / 1e6, (t3 - t0) / 1e6  # the true outage lies between
    for r in result.results:
        assert len(r.outages) == 1, r
        measured = r.lost * 1e3 / r.rate
        assert shortest - 2 <= measured <= longest + 2, (measured, shortest, longest)
        assert t0 - 2e6 <= r.outages[0].start_ns <= t1 + 2e6


def test_agents_are_gone_after_stop_and_after_a_failure(two_path: Lab, tmp_path: Path) -> None:
    """One agent per node (and the sender it forks), all gone after a stop or a failure."""
    flows = [Flow(name="f", src="h1", dst="h2", direction="both")]
    probes = session(two_path, flows, tmp_path / "a")
    with probes:
        probes.start()
        pids = probes.pids
        assert len(pids) == 2 and all(alive(p) for p in pids)
        assert sorted(agent_processes(two_path)) == sorted(pids + children(pids))
        launcher = probes._launcher.pid
        assert launcher is not None and all(parent(p) == launcher for p in pids)
        probes.stop()
    assert not any(alive(p) for p in pids) and not agent_processes(two_path)
    assert not alive(launcher)
    probes = session(two_path, flows, tmp_path / "b")
    with pytest.raises(RuntimeError), probes:
        probes.start()
        pids = probes.pids
        raise RuntimeError("a test failing half-way")
    assert not any(alive(p) for p in pids)
    wait_for(lambda: not agent_processes(two_path), timeout=3.0)  # senders: PR_SET_PDEATHSIG


def test_launches_answered_in_order_set_up_niced_then_at_our_priority(two_path: Lab,
                                                                      tmp_path: Path) -> None:
    """Agents launched one after another without waiting each get their own pid, in their
    own namespace (entered just after the fork, niced first: SETUP_NICE) until set up, then
    at the harness's priority."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    launcher, nodes = Launcher(), ["h1", "h2", "h1", "h2"]
    try:
        agents = [launcher.launch(two_path.ns(n), own + SETUP_NICE) for n in nodes]
        pids = [a.pid for a in agents]
        assert len(set(pids)) == 4 and all(parent(p) == launcher.pid for p in pids)
        namespaces = [os.stat(f"/run/netns/{two_path.ns(n)}").st_ino for n in nodes]
        wait_for(lambda: [os.stat(f"/proc/{p}/ns/net").st_ino for p in pids] == namespaces)
        assert {os.getpriority(os.PRIO_PROCESS, p) for p in pids} == {min(19, own + SETUP_NICE)}
    finally:
        launcher.close()
    wait_for(lambda: not any(alive(p) for p in pids))  # killed by the launcher, or with it
    probes = session(two_path, [Flow(name="f", src="h1", dst="h2", direction="both")], tmp_path)
    with probes:
        probes.prepare()
        assert [os.getpriority(os.PRIO_PROCESS, p) for p in probes.pids] == [own, own]


def test_agents_of_a_launcher_killed_before_answering_have_ended(two_path: Lab) -> None:
    """Launches whose answers were never read, the launcher then killed: each agent counts
    as ended (-SIGTERM, as the agents of a launcher that is gone), and killing it is no
    error."""
    launcher = Launcher()
    try:
        agents = [launcher.launch(two_path.ns("h1"), 0) for _ in range(3)]
        assert launcher.pid is not None
        os.kill(launcher.pid, signal.SIGKILL)
        assert [a.poll() for a in agents] == [-signal.SIGTERM] * 3
        for agent in agents:
            agent.kill()
    finally:
        launcher.close()


def test_agents_die_with_their_launcher(two_path: Lab, tmp_path: Path) -> None:
    """The launcher that forked the agents killed mid-run: its agents die with it, and the
    stop says they failed instead of waiting for them."""
    probes = session(two_path, [Flow(name="f", src="h1", dst="h2", direction="both")],
                     tmp_path)
    with probes:
        probes.start()
        assert probes._launcher.pid is not None
        os.kill(probes._launcher.pid, signal.SIGKILL)
        wait_for(lambda: not agent_processes(two_path), timeout=3.0)  # PR_SET_PDEATHSIG
        with pytest.raises(ProbeError, match="probe agent on h[12] failed"):
            probes.stop()


def test_a_request_the_launcher_refuses_is_said_and_the_next_one_served(
        two_path: Lab) -> None:
    """A malformed request (a name with a space: four words) is refused, not forked: the
    agent's pid says why and it counts as ended (1); the launcher serves the next request."""
    launcher = Launcher()
    try:
        bad, good = launcher.launch("bad name", 0), launcher.launch(two_path.ns("h1"), 0)
        with pytest.raises(LaunchError, match="did not start this agent: 3 file descriptors, "
                                              "request b'spawn bad name 0'"):
            assert bad.pid is None  # raises first
        assert bad.poll() == 1 and parent(good.pid) == launcher.pid
    finally:
        launcher.close()


@dataclass(frozen=True)
class Nowhere(NetnsEndpoint):
    """A namespace that does not exist, with an address (so that its agent is asked)."""

    def address(self) -> str:
        return "198.18.200.1"


def test_an_agent_for_a_missing_namespace_says_so(tmp_path: Path) -> None:
    flows = [Flow(name="f", src="a", dst="b")]
    probes = ProbeSession(flows, lambda n: Nowhere(n, f"fo-missing-{n}"), tmp_path)
    with pytest.raises(ProbeError, match="agent on [ab] did not start: cannot open network "
                                         "namespace fo-missing-[ab]: No such file"), probes:
        probes.prepare()
    assert probes._launcher.pid is not None and not alive(probes._launcher.pid)


def test_a_sender_killed_before_go_is_reported_at_stop(two_path: Lab, tmp_path: Path) -> None:
    """h1's forked sender dies before "go": the stop says so at once (it does not wait out the
    agent's stop timeout), and nothing is left running."""
    probes = session(two_path, [Flow(name="f", src="h1", dst="h2")], tmp_path)
    with probes:
        probes.prepare()
        agent = probes._agents["h1"].proc.pid
        sender = int(Path(f"/proc/{agent}/task/{agent}/children").read_text().split()[0])
        os.kill(sender, signal.SIGKILL)
        wait_for(lambda: not alive(sender), timeout=3.0)  # its end of the control pipe closed
        probes.start()
        with pytest.raises(ProbeError, match="h1 failed: sender: the sender exited"):
            probes.stop()
    wait_for(lambda: not agent_processes(two_path), timeout=3.0)


def test_receiver_overrun_is_reported_not_taken_for_network_loss(two_path: Lab,
                                                                  tmp_path: Path) -> None:
    """The receiver is kept off the CPU (SIGSTOP) for longer than its ring holds: the probes
    its ring dropped are counted, and the run says its measurement is not sound."""
    flows = [Flow(name="f", src="h1", dst="h2")]
    with session(two_path, flows, tmp_path) as probes:
        probes.start()
        time.sleep(0.5)
        receiver = probes._agents["h2"].proc.pid  # h2 only receives
        os.kill(receiver, signal.SIGSTOP)
        time.sleep(2.0)  # the ring holds about 1 s
        os.kill(receiver, signal.SIGCONT)
        time.sleep(0.5)
        result = probes.stop()
    drops = result.receiver_drops["h2"]
    assert drops > 500 and result.results[0].lost >= drops, (drops, result.results[0])
    assert len(result.problems) == 1 and "h2" in result.problems[0]


@pytest.fixture
def bridged_pair() -> Iterator[tuple[str, str]]:
    """Two namespaces of this test's own, one veth between them: in the second, the veth is
    a bridge port and the address is on the bridge (a server behind a bridge, a bond or a
    VLAN sees each packet on two interfaces)."""
    a, b = f"fhbr{os.getpid()}a", f"fhbr{os.getpid()}b"
    try:
        batch([f"netns add {a}", f"netns add {b}",
               veth_command(a, "eth1", None, b, "eth1", None, None)])
        batch(["addr add 198.18.250.1/24 dev eth1", "link set eth1 up"], netns=a)
        batch(["link add br0 type bridge", "link set eth1 master br0", "link set eth1 up",
               "addr add 198.18.250.2/24 dev br0", "link set br0 up"], netns=b)
        yield a, b
    finally:
        for ns in (a, b):
            if ns in existing():
                delete(ns)


def test_a_probe_through_a_bridge_is_received_once(bridged_pair: tuple[str, str],
                                                    tmp_path: Path) -> None:
    """The receiver's ring sees each probe on the bridge port and again on the bridge: it
    hands it on once, so nothing counts as duplicated."""
    a, b = bridged_pair
    endpoints = {"a": NetnsEndpoint("a", a), "b": NetnsEndpoint("b", b)}
    with ProbeSession([Flow(name="f", src="a", dst="b")], endpoints.__getitem__, tmp_path,
                      max_seconds=60) as probes:
        probes.start()
        time.sleep(1.0)
        r = probes.stop().results[0]
    assert r.sent >= 900 and (r.received, r.lost, r.duplicates) == (r.sent, 0, 0), r
