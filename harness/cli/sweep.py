"""`failover sweep`: an N-1 campaign (from a sweep scenario, or from a topology and a flows
file alone), whole or one shard of it; `failover merge`: the shards' packs into the
campaign's; `failover compare`: two campaigns, old and new, exit 1 on a regression."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from harness.cli.common import console
from harness.cli.live import LiveOption
from harness.cli.scenario import (
    REPORTS,
    Commit,
    DryRun,
    KeepLab,
    Reports,
    SigningKey,
    Workers,
    execute,
)
from harness.engine.exits import MEANING, exit_code
from harness.errors import InputError
from harness.network.base import WORKERS
from harness.report.manifest import load_signing_key, verify, write_manifest
from harness.report.merge_pack import merge_packs
from harness.report.sweep_pack import SWEEP_ID
from harness.scenario.load import load_scenario
from harness.sweep.compare import MIN_MS, PCT, text
from harness.sweep.compare import compare as compare_results
from harness.sweep.shard import parse_shard
from harness.topology import load_topology


def sweep(scenario: Annotated[Path | None, typer.Argument(help="a scenario with a sweep: "
                                                         "section")] = None,
          topology: Annotated[Path | None, typer.Option(help="without a scenario: the "
                                                        "topology to sweep...")] = None,
          flows: Annotated[Path | None, typer.Option(help="...and the flows file (with its "
                                                     "sla_classes) to probe")] = None,
          shard: Annotated[str | None, typer.Option(
              help="run only shard K/N of the failures (every N-th from the K-th), e.g. 2/4 "
                   "in the second of four CI jobs; `failover merge` joins the parts' packs")]
          = None,
          dry_run: DryRun = False, commit: Commit = False, keep_lab: KeepLab = False,
          reports: Reports = REPORTS, signing_key: SigningKey = None,
          workers: Workers = WORKERS, live: LiveOption = None) -> None:
    """Fail every single element of the network in turn and measure every flow (N-1).

    With --topology and --flows instead of a scenario, every router link is cut and every
    router's power lost. Exit codes as for `failover run`.
    """
    part = parse_shard(shard) if shard is not None else None
    if scenario is None:
        if topology is None or flows is None:
            raise typer.BadParameter("give a sweep scenario, or --topology and --flows")
        with tempfile.TemporaryDirectory(prefix="failover-sweep-") as tmp:
            loaded = load_scenario(_starting_sweep(topology, flows, Path(tmp)))
            if part is not None:
                part.check(len(loaded.campaign_failures))
            execute(dataclasses.replace(loaded, shard=part), dry_run, commit, keep_lab,
                    reports, signing_key, workers, live)
        return
    loaded = load_scenario(scenario)
    if loaded.spec.sweep is None:
        raise InputError(scenario, 1, "sweep", "not a sweep (it has faults: use `failover "
                         "run`)")
    if part is not None:
        part.check(len(loaded.campaign_failures))
    execute(dataclasses.replace(loaded, shard=part), dry_run, commit, keep_lab, reports,
            signing_key, workers, live)


def merge(parts: Annotated[list[Path], typer.Argument(help="the packs of every shard of one "
                                                      "campaign (failover sweep --shard K/N)")],
          reports: Reports = REPORTS, signing_key: SigningKey = None) -> None:
    """Merge the packs of a campaign's shards into the campaign's one pack.

    Each part is verified (MANIFEST and signature) and checked to be a shard of the same
    campaign (same sweep file, topology and flows; every shard once); then one pack is written
    and sealed: the matrix, heatmap, single points of failure, surprises, timelines and JUnit
    of the whole campaign, each part kept whole in it. Exit codes as for `failover run`; 2:
    the parts are not the shards of one campaign (one line says why)."""
    pack, data, sealed = merge_packs(parts, reports, load_signing_key(signing_key))
    shards = ", ".join(p["shard"] for p in data["merged"]["parts"])
    console.print(f"merged {len(parts)} parts (shards {shards}) of {data['scenario']}: "
                  f"{len(data['failures'])} single failures, {len(data['single_points'])} "
                  "single point(s) of failure", markup=False)
    for line in data["not_restored"]:
        console.print(f"NOT restored: {line}", markup=False)
    if data["incomplete"]:
        console.print(f"campaign INCOMPLETE: {data['incomplete']}", markup=False)
    console.print("SLA met" if data["sla_met"] else "SLA MISSED", markup=False)
    console.print(f"report: {pack / 'report.html'}", markup=False)
    console.print(f"evidence pack: {pack}/ ({sealed.files} files, " + (
        f"signed by key {sealed.fingerprint})" if sealed.signed else "UNSIGNED)"), markup=False)
    code = exit_code(bool(data["not_restored"]), data["complete"], data["outcome_as_expected"])
    console.print(f"exit {int(code)}: {MEANING[code]}", markup=False)
    raise typer.Exit(code=int(code))


def _starting_sweep(topology: Path, flows: Path, where: Path) -> Path:
    """The default sweep of a topology with a flows file, as a scenario file in `where`."""
    name = load_topology(topology).name
    path = where / f"{name}-n1.yml"
    path.write_text(yaml.safe_dump({
        "name": f"{name}-n1", "description": f"N-1 sweep of {name} (failover sweep --topology)",
        "topology": str(topology.resolve()), "flows_from": [str(flows.resolve())],
        "sweep": {}}, sort_keys=False))
    return path


def _sweep_results(pack: Path) -> dict[str, Any]:
    path = pack / "results.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(path, None, "", f"not a readable results.json: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SWEEP_ID:
        raise InputError(path, None, "schema", f"not an N-1 sweep pack (want {SWEEP_ID})")
    return data


def compare(old: Annotated[Path, typer.Argument(help="the baseline campaign's pack")],
            new: Annotated[Path, typer.Argument(help="the campaign after the change")],
            tolerance_ms: Annotated[float, typer.Option(help="an outage up by less is noise")]
            = MIN_MS,
            tolerance_pct: Annotated[float, typer.Option(help="...and so is one up by less "
                                                         "than this share")] = PCT,
            write: Annotated[bool, typer.Option(help="write the comparison into the new pack "
                                                "(and seal it again)")] = False,
            signing_key: Annotated[Path | None, typer.Option(
                help="key to sign the new pack again with --write (default: "
                     "$FAILOVER_SIGNING_KEY)")] = None) -> None:
    """Compare two N-1 campaigns; exit 1 when the new one regressed.

    A regression: a cell worse than the baseline beyond the tolerance (a new SLA miss, an
    outage up by more than max(ms, %)), or a new single point of failure."""
    result = compare_results(_sweep_results(old), _sweep_results(new), tolerance_ms,
                             tolerance_pct)
    report = text(result)
    console.print(report, end="", markup=False)
    if write:
        key = load_signing_key(signing_key)
        if key is None and verify(new).signed:
            raise InputError(new, None, "", "the pack is signed: give --signing-key (or "
                             "$FAILOVER_SIGNING_KEY) to seal it again with the comparison")
        (new / "comparison.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n")
        (new / "comparison.txt").write_text(report)
        sealed = write_manifest(new, key)
        console.print(f"written into {new} ({sealed.files} files, "
                      f"{'signed' if sealed.signed else 'unsigned'})", markup=False)
    raise typer.Exit(code=1 if result.regressed else 0)
