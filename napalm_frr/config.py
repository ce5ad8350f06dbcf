"""Candidate, diff, commit, commit-confirm and rollback for one FRR instance.

FRR has no candidate datastore, so the candidate is a file on the device (in `state_dir`):

- load: the text is checked by `vtysh -C -f` (syntax only, nothing applied) and every
  section's daemon must run (vtysh silently ignores `router bgp` when bgpd is down).
- replace: `frr-reload.py --test` gives the diff; `--reload` applies it (0.4-1.4 s; a file
  it cannot parse changes nothing).
- merge: applied by `vtysh -f` (FRR's own merge). Its diff is frr-reload's diff of
  `running + snippet`, completed by `diff.predict_merge` with the lines it replaces.
- commit saves the running config to `rollback.conf` first. vtysh is not atomic: a commit
  that fails half-way is undone by reloading that file, then reported as `CommitError`.
  Both kinds end with the config written to FRR's startup file, as frr-reload does.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from napalm.base.exceptions import (
    CommitConfirmException,
    CommitError,
    MergeConfigException,
    ReplaceConfigException,
)

from napalm_frr import confirm, diff
from napalm_frr.transport import CmdResult, Transport

# Top-level sections and the daemon that must run for vtysh to apply them.
SECTION_DAEMONS = (
    ("router bgp", "bgpd"), ("router ospf6", "ospf6d"), ("router ospf", "ospfd"),
    ("router isis", "isisd"), ("router openfabric", "fabricd"), ("router ripng", "ripngd"),
    ("router rip", "ripd"), ("router eigrp", "eigrpd"), ("router babel", "babeld"),
    ("bfd", "bfdd"), ("ip route", "staticd"), ("ipv6 route", "staticd"), ("mpls ldp", "ldpd"),
    ("vrrp", "vrrpd"), ("pbr-map", "pbrd"),
)


@dataclass(frozen=True)
class Candidate:
    replace: bool
    text: str

    @property
    def error(self) -> type[Exception]:
        error: type[Exception] = ReplaceConfigException if self.replace else MergeConfigException
        return error


class ConfigSession:
    """The config API of one instance, run through its transport."""

    def __init__(self, transport: Transport, state_dir: str, frr_reload: str) -> None:
        self.transport = transport
        self.state_dir = state_dir.rstrip("/")
        self.frr_reload = frr_reload
        self.candidate: Candidate | None = None

    # -- paths and helpers ---------------------------------------------------------------
    def _path(self, name: str) -> str:
        return f"{self.state_dir}/{name}"

    def _write(self, name: str, text: str, error: type[Exception] = CommitError) -> str:
        path = self._path(name)
        script = f"mkdir -p {shlex.quote(self.state_dir)} && cat > {shlex.quote(path)}"
        result = self.transport.exec(["sh", "-c", script], stdin=text)
        if not result.ok:
            raise error(f"cannot write {path} (see optional_args state_dir, sudo): "
                        f"{result.message}")
        return path

    def _reload_argv(self, path: str, test: bool = False) -> list[str]:
        ps = ["--pathspace", self.transport.pathspace] if self.transport.pathspace else []
        return [self.frr_reload, "--test" if test else "--reload", *ps, path]

    def running(self) -> str:
        result = self.transport.vtysh("show running-config")
        if not result.ok:
            raise CommitError(f"show running-config: {result.message}")
        return diff.normalize(result.out)

    # -- load / compare / discard ----------------------------------------------------------
    def load(self, replace: bool, filename: str | None, config: str | None) -> None:
        """Check and keep a candidate; raises Merge/ReplaceConfigException with FRR's words."""
        error = ReplaceConfigException if replace else MergeConfigException
        if filename is not None:
            try:
                config = Path(filename).read_text()
            except OSError as exc:
                raise error(f"cannot read {filename}: {exc.strerror}") from None
        if not config or not config.strip():
            raise error("no configuration given (filename or config)")
        text = diff.normalize(config)
        path = self._write("candidate.conf", text, error)
        check = self.transport.exec([*self.transport.vtysh_argv, "-C", "-f", path])
        if not check.ok:
            raise error(f"FRR rejected the candidate: {check.message}")
        self._check_daemons(text, error)
        self.candidate = Candidate(replace, text)

    def _check_daemons(self, text: str, error: type[Exception]) -> None:
        needed = {daemon: line for line in text.splitlines() for prefix, daemon in SECTION_DAEMONS
                  if line.startswith(prefix + " ") or line == prefix}
        if not needed:
            return
        result = self.transport.vtysh("show daemons")
        running = set(result.out.split())
        for daemon, line in needed.items():
            if daemon not in running:
                raise error(f"'{line}' needs {daemon}, which is not running "
                            f"(running: {' '.join(sorted(running))})")

    def compare(self) -> str:
        if self.candidate is None:
            return ""
        cand = self.candidate
        if cand.replace:
            path = self._write("candidate.conf", cand.text)
            return diff.render(self._reload_test(path, cand))
        running = self.running()
        path = self._write("merged.conf", running + cand.text)
        changes = self._reload_test(path, cand)
        return diff.render(diff.predict_merge(changes, diff.index(running)))

    def _reload_test(self, path: str, cand: Candidate) -> list[diff.Change]:
        result = self.transport.exec(self._reload_argv(path, test=True))
        if not result.ok:
            raise cand.error(f"frr-reload.py --test: {_errors(result)}")
        return diff.parse_reload_test(result.out)

    def discard(self) -> None:
        self.candidate = None

    # -- commit / confirm / rollback -------------------------------------------------------
    def commit(self, message: str, revert_in: int | None) -> None:
        if self.pending():
            raise CommitError("a commit is waiting for confirmation: confirm_commit() or "
                              "rollback() first")
        if self.candidate is None:
            raise CommitError("nothing to commit: load a candidate first")
        if revert_in is not None and int(revert_in) < 1:
            raise CommitError(f"revert_in must be at least 1 s, not {revert_in}")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
        subject = " ".join(message.split()) or "-"  # one comment line, whatever it holds
        note = f"! napalm-frr rollback point, {stamp}, before commit: {subject}\n"
        rollback = self._write("rollback.conf", note + self.running())
        path = self._write("candidate.conf", self.candidate.text)
        if self.candidate.replace:
            result = self.transport.exec(self._reload_argv(path))
        else:
            result = self.transport.exec([*self.transport.vtysh_argv, "-f", path])
            if result.ok:
                result = self.transport.vtysh("write memory")
        if not result.ok:
            undo = self.transport.exec(self._reload_argv(rollback))
            restored = "restored the previous config" if undo.ok else \
                f"restoring the previous config failed too: {_errors(undo)}"
            raise CommitError(f"FRR refused the commit ({restored}): {_errors(result)}")
        self.candidate = None
        if revert_in is not None:
            scheduled = confirm.schedule(self.transport, self.state_dir, int(revert_in),
                                         self._reload_argv(rollback))
            if not scheduled.ok:
                raise CommitError(f"committed, but scheduling the revert failed: "
                                  f"{scheduled.message}")

    def pending(self) -> bool:
        return confirm.pending(self.transport, self.state_dir)

    def confirm(self) -> None:
        result = confirm.cancel(self.transport, self.state_dir)
        if result.rc == confirm.NOTHING_PENDING:
            raise CommitConfirmException("no commit is waiting for confirmation "
                                         "(none was made with revert_in, or it was reverted)")
        if not result.ok:
            raise CommitConfirmException(f"cancelling the scheduled revert: {result.message}")

    def rollback(self) -> None:
        """Back to the config saved before the last commit (cancelling a pending revert)."""
        confirm.cancel(self.transport, self.state_dir)
        path = self._path("rollback.conf")
        if not self.transport.exec(["test", "-s", path]).ok:
            raise CommitError("nothing to roll back to: no commit was made through this driver")
        result = self.transport.exec(self._reload_argv(path))
        if not result.ok:
            raise CommitError(f"rollback failed: {_errors(result)}")


def _errors(result: CmdResult) -> str:
    """FRR's own error lines from a vtysh/frr-reload run (log noise and colour removed)."""
    lines = []
    for raw in result.message.splitlines():
        line = raw.replace("\x1b[91m", "").replace("\x1b[0m", "").strip()
        if line and " INFO: " not in line and " DEBUG: " not in line:
            lines.append(line)
    return "\n".join(lines) or f"exit {result.rc}"
