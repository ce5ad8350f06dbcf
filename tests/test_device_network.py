"""DeviceNetwork's logic (convergence, the gate's view, snapshots, sessions) on a fake NAPALM
driver that replays FRR's real OSPF text. The real thing over SSH is test_devices_run.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from harness.devices import DeviceSpec
from harness.errors import DeviceError, HarnessError
from harness.network import DeviceNetwork, devices
from harness.probes.ssh_endpoint import SshEndpoint
from harness.topology import load_topology
from harness.topology.generate import dual_core

DATA = Path(__file__).with_name("textstate_data")
P2P = (DATA / "frr_show_ip_ospf_neighbor_p2p.raw").read_text()  # r1: both neighbours Full
INIT = (DATA / "frr_show_ip_ospf_neighbor_init.raw").read_text()  # r1: 198.18.0.2 in Init
ONLY_R3 = "\n".join(line for line in P2P.splitlines() if "198.18.0.2 " not in line)


class FakeDriver:
    """A fake NAPALM driver (unit tests only): r1 of two-path as scripted by the test."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        world["sessions"] += 1

    def get_interfaces(self) -> dict[str, dict[str, Any]]:
        if self.world.pop("drop_session", False):
            raise OSError("Socket is closed")
        self.world["reads"] += 1
        flap = self.world["reads"] % 2 == 0  # an access port going up and down: no link
        return {i: {"is_up": i not in self.world["down"]} for i in ("lo", "eth1", "eth2", "eth3")} \
            | {"access7": {"is_up": flap}}

    def cli(self, commands: list[str]) -> dict[str, str]:
        return {commands[0]: self.world["ospf"]}

    def get_route_to(self, destination: str) -> dict[str, list[dict[str, Any]]]:
        return {f"{destination}/32": [{"protocol": "ospf", "current_active": True,
                                       "next_hop": "198.18.2.1", "outgoing_interface": "eth1"}]}

    def close(self) -> None:
        pass


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"sessions": 0, "reads": 0, "down": set(), "ospf": P2P,
                             "unreachable": False}

    def connect(node: str, spec: Any) -> FakeDriver:
        if state["unreachable"]:
            raise HarnessError(f"{node}: cannot connect through NAPALM frr to r1: timed out")
        return FakeDriver(state)
    monkeypatch.setattr(devices, "connect", connect)
    monkeypatch.setattr(devices, "POLL_S", 0.01)
    return state


@pytest.fixture
def network() -> DeviceNetwork:
    topology = load_topology(ROOT / "topologies/two-path.clab.yml")
    probes = {h: SshEndpoint(name=h, destination=h, probe_address=a)
              for h, a in (("h1", "198.19.1.10"), ("h2", "198.19.2.10"))}
    return DeviceNetwork("two-path", topology, {"r1": DeviceSpec(host="r1.example")}, probes)


def test_converged_on_two_equal_readings_then_the_reading_stands_for_the_state(
        world: dict[str, Any], network: DeviceNetwork) -> None:
    called = time.time_ns()
    read_ns = network.wait_converged(timeout=5)
    assert world["reads"] == 2 and world["sessions"] == 1
    # converged since the first of the two readings, which started before the second one
    assert called <= read_ns <= time.time_ns() - devices.POLL_S * 1e9
    assert network.degraded() == []
    snap = network.snapshot()["r1"]
    assert world["reads"] == 2  # the reading that proved convergence, not a new one
    assert snap["ospf"] == ["198.18.0.2 eth1 full", "198.18.0.3 eth2 full"]
    assert "198.19.2.10: 198.19.2.10/32 ospf via 198.18.2.1 eth1" in snap["routes"]
    assert "eth1 up" in snap["interfaces"]


def test_held_through_an_instant_a_change_before_it_moves_the_instant_on(
        world: dict[str, Any], network: DeviceNetwork) -> None:
    """With `through`: every reading until then must agree; one that differs (an adjacency
    lost and back) starts the count again, and the instant returned is after it. A stop
    ends the wait at its next pause."""
    network.wait_converged(timeout=5)
    start_ns = time.time_ns()
    through = time.monotonic() + 0.3
    assert start_ns <= network.wait_converged(timeout=5, through=through) < start_ns + 0.1e9
    assert time.monotonic() >= through

    def flap() -> None:
        time.sleep(0.1)
        world["ospf"] = ONLY_R3
        time.sleep(0.1)
        world["ospf"], world["back_ns"] = P2P, time.time_ns()
    flapping = threading.Thread(target=flap)
    flapping.start()
    read_ns = network.wait_converged(timeout=5, through=time.monotonic() + 0.4)
    flapping.join()
    assert read_ns >= world["back_ns"] - devices.POLL_S * 1e9  # the reading after the flap

    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(DeviceError, match="convergence check stopped"):
        network.wait_converged(timeout=5, stop=stop, through=time.monotonic() + 10)


