"""Every exit code of `failover run` (and of the front ends built on the engine), in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a run's exit code tells a script or a CI job (`MEANING` says it in words)."""

    OK = 0
    NOT_AS_EXPECTED = 1
    REFUSED = 2
    INCOMPLETE = 3
    NOT_RESTORED = 4


MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "the outcome expected (every critical flow within its SLA; a control "
                 "scenario missed it) and every router back as it was",
    ExitCode.NOT_AS_EXPECTED: "the run completed, but an SLA was missed (or a control scenario "
                              "did not miss it), the network is not back as before, or the "
                              "measurement is not sound; the pack says which",
    ExitCode.REFUSED: "bad input, or the run refused before injecting anything (redundancy "
                      "gate, traffic not clean, device unreachable): nothing was changed and "
                      "no pack written",
    ExitCode.INCOMPLETE: "a fault was injected, then the run was interrupted (Ctrl-C, SIGTERM) "
                         "or failed; every fault was restored; the pack holds what was "
                         "measured and says why it is incomplete",
    ExitCode.NOT_RESTORED: "a fault could not be restored: the network is left changed; the "
                           "pack says what, and the journal keeps it for `failover recover`",
}


def exit_code(not_restored: bool, complete: bool, as_expected: bool) -> ExitCode:
    """How a run (or a campaign merged from its parts) ended, as an exit code."""
    if not_restored:
        return ExitCode.NOT_RESTORED
    if not complete:
        return ExitCode.INCOMPLETE
    return ExitCode.OK if as_expected else ExitCode.NOT_AS_EXPECTED


def table() -> str:
    """Every exit code and its meaning, one line each (for --help)."""
    return "\n".join(f"{code.value}: {MEANING[code]}" for code in ExitCode)
