"""Commit-confirm for FRR, which has none: a revert scheduled on the device, outside the driver.

`schedule` starts a detached shell (`setsid`, its own session, stdio to a log file) on the
device: it sleeps, then reloads the saved rollback config. Its pid is written to
`revert.pid` next to that config, so the revert happens even if the process that committed
dies, and any later driver finds it. `cancel` removes the pid file and kills the sleeper's
process group; both sides take `revert.lock` (flock) around that step, so a confirm and a
revert never interleave: whichever comes second sees the pid file gone.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from napalm_frr.transport import CmdResult, Transport

MARK = "napalm-frr-revert"  # in the revert's command line: a recycled pid is not ours
NOTHING_PENDING = 3  # exit status of `cancel` when no revert is scheduled
_EXEC_READS = 20  # reads of an empty command line (mid-exec) before the pid is taken as gone


def _files(state_dir: str) -> tuple[str, str, str]:
    q = shlex.quote
    return q(f"{state_dir}/revert.pid"), q(f"{state_dir}/revert.lock"), q(f"{state_dir}/revert.log")


def schedule(transport: Transport, state_dir: str, seconds: int,
             revert_argv: Sequence[str]) -> CmdResult:
    """Start the detached revert; returns when it is scheduled (its pid file written)."""
    pid, lock, log = _files(state_dir)
    guarded = (f": {MARK}; [ -e {pid} ] || exit 0; {shlex.join(revert_argv)}; "
               f"echo \"revert exit $?\"; rm -f {pid}")
    sleeper = f": {MARK}; sleep {int(seconds)}; exec flock {lock} sh -c {shlex.quote(guarded)}"
    script = (f"setsid sh -c {shlex.quote(sleeper)} >{log} 2>&1 </dev/null & "
              f"echo $! >{pid}")
    return transport.exec(["sh", "-c", script])


def cancel(transport: Transport, state_dir: str) -> CmdResult:
    """Cancel the scheduled revert; exit `NOTHING_PENDING` when there was none."""
    pid, lock, _ = _files(state_dir)
    step = (f"p=$(cat {pid} 2>/dev/null) && [ -n \"$p\" ] || exit {NOTHING_PENDING}; "
            f"rm -f {pid}; kill -s TERM -- -\"$p\" 2>/dev/null; exit 0")
    return transport.exec(["sh", "-c", f"touch {lock} && flock {lock} sh -c {shlex.quote(step)}"])


def pending(transport: Transport, state_dir: str) -> bool:
    """True while a scheduled revert is waiting (its pid file names our live process).

    A process in the middle of an exec (the sleeper becoming `flock`) shows an empty command
    line for a moment: that is read again, not taken for a recycled pid."""
    pid, _, _ = _files(state_dir)
    check = (f"p=$(cat {pid} 2>/dev/null) && [ -n \"$p\" ] || exit 1; i=0; "
             f"while [ $i -lt {_EXEC_READS} ] && [ -e /proc/\"$p\" ]; do "
             f"c=$(tr '\\0' ' ' </proc/\"$p\"/cmdline 2>/dev/null); "
             f"case \"$c\" in *{MARK}*) exit 0;; ?*) exit 1;; esac; "
             f"i=$((i+1)); sleep 0.005; done; exit 1")
    return transport.exec(["sh", "-c", check]).ok
