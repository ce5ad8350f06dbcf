"""Faults that are configuration changes pushed through NAPALM, as on any vendor's device:
committed with `revert_in` (the device undoes the change by itself should the harness die
before the restore); restore (also from the journal, in another process) rolls the pending
commit back, or applies the undo when the change still stands without a pending revert.

`planned-drain`: a maintenance drain (default OSPF max-metric: neighbours move traffic away
while the router still forwards; expect zero loss). `interface-shutdown`: interfaces shut in
the device's configuration, in the syntax of its NAPALM driver."""

from __future__ import annotations

import difflib
import secrets
from abc import abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from harness.devices import DeviceSpec, connect
from harness.errors import HarnessError
from harness.faults.base import Fault, FaultError, Stamp, require, timed
from harness.faults.target import Target
from harness.redact import redact

MAX_METRIC = "router ospf\n max-metric router-lsa administrative\nexit\n"
UNDO_MAX_METRIC = "router ospf\n no max-metric router-lsa administrative\nexit\n"

# driver -> (shut, undo) templates for one interface {i}; only drivers whose NAPALM commit
# takes `revert_in` and answers `has_pending_commit` (nxos, iosxr and ios do not): the
# drivers any NAPALM fault accepts
SHUTDOWN: dict[str, tuple[str, str]] = {
    "frr": ("interface {i}\n shutdown\nexit\n", "interface {i}\n no shutdown\nexit\n"),
    "eos": ("interface {i}\n shutdown\n", "interface {i}\n no shutdown\n"),
    "junos": ("set interfaces {i} disable\n", "delete interfaces {i} disable\n"),
}


@dataclass(kw_only=True)
class NapalmChange(Fault):
    node: str
    revert_in: int = 600  # seconds: longer than any hold; the device's own safety net
    device: dict[str, Any] | None = None  # the inventory entry (credentials by reference)
    # EOS commits in a named configuration session, and its driver aborts a pending one only
    # by that name: chosen before the fault is journaled, so any process can roll it back
    commit_session: str = field(default_factory=lambda: f"failover_{secrets.token_hex(4)}")

    @abstractmethod
    def config(self) -> str:
        """The configuration the fault commits."""

    @abstractmethod
    def undo(self) -> str:
        """What undoes it when no revert is pending any more but the change still stands."""

    def __post_init__(self) -> None:
        require(self.revert_in > 0, f"{self.kind}: revert_in must be above 0 s (the device's "
                f"own revert is the safety net), not {self.revert_in}")
        require(self.driver_name in SHUTDOWN, f"{self.kind}: NAPALM driver "
                f"{self.driver_name!r} cannot commit with commit-confirm (revert_in) and say "
                f"what is pending; drivers that can: {', '.join(SHUTDOWN)}")

    @property
    def spec(self) -> DeviceSpec:
        return DeviceSpec.model_validate(self.device or {})

    @property
    def driver_name(self) -> str:
        return self.spec.driver

    @property
    def needs_lab(self) -> bool:
        return self.spec.is_lab

    def _driver(self, target: Target) -> Any:
        try:
            return connect(self.node, self.device, target.built_in)
        except HarnessError as exc:
            raise FaultError(str(exc)) from None

    def _in_session(self, driver: Any) -> Any:
        """The driver, working in this fault's commit session where the driver names one."""
        if self.driver_name == "eos":
            driver.config_session = self.commit_session
        return driver

    def check(self, target: Target) -> None:
        if self.needs_lab:
            target.router(self.node)
        driver = self._driver(target)
        try:
            if driver.has_pending_commit():
                raise FaultError(f"{self.node} has a commit pending confirmation: another "
                                 f"change is in flight; refusing the {self.kind}")
        finally:
            driver.close()

    def inject(self, target: Target) -> list[Stamp]:
        driver = self._driver(target)
        try:
            self._in_session(driver).load_merge_candidate(config=self.config())
            diff = driver.compare_config()
            stamp = timed(f"{self.node}: commit {self.kind} (revert in {self.revert_in} s)",
                          lambda: driver.commit_config(revert_in=self.revert_in))
            return [_with_diff(stamp, diff)]
        finally:
            driver.close()

    def restore(self, target: Target) -> list[Stamp]:
        """Roll the pending commit back; if none is pending (it was applied but the revert was
        never scheduled, or the device restarted) and the change still stands, apply `undo`."""
        driver = self._driver(target)
        try:
            if driver.has_pending_commit():
                before = driver.get_config(retrieve="running")["running"]
                stamp = timed(f"{self.node}: roll the {self.kind} back",
                              self._in_session(driver).rollback)
                after = driver.get_config(retrieve="running")["running"]
                return [_with_diff(stamp, "".join(difflib.unified_diff(  # changed lines only
                    before.splitlines(True), after.splitlines(True), "running", "rolled back",
                    n=0)))]
            running = driver.get_config(retrieve="running")["running"]
            if not _applied(self.config(), running):
                return []  # never committed, already rolled back, or reverted by the device
            driver.load_merge_candidate(config=self.undo())
            diff = driver.compare_config()
            return [_with_diff(timed(f"{self.node}: undo the {self.kind}",
                                     driver.commit_config), diff)]
        except FaultError:
            raise
        except Exception as exc:  # NAPALM's own errors: one line, other restores go on
            raise FaultError(f"{self.node}: {self.kind} not restored: {exc}") from exc
        finally:
            driver.close()


