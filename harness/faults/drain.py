"""planned-drain: a maintenance drain pushed as configuration through NAPALM (default: OSPF
max-metric, so neighbours move traffic away while the router still forwards: expect zero
loss). Committed with `revert_in`, so the device undoes it by itself should the harness die
before the restore; restore (also from the journal, in another process) rolls the pending
commit back, and does nothing once it is gone."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from harness.devices import connect
from harness.errors import HarnessError
from harness.faults.base import Fault, FaultError, Stamp, timed
from harness.faults.target import Target

MAX_METRIC = "router ospf\n max-metric router-lsa administrative\nexit\n"
UNDO_MAX_METRIC = "router ospf\n no max-metric router-lsa administrative\nexit\n"


@dataclass(kw_only=True)
class PlannedDrain(Fault):
    kind: ClassVar[str] = "planned-drain"
    node: str
    config: str = MAX_METRIC
    undo: str = UNDO_MAX_METRIC  # applied when no revert is pending but the drain still runs
    revert_in: int = 600  # seconds: longer than any hold; the device's own safety net
    device: dict[str, Any] | None = None  # the inventory entry (credentials by reference)

    def _driver(self, target: Target) -> Any:
        try:
            return connect(target.lab, self.node, self.device)
        except HarnessError as exc:
            raise FaultError(str(exc)) from None

    def check(self, target: Target) -> None:
        target.router(self.node)
        driver = self._driver(target)
        try:
            if driver.has_pending_commit():
                raise FaultError(f"{self.node} has a commit pending confirmation: another "
                                 "change is in flight; refusing to drain")
        finally:
            driver.close()

    def inject(self, target: Target) -> list[Stamp]:
        driver = self._driver(target)
        try:
            driver.load_merge_candidate(config=self.config)
            diff = driver.compare_config()
            stamp = timed(f"{self.node}: commit drain (revert in {self.revert_in} s)",
                          lambda: driver.commit_config(revert_in=self.revert_in))
            return [replace(stamp, detail=diff)]
        finally:
            driver.close()

    def restore(self, target: Target) -> list[Stamp]:
        """Roll back the pending commit; if none is pending (it was applied but the revert was
        never scheduled, or the device restarted) and the drain still runs, apply `undo`."""
        driver = self._driver(target)
        try:
            if driver.has_pending_commit():
                before = driver.get_config(retrieve="running")["running"]
                stamp = timed(f"{self.node}: roll the drain back", driver.rollback)
                after = driver.get_config(retrieve="running")["running"]
                return [replace(stamp, detail="".join(difflib.unified_diff(
                    before.splitlines(True), after.splitlines(True), "running", "rolled back")))]
            running = driver.get_config(retrieve="running")["running"]
            if not _applied(self.config, running):
                return []  # never committed, already rolled back, or reverted by the device
            driver.load_merge_candidate(config=self.undo)
            diff = driver.compare_config()
            return [replace(timed(f"{self.node}: undo the drain", driver.commit_config),
                            detail=diff)]
        except FaultError:
            raise
        except Exception as exc:  # NAPALM's own errors: one line, other restores go on
            raise FaultError(f"{self.node}: drain not restored: {exc}") from exc
        finally:
            driver.close()

    def describe(self) -> str:
        lines = [ln.strip() for ln in self.config.strip().splitlines() if ln.strip()]
        detail = lines[-2] if len(lines) > 1 and lines[-1] == "exit" else lines[-1]
        return f"planned-drain {self.node}: commit through NAPALM ({detail.split()[0]} ...)"


def _applied(config: str, running: str) -> bool:
    """Whether the drain's innermost lines all stand in the running config."""
    have = {line.strip() for line in running.splitlines()}
    wanted = [ln.strip() for ln in config.splitlines()
              if ln.startswith(" ") and ln.strip() and ln.strip() != "exit"]
    return bool(wanted) and all(line in have for line in wanted)
