"""An auditor checks a pack with VERIFY.txt's commands and standard tools only (coreutils,
findutils, grep, awk, OpenSSH's ssh-keygen): no Python, no harness on the PATH."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from results_data import flow, results

from harness.report import sshsig
from harness.report.attest import PREDICATE_TYPE, STATEMENT_TYPE
from harness.report.manifest import (
    MANIFEST,
    SSH_SIGNATURE,
    generate_key,
    load_signing_key,
    verify,
    write_manifest,
)

TOOLS = ("sh", "sha256sum", "cut", "find", "grep", "sort", "uniq", "awk", "cat", "ssh-keygen")

RESULTS = results("both-cores-down", flow("ed-ehr →", outage_ms=3000.0), flow("ed-ehr ←"),
                  flow("backup ←", critical=False, outage_ms=3000.0), expect="fail")
FILES = {
    "report.html": b"<html>verdict</html>\n",
    "results.json": json.dumps(RESULTS).encode(),
    "raw/recv-ed.bin.gz": bytes(range(256)),
    "inputs/both-cores-down.yml": b"name: both-cores-down\n",
    "inputs/a file with spaces.txt": b"x\n",
}


def standard_tools(bin_dir: Path) -> Path:
    """`bin_dir` holding only the standard tools VERIFY.txt may use (a PATH)."""
    found = {name: shutil.which(name) for name in TOOLS}
    if not all(found.values()):
        pytest.skip(f"missing: {[n for n, p in found.items() if not p]}")
    bin_dir.mkdir(exist_ok=True)
    for name, path in found.items():
        (bin_dir / name).symlink_to(str(path))
    return bin_dir


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return standard_tools(tmp_path_factory.mktemp("bin"))


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "team" / "signing.pem"
    path.parent.mkdir()
    generate_key(path)
    return path


def make_pack(root: Path, key: Path | None) -> Path:
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    write_manifest(root, load_signing_key(key) if key else None)
    return root


def follow(pack: Path, tools: Path, published: Path | None) -> subprocess.CompletedProcess[str]:
    """Run every command of the pack's VERIFY.txt, in order, in one shell, as the auditor."""
    text = (pack / "VERIFY.txt").read_text().replace("\\\n", "")
    script = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
    env = {"PATH": str(tools), "TMPDIR": str(pack.parent), "LC_ALL": "C"}
    if published:
        env["PUBLISHED_KEY"] = str(published)
    return subprocess.run([str(tools / "sh"), "-e", "-c", script], cwd=pack, env=env,
                          capture_output=True, text=True)