@dataclass(kw_only=True)
class PlannedDrain(NapalmChange):
    kind: ClassVar[str] = "planned-drain"
    drain: str = MAX_METRIC
    undrain: str = UNDO_MAX_METRIC  # applied when no revert is pending but the drain stands

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.driver_name == "frr" or (self.drain != MAX_METRIC
                                               and self.undrain != UNDO_MAX_METRIC),
                f"planned-drain on NAPALM driver {self.driver_name!r}: give `drain` and "
                "`undrain` in its configuration syntax (the default is FRR's)")

    def config(self) -> str:
        return self.drain

    def undo(self) -> str:
        return self.undrain

    def describe(self) -> str:
        lines = [ln.strip() for ln in self.drain.strip().splitlines() if ln.strip()]
        detail = lines[-2] if len(lines) > 1 and lines[-1] == "exit" else lines[-1]
        return f"planned-drain {self.node}: commit through NAPALM ({detail.split()[0]} ...)"


@dataclass(kw_only=True)
class InterfaceShutdown(NapalmChange):
    kind: ClassVar[str] = "interface-shutdown"
    interfaces: list[str]

    def __post_init__(self) -> None:
        super().__post_init__()
        require(bool(self.interfaces), "interface-shutdown: name at least one interface")

    def _each(self, template: str) -> str:
        return "".join(template.format(i=i) for i in self.interfaces)

    def config(self) -> str:
        return self._each(SHUTDOWN[self.driver_name][0])

    def undo(self) -> str:
        return self._each(SHUTDOWN[self.driver_name][1])

    def check(self, target: Target) -> None:
        if self.needs_lab:
            have = {lk.end(self.node).interface for lk in target.lab.topology.links_of(self.node)}
            missing = [i for i in self.interfaces if i not in have]
            require(not missing, f"{self.node} has no interface {', '.join(missing)} "
                                 f"(interfaces: {', '.join(sorted(have))})")
        super().check(target)

    def describe(self) -> str:
        return (f"interface-shutdown {self.node} {','.join(self.interfaces)}: commit through "
                f"NAPALM {self.driver_name}")


def _applied(config: str, running: str) -> bool:
    """Whether the change's innermost lines all stand in the running config; True when that
    cannot be told (set-style syntax): the undo is then applied, to be safe."""
    have = {line.strip() for line in running.splitlines()}
    wanted = [ln.strip() for ln in config.splitlines()
              if ln.startswith(" ") and ln.strip() and ln.strip() != "exit"]
    return all(line in have for line in wanted)


def _with_diff(stamp: Stamp, diff: str) -> Stamp:
    """The stamp with the configuration diff it pushed, secrets redacted: the diff goes into
    results, reports and evidence packs."""
    return replace(stamp, detail=redact(diff)[0])
