"""The published JSON Schemas (`schemas/`): scenario files, and results.json of a pack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from harness.faults.schema import faults_schema
from harness.scenario.model import Scenario
from harness.scenario.results import NOT_IN_RESULTS, Recovery, RunResult

DIR = Path(__file__).resolve().parents[1] / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
RESULTS_ID = "failover-harness/results/1"


def scenario_schema() -> dict[str, Any]:
    """Scenario files, each fault kind registered now with its own parameters."""
    schema = Scenario.model_json_schema()
    schema.update({"$schema": DRAFT, "title": "failover-harness scenario"})
    fault, defs = faults_schema()
    schema["$defs"].update(defs)
    schema["$defs"]["FaultSpec"] = {**fault, "description": "a fault: its kind, and that "
                                    "kind's parameters"}
    inject = schema["$defs"]["Step"]["properties"]["inject"]
    inject["anyOf"] = [{"$ref": "#/$defs/FaultSpec"}, {"type": "null"}]  # as under faults:
    return schema


def results_schema() -> dict[str, Any]:
    """RunResult's fields, plus the verdicts `RunResult.to_dict` adds."""
    schema = TypeAdapter(RunResult).json_schema(mode="serialization")
    for name in NOT_IN_RESULTS:
        del schema["properties"][name]
    schema.update({"$schema": DRAFT, "title": "failover-harness results.json",
                   "description": "One scenario run: per flow direction, the failover and "
                   "failback outage against its SLA; instants are CLOCK_REALTIME ns."})
    boolean = {"type": "boolean"}
    schema["properties"].update({
        "schema": {"const": RESULTS_ID},
        "sla_met": {**boolean, "description": "every critical flow within its SLA"},
        "complete": {**boolean, "description": "the run went to its end (not `incomplete`) "
                     "and every fault was restored (`not_restored` empty)"},
        "outcome_as_expected": {**boolean, "description": "sla_met, or for a control "
                                "scenario (expect: fail) its opposite; and state restored"}})
    schema["required"] += ["schema", "complete", "sla_met", "outcome_as_expected", "recovery"]
    defs = schema["$defs"]
    defs["Recovery"] = TypeAdapter(Recovery).json_schema(mode="serialization")
    schema["properties"]["recovery"] = {"$ref": "#/$defs/Recovery"}
    defs["FlowVerdict"]["properties"]["passed"] = {**boolean,
                                                   "description": "failover and failback"}
    defs["FlowVerdict"]["required"].append("passed")
    defs["FlowResult"]["properties"]["lost"] = {"type": "integer",
                                                "description": "over the whole run"}
    defs["FlowResult"]["required"].append("lost")
    return schema


SCHEMAS = {"scenario": scenario_schema, "results": results_schema}


def text(name: str) -> str:
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True) + "\n"


def path(name: str) -> Path:
    return DIR / f"{name}.schema.json"