def test_signed_pack_verifies_with_verify_txt(tmp_path: Path, key: Path, tools: Path) -> None:
    pack = make_pack(tmp_path / "pack", key)
    text = (pack / "VERIFY.txt").read_text()
    public = load_signing_key(key)
    assert public is not None and sshsig.ssh_fingerprint(public.public_key()) in text
    done = follow(pack, tools, key.with_name("signing.pem.pub"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Good "failover-evidence" signature for failover-evidence with ED25519 key ' \
        f"{sshsig.ssh_fingerprint(public.public_key())}" in done.stdout + done.stderr


def _change_byte(pack: Path) -> None:
    data = bytearray((pack / "raw/recv-ed.bin.gz").read_bytes())
    data[7] ^= 1
    (pack / "raw/recv-ed.bin.gz").write_bytes(data)


def _change_byte_and_its_hash(pack: Path) -> None:
    _change_byte(pack)
    digest = hashlib.sha256((pack / "raw/recv-ed.bin.gz").read_bytes()).hexdigest()
    lines = [f"{digest}  raw/recv-ed.bin.gz" if line.endswith("  raw/recv-ed.bin.gz") else line
             for line in (pack / MANIFEST).read_text().splitlines()]
    (pack / MANIFEST).write_text("\n".join(lines) + "\n")


def _add_file(pack: Path) -> None:
    (pack / "inputs" / "later.yml").write_text("expect: pass\n")


def _remove_file(pack: Path) -> None:
    (pack / "report.html").unlink()


@pytest.mark.parametrize("tamper", [_change_byte, _change_byte_and_its_hash, _add_file,
                                    _remove_file])
def test_tampered_pack_fails_verify_txt(tmp_path: Path, key: Path, tools: Path,
                                        tamper: object) -> None:
    pack = make_pack(tmp_path / "pack", key)
    assert callable(tamper)
    tamper(pack)
    done = follow(pack, tools, key.with_name("signing.pem.pub"))
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Good" not in done.stdout + done.stderr


def test_signature_by_another_key_fails_verify_txt(tmp_path: Path, key: Path,
                                                   tools: Path) -> None:
    other = tmp_path / "other.pem"
    generate_key(other)
    pack = make_pack(tmp_path / "pack", other)  # consistent in itself, but not the team's key
    done = follow(pack, tools, key.with_name("signing.pem.pub"))
    assert done.returncode != 0 and "Good" not in done.stdout + done.stderr


def test_unsigned_pack_says_so_and_its_hashes_verify(tmp_path: Path, tools: Path) -> None:
    pack = make_pack(tmp_path / "pack", None)
    text = (pack / "VERIFY.txt").read_text()
    assert "NOT signed" in text and "ssh-keygen" not in text
    done = follow(pack, tools, None)
    assert done.returncode == 0, done.stdout + done.stderr
    _add_file(pack)
    assert follow(pack, tools, None).returncode != 0


def test_ssh_keygen_signs_the_same_bytes(tmp_path: Path, key: Path) -> None:
    """Ed25519 is deterministic: OpenSSH's own signature of MANIFEST is the pack's, byte for
    byte, and the harness verifies what ssh-keygen made."""
    if not shutil.which("ssh-keygen"):
        pytest.skip("no ssh-keygen")
    pack = make_pack(tmp_path / "pack", key)
    private = load_signing_key(key)
    assert private is not None
    ssh_key = tmp_path / "id_ed25519"
    ssh_key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.OpenSSH,
                                              serialization.NoEncryption()))
    os.chmod(ssh_key, 0o600)
    shutil.copy(pack / MANIFEST, tmp_path / "m")
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(ssh_key), "-n",
                    "failover-evidence", str(tmp_path / "m")], check=True, capture_output=True)
    theirs = (tmp_path / "m.sig").read_bytes()
    assert theirs == (pack / SSH_SIGNATURE).read_bytes()
    sshsig.verify(private.public_key(), theirs, (pack / MANIFEST).read_bytes())
    with pytest.raises(ValueError, match="namespace"):
        sshsig.verify(private.public_key(), theirs, (pack / MANIFEST).read_bytes(), "git")


def test_failover_verify_checks_the_ssh_signature(tmp_path: Path, key: Path) -> None:
    pack = make_pack(tmp_path / "pack", key)
    other = tmp_path / "other.pem"
    generate_key(other)
    forged = load_signing_key(other)
    assert forged is not None
    (pack / SSH_SIGNATURE).write_text(sshsig.sign(forged, (pack / MANIFEST).read_bytes()))
    report = verify(pack, key.with_name("signing.pem.pub"))  # the OpenSSH .pub is accepted
    assert report.problems == [f"{SSH_SIGNATURE}: signed by another key "
                               f"(key {report.fingerprint})"]


def test_attestation_is_an_in_toto_test_result(tmp_path: Path, key: Path) -> None:
    pack = make_pack(tmp_path / "pack", key)
    listed = dict(reversed(line.split("  ", 1))
                  for line in (pack / MANIFEST).read_text().splitlines())
    statement = json.loads((pack / "attestation.intoto.json").read_text())
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {n: d for n, d in listed.items() if n != "attestation.intoto.json"}
    predicate = statement["predicate"]
    assert [c["name"] for c in predicate["configuration"]] == [
        "inputs/a file with spaces.txt", "inputs/both-cores-down.yml"]
    # the run's checks, as its JUnit has them: a control scenario's expected miss passes
    assert predicate["passedTests"] == [
        "preflight", "flow[ed-ehr →]: missed its SLA, as a control scenario must",
        "flow[ed-ehr ←]", "outcome", "restore"]
    assert predicate["failedTests"] == predicate["warnedTests"] == []
    assert predicate["result"] == "PASSED"
    results = json.loads((pack / "results.json").read_text())
    results["outcome_as_expected"] = False  # the control did not miss: the run fails
    (pack / "results.json").write_text(json.dumps(results))
    write_manifest(pack, None)
    failed = json.loads((pack / "attestation.intoto.json").read_text())["predicate"]
    assert failed["result"] == "FAILED" and failed["failedTests"] == [
        "outcome: outcome not as expected: a control scenario must miss its SLA, and this "
        "one did not"]


def test_readme_gives_the_same_commands(tmp_path: Path, key: Path) -> None:
    pack = make_pack(tmp_path / "pack", key)
    readme = (Path(__file__).parent.parent / "README.md").read_text().replace("\\\n", "")
    text = (pack / "VERIFY.txt").read_text().replace("\\\n", "")
    for command in (line[2:] for line in text.splitlines() if line.startswith("$ ")):
        assert command in readme, command
