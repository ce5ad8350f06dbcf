"""The run's outcome as an in-toto test-result attestation, for supply-chain tooling.

An in-toto Statement v1 whose subject is every file of the pack (name and sha256) and whose
predicate (https://in-toto.io/attestation/test-result/v0.1) gives the result, the inputs as
configuration, and tests: each flow direction's SLA (a control scenario's: missing it), the
outcome, the measurement's soundness and the restore; FAILED if any failed, WARNED if only a
flow that is not critical did. It is listed in MANIFEST like any other file, so MANIFEST's
signature covers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ATTESTATION = "attestation.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"


def _tests(results: Mapping[str, Any]) -> dict[str, list[str]]:
    """Test names by outcome: a flow's test is its SLA (for a control scenario: missing it)."""
    control = results["expect"] == "fail"
    tests: dict[str, list[str]] = {"passedTests": [], "warnedTests": [], "failedTests": []}
    for flow in results["flows"]:
        name = f"{flow['direction']}: " + ("misses its SLA (control)" if control else
                                           "within its SLA")
        ok = flow["passed"] != control
        bucket = "passedTests" if ok else "failedTests" if flow["critical"] else "warnedTests"
        tests[bucket].append(name if flow["critical"] else f"{name} (not critical)")
    checks = {"outcome as expected": results["outcome_as_expected"],
              "measurement sound": not results["probe_problems"],
              "every router back as before": results["complete"] and not results["state_diff"]}
    for name, ok in checks.items():
        tests["passedTests" if ok else "failedTests"].append(name)
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
