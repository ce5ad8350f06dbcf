"""Faults that are configuration changes pushed through NAPALM, as on any vendor's device:
committed with `revert_in` (the device undoes the change by itself should the harness die
before the restore); restore (also from the journal, in another process) rolls the pending
commit back, or applies the undo when the change still stands without a pending revert.

`planned-drain`: a maintenance drain (by default its driver's, e.g. FRR's OSPF max-metric:
neighbours move traffic away while the router still forwards; expect zero loss).
`interface-shutdown`: interfaces shut in the device's configuration. The syntax of each, and
whether the driver can commit so, come from its vendor profile (`harness.devices.vendors`)."""

from __future__ import annotations

import difflib
import secrets
from abc import abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from harness.devices import DeviceSpec
from harness.devices.vendors import Change, VendorProfile, drivers_with
from harness.faults.base import Fault, FaultError, Scope, Stamp, param, require, timed
from harness.faults.target import Target
from harness.redact import redact
from harness.topology import Topology


@dataclass(kw_only=True)
class NapalmChange(Fault):
    internal: ClassVar[tuple[str, ...]] = ("device", "commit_session")
    on_devices: ClassVar[bool] = True
    node: str = param("the device (a router of the topology)", "core1")
    revert_in: int = param("seconds after which the device undoes the change by itself (its "
                           "own safety net): longer than any hold", 600, default=600)
    device: dict[str, Any] | None = None  # the inventory entry (credentials by reference)
    # for a driver that commits in a named configuration session (its profile's session_attr,
    # e.g. EOS, which aborts a pending one only by name): chosen before the fault is
    # journaled, so any process can roll it back
    commit_session: str = field(default_factory=lambda: f"failover_{secrets.token_hex(4)}")

    def details(self) -> list[str]:
        return [f"committed with revert_in {self.revert_in} s:",
                *(f"  {line}" for line in self.config().splitlines())]

    @abstractmethod
    def config(self) -> str:
        """The configuration the fault commits."""

    @abstractmethod
    def undo(self) -> str:
        """What undoes it when no revert is pending any more but the change still stands."""

    def __post_init__(self) -> None:
        require(self.revert_in > 0, f"{self.kind}: revert_in must be above 0 s (the device's "
                f"own revert is the safety net), not {self.revert_in}")
        require(self.vendor.commit_confirm, f"{self.kind}: NAPALM driver "
                f"{self.driver_name!r} cannot commit with commit-confirm (revert_in) and say "
                f"what is pending; drivers that can: {drivers_with(lambda p: p.commit_confirm)}")

    @property
    def spec(self) -> DeviceSpec:
        return DeviceSpec.model_validate(self.device or {})

    @property
    def driver_name(self) -> str:
        return self.spec.driver

    @property
    def vendor(self) -> VendorProfile:
        return self.spec.vendor

    @property
    def needs_lab(self) -> bool:
        return self.spec.is_lab

    def _driver(self, target: Target) -> Any:
        return target.napalm(self.node, self.device)

    def _in_session(self, driver: Any) -> Any:
        """The driver, working in this fault's commit session where the driver names one."""
        if self.vendor.session_attr:
            setattr(driver, self.vendor.session_attr, self.commit_session)
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
    """planned-drain: a maintenance drain committed through NAPALM (by default OSPF
    max-metric: neighbours move traffic away while the router still forwards)."""

    kind: ClassVar[str] = "planned-drain"
    drain: str = param("configuration that drains the router, in its driver's syntax (default: "
                       "the driver's own, e.g. FRR's OSPF max-metric)",
                       "router ospf 1\n max-metric router-lsa\n", default="")
    undrain: str = param("configuration that undoes it, applied when no revert is pending "
                         "but the drain stands", "router ospf 1\n no max-metric router-lsa\n",
                         default="")

    def __post_init__(self) -> None:
        super().__post_init__()
        if default := self.vendor.drain:
            self.drain, self.undrain = self.drain or default.apply, self.undrain or default.undo
        require(bool(self.drain and self.undrain), f"planned-drain on NAPALM driver "
                f"{self.driver_name!r}: give `drain` and `undrain` in its configuration syntax "
                f"(drivers with a default drain: {drivers_with(lambda p: p.drain)})")

    def scope(self, topology: Topology) -> Scope:
        return Scope(keeps_forwarding=True)  # traffic moves away; the router still forwards

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
    """interface-shutdown: interfaces shut in the device's configuration, committed through
    NAPALM with commit-confirm, in the syntax of its driver."""

    kind: ClassVar[str] = "interface-shutdown"
    interfaces: list[str] = param("interfaces to shut (links of the topology)", ["eth2"])

    def __post_init__(self) -> None:
        super().__post_init__()
        require(bool(self.interfaces), "interface-shutdown: name at least one interface")
        self._syntax()

    def _syntax(self) -> Change:
        if self.vendor.shutdown is None:
            raise FaultError(f"interface-shutdown: no shutdown syntax known for NAPALM driver "
                             f"{self.driver_name!r} (known for: "
                             f"{drivers_with(lambda p: p.shutdown)})")
        return self.vendor.shutdown

    def scope(self, topology: Topology) -> Scope:
        return Scope(links=frozenset(lk for lk in topology.links_of(self.node)
                                     if lk.end(self.node).interface in self.interfaces))

    def _each(self, template: str) -> str:
        return "".join(template.format(i=i) for i in self.interfaces)

    def config(self) -> str:
        return self._each(self._syntax().apply)

    def undo(self) -> str:
        return self._each(self._syntax().undo)

    def check(self, target: Target) -> None:
        if self.needs_lab:
            have = {lk.end(self.node).interface for lk in target.topology.links_of(self.node)}
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
