"""Two N-1 campaigns side by side (a baseline, and one after a firmware or configuration
change): the cells that got worse beyond a tolerance, and the new single points of failure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.report.html import utc

MIN_MS = 10.0  # an outage up by less than this is noise...
PCT = 20.0  # ...and so is one up by less than this share


@dataclass
class Comparison:
    old: str  # the campaigns compared (scenario and start)
    new: str
    compared: int = 0  # cells measured in both
    regressions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be compared

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "regressed": self.regressed}


def _cells(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["element"], c["direction"]): c for f in results["failures"] for c in f["cells"]}


def _name(results: dict[str, Any]) -> str:
    return f"{results['scenario']} of {utc(results['started_ns'])}"


def compare(old: dict[str, Any], new: dict[str, Any], min_ms: float = MIN_MS,
            pct: float = PCT) -> Comparison:
    """Regressions from `old` to `new` (results.json of two sweep packs): a critical cell that
    met its SLA and now misses it, an outage up by more than max(min_ms, pct % of the old),
    a new single point of failure, a cell measured before and not now."""
    out = Comparison(_name(old), _name(new))
    before, after = _cells(old), _cells(new)
    for key, was in before.items():
        now = after.get(key)
        where = f"{key[0]} :: {key[1]}"
        if now is None:
            out.notes.append(f"{where}: measured before, not now")
            continue
        out.compared += 1
        if was["critical"] and was["passed"] and not now["passed"]:
            out.regressions.append(f"{where}: new SLA miss ({now['outage_ms']:.0f} ms > SLA "
                                   f"{now['sla_ms']:.0f} ms; was {was['outage_ms']:.0f} ms)")
        elif now["outage_ms"] > was["outage_ms"] + max(min_ms, was["outage_ms"] * pct / 100):
            out.regressions.append(f"{where}: outage {was['outage_ms']:.0f} -> "
                                   f"{now['outage_ms']:.0f} ms")
    out.notes += [f"{k[0]} :: {k[1]}: new in this campaign" for k in after if k not in before]
    known = {f["element"] for f in old["failures"] if f["cuts"]}
    out.regressions += [f"{f['element']}: new single point of failure (cuts "
                        f"{', '.join(f['cuts'])})" for f in new["failures"]
                        if f["cuts"] and f["element"] not in known]
    if new.get("incomplete"):
        out.regressions.append(f"the new campaign is incomplete: {new['incomplete']}")
    return out


def text(c: Comparison) -> str:
    lines = [f"compared {c.compared} cells: {c.old} -> {c.new}"]
    lines += [f"REGRESSION {line}" for line in c.regressions] or ["no regression"]
    lines += [f"note: {line}" for line in c.notes]
    return "\n".join(lines) + "\n"
