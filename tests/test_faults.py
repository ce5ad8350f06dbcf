"""The fault library without a lab: parameters, registry, journal, and the guard's logic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import private_copy

from harness.faults import FAULTS, Fault, FaultError, Guard, Journal, Scope, Stamp, Target, build
from harness.faults import journal as journal_mod
from harness.faults.base import timed
from harness.faults.daemon_crash import RoutingDaemonCrash
from harness.faults.link_cut import LinkCut
from harness.faults.node_power_loss import NodePowerLoss
from harness.lab import Lab
from harness.topology import Topology, load_topology

EXAMPLES = {
    "link-cut": {"link": "r1:eth1"},
    "node-power-loss": {"node": "r2"},
    "routing-daemon-crash": {"node": "r2", "daemons": ["ospfd", "bfdd"]},
    "silent-blackhole": {"node": "r2"},
    "degraded-link": {"link": "r1,r2", "percent": 2.5},
    "flapping-link": {"link": "r1:eth1", "one_end": True, "count": 2, "period": 0.5},
    "delay": {"link": "r1:eth1", "ms": 20, "jitter_ms": 5},
    "planned-drain": {"node": "r2", "revert_in": 300},
    "interface-shutdown": {"node": "r2", "interfaces": ["eth1"]},
    "vrrp-master-loss": {"node": "r2", "vrid": 20, "how": "daemon"},
    "vrrp-priority-drop": {"node": "r2", "interface": "br-ed", "vrid": 20, "priority": 50},
    "stp-root-failure": {"node": "r2", "bridge": "br-ed", "how": "bridge"},
}


@pytest.fixture
def offline_lab(tmp_path: Path) -> Lab:
    """A two-path lab read from its topology, never brought up."""
    return Lab(load_topology(private_copy(tmp_path, "two-path")))


@dataclass(kw_only=True)
class Recorder(Fault):
    """A fault that only records what was done to it."""

    kind: ClassVar[str] = "recorder"
    name: str
    log: list[str] = field(default_factory=list)
    on_restore: str = ""  # "fail" or "sigint"

    def check(self, target: Target) -> None:
        pass

    def scope(self, topology: Topology) -> Scope:
        return Scope()

    def inject(self, target: Target) -> list[Stamp]:
        self.log.append(f"inject {self.name}")
        return [timed(self.name, lambda: None)]

    def restore(self, target: Target) -> list[Stamp]:
        if self.on_restore == "sigint":
            os.kill(os.getpid(), signal.SIGINT)
        if self.on_restore == "fail":
            raise FaultError(f"{self.name} refuses")
        self.log.append(f"restore {self.name}")
        return []

    def describe(self) -> str:
        return f"recorder {self.name}"


def test_every_kind_is_registered_and_round_trips_through_its_journal_entry() -> None:
    assert set(FAULTS) == set(EXAMPLES)
    for kind, params in EXAMPLES.items():
        fault = build(kind, params)
        entry = json.loads(json.dumps(fault.journal_entry()))
        assert entry["kind"] == kind
        assert build(entry["kind"], entry["params"]) == fault
        assert fault.describe().startswith(kind) and "\n" not in fault.describe()


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("earthquake", {}, "unknown fault kind 'earthquake' (kinds: link-cut,"),
    ("link-cut", {"lnk": "r1:eth1"}, "link-cut: unknown parameter lnk (parameters: link,"),
    ("degraded-link", {"link": "r1:eth1"}, "degraded-link: missing parameter percent"),
    ("degraded-link", {"link": "r1:eth1", "percent": "lots"}, "percent must be float, not 'lots'"),
    ("degraded-link", {"link": "r1:eth1", "percent": 0}, "percent must be in (0, 100]"),
    ("flapping-link", {"link": "r1:eth1", "count": True}, "count must be int, not True"),
    ("flapping-link", {"link": "r1:eth1", "count": 0}, "count must be >= 1"),
    ("link-cut", {"link": "r1:eth1", "node": "r1"}, "give either link or node"),
    ("link-cut", {"link": "r1,r2", "one_end": True}, "one_end needs the link named by its end"),
    ("routing-daemon-crash", {"node": "r1", "daemons": []}, "daemons must not be empty"),
    ("routing-daemon-crash", {"node": "r1", "daemons": ["ospfd", 3]}, "daemons must be"),
    ("delay", {"link": "r1:eth1", "ms": 5, "jitter_ms": 9}, "jitter_ms must be in [0, ms]"),
])
def test_bad_parameters_are_one_line(kind: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError) as err:
        build(kind, params)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("fault", "message"), [
    (LinkCut(link="r9:eth1"), "no link at r9:eth1"),
    (LinkCut(link="r1:eth7"), "no link at r1:eth7"),
    (LinkCut(link="r1,r4"), "0 links between r1 and r4"),
    (NodePowerLoss(node="r9"), "has no node 'r9' (nodes: r1, r2, r3, r4, h1, h2)"),
    (RoutingDaemonCrash(node="h1"), "h1 is not an FRR router"),
    (RoutingDaemonCrash(node="r1", daemons=["bgpd"]), "r1 does not run bgpd (it runs zebra,"),
])
def test_unknown_node_or_link_is_refused_before_anything(offline_lab: Lab, tmp_path: Path,
                                                         fault: Fault, message: str) -> None:
    journal = Journal(tmp_path / "journal")
    with pytest.raises(FaultError) as err, Guard(offline_lab, journal) as guard:
        guard.inject(fault)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not journal.path.parent.exists()  # nothing journaled, so nothing was touched


def test_timed_reads_both_clocks_around_the_call() -> None:
    stamp = timed("x", lambda: sum(range(1000)))
    assert stamp.mono_start_ns <= stamp.mono_end_ns and stamp.wall_start_ns <= stamp.wall_end_ns
    assert 0 <= stamp.call_ns < 50_000_000


def test_guard_restores_newest_first_on_exception_and_clears_its_journal(
        offline_lab: Lab, tmp_path: Path) -> None:
    log: list[str] = []
    journal = Journal(tmp_path / "journal")
    with pytest.raises(RuntimeError), Guard(offline_lab, journal) as guard:
        for name in ("a", "b"):
            guard.inject(Recorder(name=name, log=log))
        assert len(journal_mod.pending(journal.path.parent, include_live=True)) == 2
        raise RuntimeError("scenario bug")
    assert log == ["inject a", "inject b", "restore b", "restore a"]
    assert list(journal.path.parent.iterdir()) == []


def test_guard_restore_one_then_the_rest(offline_lab: Lab, tmp_path: Path) -> None:
    log: list[str] = []
    with Guard(offline_lab, Journal(tmp_path / "journal")) as guard:
        a, b = Recorder(name="a", log=log), Recorder(name="b", log=log)
        guard.inject(a)
        guard.inject(b)
        guard.restore(a)
        with pytest.raises(FaultError, match="not injected through this guard"):
            guard.restore(a)
    assert log == ["inject a", "inject b", "restore a", "restore b"]


def test_a_failed_restore_keeps_its_entry_and_says_to_recover(offline_lab: Lab,
                                                              tmp_path: Path) -> None:
    log: list[str] = []
    journal = Journal(tmp_path / "journal")
    with pytest.raises(FaultError) as err, Guard(offline_lab, journal) as guard:
        guard.inject(Recorder(name="a", log=log))
        guard.inject(Recorder(name="b", log=log, on_restore="fail"))
    assert "could not restore recorder b: b refuses" in str(err.value)
    assert "failover recover" in str(err.value)
    assert log[-1] == "restore a"  # the others are still restored
    [left] = journal_mod.pending(journal.path.parent, include_live=True)
    assert left.kind == "recorder" and left.params["name"] == "b"


def test_a_signal_during_restore_waits_until_everything_is_restored(offline_lab: Lab,
                                                                   tmp_path: Path) -> None:
    log: list[str] = []
    with pytest.raises(KeyboardInterrupt), Guard(offline_lab, Journal(tmp_path / "j")) as guard:
        guard.inject(Recorder(name="a", log=log))
        guard.inject(Recorder(name="b", log=log, on_restore="sigint"))
    assert log[-2:] == ["restore b", "restore a"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_inside_the_guard_becomes_system_exit(offline_lab: Lab, tmp_path: Path) -> None:
    log: list[str] = []
    with pytest.raises(SystemExit) as exit_, Guard(offline_lab, Journal(tmp_path / "j")) as guard:
        guard.inject(Recorder(name="a", log=log))
        os.kill(os.getpid(), signal.SIGTERM)
    assert exit_.value.code == 128 + signal.SIGTERM
    assert log == ["inject a", "restore a"]


def test_pending_skips_live_runs_and_torn_lines(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    first = journal.record("lab1", LinkCut(link="r1:eth1"))
    journal.record("lab1", NodePowerLoss(node="r2"))
    journal.restored(first)
    with journal.path.open("a") as f:
        f.write('{"op": "inject", "id": "torn", "la')
    assert journal_mod.pending(tmp_path) == []  # this process is alive: its faults are held
    [entry] = journal_mod.pending(tmp_path, include_live=True)
    assert (entry.lab, entry.kind, entry.params) == ("lab1", "node-power-loss", {"node": "r2"})


def test_a_dead_runs_entries_are_pending_and_cleared_once_restored(tmp_path: Path) -> None:
    script = ("import sys; from harness.faults import Journal; "
              "from harness.faults.link_cut import LinkCut; "
              "Journal().record('lab1', LinkCut(link='r1:eth1'))")
    subprocess.run([sys.executable, "-c", script], check=True,
                   env={**os.environ, journal_mod.ENV: str(tmp_path)},
                   cwd=Path(__file__).resolve().parent.parent)
    [entry] = journal_mod.pending(tmp_path)
    assert entry.kind == "link-cut"
    journal_mod.mark_restored(entry)
    assert journal_mod.pending(tmp_path) == []
    assert journal_mod.clear_finished(tmp_path) == [entry.file]


def test_journal_dir_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv(journal_mod.ENV, str(tmp_path))
    assert journal_mod.journal_dir() == tmp_path
    monkeypatch.delenv(journal_mod.ENV)
    assert journal_mod.journal_dir() == Path("/run/failover/journal")


class FakeEosDevice:
    """A fake (for this logic test only) of what NAPALM's EOS driver does with commit
    sessions: a commit-confirm is pending under its session's name, and `rollback` aborts it
    only when the driver names that session (else CommitError, as napalm.eos does)."""

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.running = "interface Ethernet1\n"

    def driver(self, *_: object) -> FakeEosDriver:
        return FakeEosDriver(self)


class FakeEosDriver:
    def __init__(self, device: FakeEosDevice) -> None:
        self.device, self.config_session = device, None
        self.candidate = ""

    def load_merge_candidate(self, config: str) -> None:
        self.config_session = self.config_session or "napalm_123456"
        self.candidate = config

    def compare_config(self) -> str:
        return self.candidate

    def commit_config(self, revert_in: int | None = None) -> None:
        self.device.pending.add(str(self.config_session))
        self.device.running += self.candidate

    def has_pending_commit(self) -> bool:
        return bool(self.device.pending)

    def get_config(self, retrieve: str) -> dict[str, str]:
        return {retrieve: self.device.running}

    def rollback(self) -> None:
        if self.config_session not in self.device.pending:
            raise RuntimeError("Current config session not found as pending commit-confirm")
        self.device.pending.discard(self.config_session)
        self.device.running = "interface Ethernet1\n"

    def close(self) -> None:
        pass


def test_an_eos_change_is_rolled_back_from_another_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """EOS aborts a pending commit only by its session's name: a restore rebuilt from the
    journal (another process, another driver) names the session the inject used."""
    device = FakeEosDevice()
    monkeypatch.setattr("harness.faults.target.connect", device.driver)
    spec = {"driver": "eos", "host": "core1.example", "username": "netops",
            "password_env": "CORE_PW"}
    fault = build("interface-shutdown", {"node": "core1", "interfaces": ["Ethernet1"],
                                         "device": spec})
    fault.inject(Target(None, "hospital"))
    assert device.pending and "shutdown" in device.running
    again = build(fault.kind, fault.journal_entry()["params"])  # as `failover recover` does
    again.restore(Target(None, "hospital"))
    assert not device.pending and "shutdown" not in device.running
