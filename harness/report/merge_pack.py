"""One campaign's evidence pack from the packs of its shards: each part verified (MANIFEST and
signature, as `failover verify` does) and checked to be a shard of the same campaign
(`harness.sweep.merge`), then the merged results.json, its JUnit and report, the inputs
(the same in every part), and every part whole under parts/ (its raw probes, snapshots and
own signed MANIFEST), sealed like any pack."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.report.junit import junit_xml
from harness.report.manifest import MANIFEST, ManifestInfo, verify, write_manifest
from harness.report.pack import new_pack
from harness.report.sweep_html import sweep_report
from harness.report.sweep_pack import SWEEP_ID
from harness.sweep.merge import MergeError, Part, check_parts, merged_results, part_dir


def read_part(pack: Path) -> Part:
    """A part pack, verified; MergeError (one line) when it is not a sound sweep pack."""
    if not (pack / MANIFEST).is_file():
        raise MergeError(f"{pack}: not an evidence pack (no {MANIFEST})")
    report = verify(pack)
    if not report.ok:
        raise MergeError(f"{pack}: fails verification: {report.problems[0]} (see `failover "
                         f"verify {pack}`)")
    data = (pack / MANIFEST).read_bytes()
    listed = {name: digest for digest, name in
              (line.split("  ", 1) for line in data.decode().splitlines())}
    try:
        results = json.loads((pack / "results.json").read_text())
    except (OSError, ValueError) as exc:
        raise MergeError(f"{pack}: results.json not readable: {exc}") from None
    if not isinstance(results, dict) or results.get("schema") != SWEEP_ID:
        raise MergeError(f"{pack}: not an N-1 sweep pack (results.json schema is not "
                         f"{SWEEP_ID})")
    return Part(str(pack), results, {n: h for n, h in listed.items() if n.startswith("inputs/")},
                hashlib.sha256(data).hexdigest(), report.fingerprint if report.signed else None)


def merge_packs(packs: Sequence[Path], reports: Path, key: Ed25519PrivateKey | None
                ) -> tuple[Path, dict[str, Any], ManifestInfo]:
    """Verify and check the parts, write and seal the merged pack: (pack, results, seal)."""
    parts = check_parts([read_part(p) for p in packs])
    data = merged_results(parts)
    pack = new_pack(reports, data["scenario"])
    try:
        shutil.copytree(Path(parts[0].name) / "inputs", pack / "inputs")
        for part in parts:
            shutil.copytree(part.name, pack / part_dir(part))
        (pack / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False)
                                           + "\n")
        (pack / "junit.xml").write_bytes(junit_xml(data))
        (pack / "report.html").write_text(sweep_report(data))
        return pack, data, write_manifest(pack, key)
    except BaseException:
        shutil.rmtree(pack, ignore_errors=True)
        raise
