"""The run's outcome as an in-toto test-result attestation, for supply-chain tooling.

An in-toto Statement v1 whose subject is every file of the pack (name and sha256) and whose
predicate (https://in-toto.io/attestation/test-result/v0.1) gives the result, the inputs as
configuration, and tests: the run's checks (preflight, each critical flow direction's SLA or,
for an N-1 sweep, each failure's, outcome, restore); FAILED if any failed, WARNED if one was
skipped on purpose. It is listed in MANIFEST like any other file, so MANIFEST's
signature covers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.checks import run_checks

ATTESTATION = "attestation.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"


def _tests(results: Mapping[str, Any]) -> dict[str, list[str]]:
    """Test names by outcome: the run's checks (`harness.report.checks`), as its JUnit has
    them; a control scenario's expected miss passes, a check skipped on purpose (a known
    single point of failure) warns."""
    tests: dict[str, list[str]] = {"passedTests": [], "warnedTests": [], "failedTests": []}
    for check in run_checks(dict(results)):
        if check.skipped is not None:
            tests["warnedTests"].append(f"{check.name}: {check.skipped}")
        elif check.failure is None or check.expected_failure:
            tests["passedTests"].append(check.name + (": missed its SLA, as a control "
                                                      "scenario must" if check.failure else ""))
        else:
            tests["failedTests"].append(f"{check.name}: {check.failure}")
    return tests


def statement(results: Mapping[str, Any], digests: Mapping[str, str]) -> dict[str, Any]:
    """The Statement for a pack whose results.json is `results` and whose files (name to
    sha256) are `digests`; the files under inputs/ are its configuration."""
    def described(names: list[str]) -> list[dict[str, Any]]:
        return [{"name": n, "digest": {"sha256": digests[n]}} for n in names]

    tests = _tests(results)
    result = "FAILED" if tests["failedTests"] else "WARNED" if tests["warnedTests"] else "PASSED"
    return {
        "_type": STATEMENT_TYPE,
        "subject": described(sorted(digests)),
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "result": result,
            "configuration": described(sorted(n for n in digests if n.startswith("inputs/"))),
            **tests,
        },
    }