def test_what_keeps_it_from_converging_is_named(world: dict[str, Any],
                                                network: DeviceNetwork) -> None:
    world["ospf"], world["down"] = INIT, {"eth3"}
    with pytest.raises(DeviceError) as err:
        network.wait_converged(timeout=0.2)
    assert "r1: eth3 is down (link r1:eth3 -- h1:eth1)" in str(err.value)
    assert "r1: OSPF neighbour 198.18.0.2 on eth1 is init" in str(err.value)


def test_after_the_first_convergence_a_lost_adjacency_is_waited_for(
        world: dict[str, Any], network: DeviceNetwork) -> None:
    network.wait_converged(timeout=5)
    world["ospf"] = ONLY_R3  # r2 gone from r1's neighbours, every interface still up
    with pytest.raises(DeviceError, match="r1: OSPF neighbour 198.18.0.2 on eth1 is gone"):
        network.wait_converged(timeout=0.2)
    world["ospf"] = P2P
    network.wait_converged(timeout=5)


def test_an_unreachable_device_fails_at_once_before_the_run(world: dict[str, Any],
                                                            network: DeviceNetwork) -> None:
    world["unreachable"] = True
    start = time.monotonic()
    with pytest.raises(DeviceError, match="device not reachable: r1: r1: cannot connect"):
        network.wait_converged(timeout=60)
    assert time.monotonic() - start < 5


def test_a_dropped_session_is_opened_again_once(world: dict[str, Any], network: DeviceNetwork,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    network.wait_converged(timeout=5)
    world["drop_session"] = True
    monkeypatch.setattr(devices, "FRESH_S", 0.0)  # a new reading
    assert network.degraded() == [] and world["sessions"] == 2


class ConcurrencyRecordingFakeDriver:
    """A fake NAPALM driver (unit test only): every router up with its links, no OSPF text,
    a route to every address; each call takes 10 ms and records how many devices are in a
    call at once."""

    def __init__(self, interfaces: list[str], meter: dict[str, Any]) -> None:
        self.interfaces, self.meter = interfaces, meter

    def _call(self) -> None:
        with self.meter["lock"]:
            self.meter["now"] += 1
            self.meter["most"] = max(self.meter["most"], self.meter["now"])
            self.meter["calls"] += 1
        time.sleep(0.01)
        with self.meter["lock"]:
            self.meter["now"] -= 1

    def get_interfaces(self) -> dict[str, dict[str, Any]]:
        self._call()
        return {i: {"is_up": True} for i in self.interfaces}

    def cli(self, commands: list[str]) -> dict[str, str]:
        self._call()
        return {commands[0]: ""}

    def get_route_to(self, destination: str) -> dict[str, list[dict[str, Any]]]:
        self._call()
        return {f"{destination}/32": [{"protocol": "ospf", "current_active": True}]}

    def get_facts(self) -> dict[str, Any]:
        self._call()
        return {"vendor": "fake"}

    def close(self) -> None:
        pass


@pytest.mark.parametrize("workers", [20, 5])
def test_a_hundred_devices_are_read_concurrently_by_at_most_the_workers_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    topology = load_topology(dual_core(tmp_path, 98, hosts=0))
    routers = [r.name for r in topology.routers]
    meter: dict[str, Any] = {"lock": threading.Lock(), "now": 0, "most": 0, "calls": 0}
    monkeypatch.setattr(devices, "connect", lambda node, spec: ConcurrencyRecordingFakeDriver(
        [lk.end(node).interface for lk in topology.links_of(node)], meter))
    monkeypatch.setattr(devices, "POLL_S", 0.01)
    probes = {"core1": SshEndpoint(name="core1", destination="core1", probe_address="198.18.0.1")}
    network = DeviceNetwork("dc", topology, {r: DeviceSpec(host=f"{r}.example") for r in routers},
                            probes, workers=workers)
    network.wait_converged(timeout=30)  # two equal readings of every router
    assert meter["calls"] == 2 * 3 * len(routers) and meter["most"] == workers
    meter["most"] = 0
    facts = network.facts()
    assert sorted(facts) == sorted(routers) and meter["most"] == workers
    assert all(f["vendor"] == "fake" for f in facts.values())
