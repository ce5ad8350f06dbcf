"""The parts of an N-1 campaign run in shards (CI matrix jobs, pytest-xdist workers) checked
to be one campaign and merged into one: the same sweep file, topology and flows (their copies
in each part's inputs/, hashed in its verified MANIFEST), every shard present once, no
failure measured twice. Pure logic on the parts' results.json; the pack is written by
`harness.report.merge_pack`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError


class MergeError(HarnessError):
    """The parts given are not the shards of one campaign: says which and why."""


@dataclass(frozen=True)
class Part:
    name: str  # how messages name it (the pack's path)
    results: dict[str, Any]  # its results.json
    inputs: dict[str, str]  # inputs/ file -> sha256, from its verified MANIFEST
    manifest_sha256: str
    signed_by: str | None  # the key's fingerprint; None: unsigned

    @property
    def shard(self) -> dict[str, Any]:
        return self.results["shard"]

    @property
    def label(self) -> str:
        return f"{self.shard['index']}/{self.shard['count']}"


def part_dir(part: Part) -> str:
    """Where the merged pack keeps a part, whole (its own MANIFEST and signature with it)."""
    return f"parts/shard-{part.shard['index']}-of-{part.shard['count']}"


def _input_kind(name: str) -> str:
    for prefix, kind in (("inputs/flows/", "flows"), ("inputs/topology/", "topology")):
        if name.startswith(prefix):
            return kind
    return "sweep file"


def _inputs_of(part: Part, kind: str) -> dict[str, str]:
    return {n: h for n, h in part.inputs.items() if _input_kind(n) == kind}


def _same_campaign(first: Part, other: Part) -> None:
    for kind in ("sweep file", "topology", "flows"):
        if _inputs_of(first, kind) != _inputs_of(other, kind):
            raise MergeError(f"{other.name}: not a shard of the same campaign as {first.name}: "
                             f"its {kind} differs (inputs/ hashes in its MANIFEST)")
    if other.shard["count"] != first.shard["count"]:
        raise MergeError(f"{other.name}: shard {other.label}, but {first.name} is shard "
                         f"{first.label}: the campaign was split in one way only")
    if other.shard["campaign"] != first.shard["campaign"]:
        raise MergeError(f"{other.name}: its campaign's failures differ from {first.name}'s")


def check_parts(parts: Sequence[Part]) -> list[Part]:
    """The parts in shard order, when they are every shard of one campaign exactly once;
    MergeError naming the part and the problem otherwise."""
    if not parts:
        raise MergeError("no part given: name the packs of every shard")
    for part in parts:
        if not part.results.get("shard"):
            raise MergeError(f"{part.name}: a whole campaign, not a shard of one (nothing to "
                             "merge)")
    first = parts[0]
    by_index: dict[int, Part] = {}
    owner: dict[str, Part] = {}
    for part in parts:
        _same_campaign(first, part)
        if part.shard["index"] in by_index:
            raise MergeError(f"shard {part.label} given twice: {by_index[part.shard['index']].name}"
                             f" and {part.name}")
        by_index[part.shard["index"]] = part
        for element in part.shard["failures"]:
            if element in owner:
                raise MergeError(f"{owner[element].name} and {part.name} overlap: both hold "
                                 f"{element}")
            owner[element] = part
    count, campaign = first.shard["count"], first.shard["campaign"]
    missing = [k for k in range(1, count + 1) if k not in by_index]
    if missing:
        left = [e for e in campaign if e not in owner]
        raise MergeError(f"campaign {first.results['scenario']}: missing shard(s) "
                         f"{', '.join(f'{k}/{count}' for k in missing)} (failures: "
                         f"{', '.join(left) or 'none'})")
    if set(owner) != set(campaign):
        raise MergeError(f"campaign {first.results['scenario']}: the shards do not hold its "
                         f"failures exactly: {sorted(set(campaign) ^ set(owner))}")
    return [by_index[k] for k in sorted(by_index)]


def _directions(parts: Sequence[Part]) -> list[dict[str, Any]]:
    """Each flow direction over every part's probe run: counts added, outages listed (the
    raw probes stay in each part)."""
    out: dict[str, dict[str, Any]] = {}
    for part in parts:
        for d in part.results["directions"]:
            if d["name"] not in out:
                out[d["name"]] = {**d, "outages": list(d["outages"]), "probe_id": 0}
                continue
            m = out[d["name"]]
            for key in ("sent", "received", "duplicates", "reordered", "lost"):
                m[key] += d[key]
            m["outages"] += d["outages"]
            m["max_gap_ns"] = max(m["max_gap_ns"], d["max_gap_ns"])
    return list(out.values())


def _per_part(parts: Sequence[Part], key: str) -> list[str]:
    return [f"shard {p.label}: {line}" for p in parts for line in p.results.get(key, [])]


def merged_results(parts: Sequence[Part]) -> dict[str, Any]:
    """One campaign's results.json from its checked parts (`check_parts`): the failures in
    the sweep's order, each from the part that measured it; the verdicts the parts' together."""
    first = parts[0].results
    order = first["shard"]["campaign"]
    measured = {f["element"]: f for p in parts for f in p.results["failures"]}
    failures = [measured[e] for e in order if e in measured]
    sources: dict[str, set[str]] = {}
    for p in parts:
        for label, source in p.results.get("prediction_source", {}).items():
            sources.setdefault(label, set()).add(source)
    incomplete = [f"shard {p.label}: {p.results['incomplete']}" for p in parts
                  if p.results.get("incomplete")]
    context = {k: v for k, v in first.get("context", {}).items()
               if all(p.results.get("context", {}).get(k) == v for p in parts)}
    return {
        **first,
        "started_ns": min((p.results["started_ns"] for p in parts if p.results["started_ns"]),
                          default=0),
        "ended_ns": max(p.results["ended_ns"] for p in parts),
        "failures": failures,
        "single_points": [f["element"] for f in failures if f["cuts"]],
        "directions": _directions(parts),
        "prediction_source": {k: ", ".join(sorted(v)) for k, v in sources.items()},
        "incomplete": "; ".join(incomplete) or None,
        "complete": all(p.results["complete"] for p in parts),
        "not_restored": [line for p in parts for line in p.results["not_restored"]],
        "probe_problems": _per_part(parts, "probe_problems"),
        "state_diff": _per_part(parts, "state_diff"),
        "sla_met": all(p.results["sla_met"] for p in parts),
        "outcome_as_expected": all(p.results["outcome_as_expected"] for p in parts),
        "context": context,
        "devices": {k: v for p in parts for k, v in p.results.get("devices", {}).items()},
        "shard": None,
        "merged": {"parts": [{
            "shard": p.label, "pack": p.name, "copy": part_dir(p),
            "manifest_sha256": p.manifest_sha256, "signed_by": p.signed_by,
            "failures": p.shard["failures"],
            "started_ns": p.results["started_ns"], "ended_ns": p.results["ended_ns"],
            "context": p.results.get("context", {})} for p in parts]},
    }
