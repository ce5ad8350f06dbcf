"""The evidence pack's signed manifest and `failover verify | keygen`, without a lab."""

from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from results_data import flow, results
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import HarnessError, InputError
from harness.report import sshsig
from harness.report.manifest import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    SSH_SIGNATURE,
    generate_key,
    load_signing_key,
    verify,
    write_manifest,
)

RESULTS = results("core1-power-loss", flow("ed-ehr →"))
FILES = {
    "report.html": b"<html>report</html>\n",
    "results.json": json.dumps(RESULTS).encode(),
    "junit.xml": b"<testsuite/>\n",
    "raw/r1-eth1.pcap": bytes(range(256)) * 4,
    "snapshots/before/r1.json": b'{"routes": 12}\n',
}


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    root = tmp_path / "20261123T101500Z-core1-power-loss"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "signing.pem"
    path.parent.mkdir()
    generate_key(path)
    return path


def pub(key: Path) -> Path:
    return key.with_name(key.name + ".pub")


def signed(pack: Path, key: Path) -> Path:
    write_manifest(pack, load_signing_key(key))
    return pack


def problems(pack: Path, public_key: Path | None = None) -> str:
    report = verify(pack, public_key)
    assert not report.ok
    return "\n".join(report.problems)


def test_unsigned_pack_verifies(pack: Path) -> None:
    info = write_manifest(pack, None)
    assert (info.files, info.signed, info.fingerprint) == (7, False, None)
    lines = (pack / MANIFEST).read_text().splitlines()
    listed = sorted([*FILES, "VERIFY.txt", "attestation.intoto.json"])
    assert [line.split("  ", 1)[1] for line in lines] == listed
    report = verify(pack)
    assert report.ok and report.files == 7 and not report.signed
    assert "not signed" in " ".join(report.notes)


def test_signed_pack_verifies(pack: Path, key: Path) -> None:
    info = write_manifest(pack, load_signing_key(key))
    assert info.signed and info.fingerprint and len(info.fingerprint) == 16
    own = verify(pack)
    assert own.ok and own.signed and own.fingerprint == info.fingerprint
    assert "own MANIFEST.pub" in " ".join(own.notes)
    given = verify(pack, pub(key))
    assert given.ok and given.fingerprint == info.fingerprint
    assert "matches it" in " ".join(given.notes)


def test_sha256sum_accepts_the_manifest(pack: Path, key: Path) -> None:
    if not shutil.which("sha256sum"):
        pytest.skip("no sha256sum")
    (pack / "a file with spaces.txt").write_text("x")
    signed(pack, key)
    done = subprocess.run(["sha256sum", "-c", "--strict", MANIFEST], cwd=pack,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == len(FILES) + 3  # and VERIFY.txt, the attestation


def test_changed_byte_fails(pack: Path, key: Path) -> None:
    signed(pack, key)
    data = bytearray((pack / "raw/r1-eth1.pcap").read_bytes())
    data[100] ^= 1
    (pack / "raw/r1-eth1.pcap").write_bytes(data)
    assert "raw/r1-eth1.pcap: changed" in problems(pack, pub(key))


def test_deleted_file_fails(pack: Path, key: Path) -> None:
    signed(pack, key)
    (pack / "snapshots/before/r1.json").unlink()
    assert "snapshots/before/r1.json: missing" in problems(pack)


def test_added_file_fails(pack: Path) -> None:
    write_manifest(pack, None)
    (pack / "raw" / "extra.log").write_text("injected")
    assert "raw/extra.log: added" in problems(pack)


def test_tampered_manifest_line_fails_the_signature(pack: Path, key: Path) -> None:
    signed(pack, key)
    (pack / "results.json").write_bytes(b'{"sla_met": false}\n')  # changed, and its hash updated
    new = subprocess.run(["sha256sum", "results.json"], cwd=pack, capture_output=True,
                         text=True, check=True).stdout
    lines = [new if line.endswith("  results.json\n") else line
             for line in (pack / MANIFEST).read_text().splitlines(keepends=True)]
    (pack / MANIFEST).write_text("".join(lines))
    report = verify(pack)
    assert len(report.problems) == 2  # both signatures, nothing else
    assert report.problems[0].startswith(f"{SIGNATURE}: signature does not verify")
    assert report.problems[1].startswith(f"{SSH_SIGNATURE}: signature does not verify")


def test_malformed_and_escaping_lines_fail(pack: Path) -> None:
    write_manifest(pack, None)
    with (pack / MANIFEST).open("a") as f:
        f.write(f"{'0' * 64}  ../outside\nnot a hash line\n")
    found = problems(pack)
    assert "MANIFEST:8: malformed" in found and "MANIFEST:9: malformed" in found


def test_signature_from_another_key_fails_with_public_key(pack: Path, key: Path,
                                                          tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    generate_key(other)
    signed(pack, other)
    assert verify(pack).ok  # self-consistent, but by another key
    assert f"{SIGNATURE}: signature does not verify" in problems(pack, pub(key))


def test_swapped_public_key_passes_only_without_public_key(pack: Path, key: Path) -> None:
    signed(pack, key)
    forger = Ed25519PrivateKey.generate()
    raw = forger.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    (pack / PUBLIC_KEY).write_bytes(base64.b64encode(raw) + b"\n")
    (pack / SIGNATURE).write_bytes(base64.b64encode(forger.sign((pack / MANIFEST).read_bytes())))
    (pack / SSH_SIGNATURE).write_text(sshsig.sign(forger, (pack / MANIFEST).read_bytes()))
    own = verify(pack)
    assert own.ok and own.fingerprint != verify(pack, pub(key)).fingerprint
    assert "trust it only if this fingerprint matches" in " ".join(own.notes)
    assert f"{SIGNATURE}: signature does not verify" in problems(pack, pub(key))


def test_unsigned_pack_fails_with_public_key(pack: Path, key: Path) -> None:
    write_manifest(pack, None)
    assert f"{SIGNATURE}: missing" in problems(pack, pub(key))


def test_unsigned_rewrite_removes_a_stale_signature(pack: Path, key: Path) -> None:
    signed(pack, key)
    write_manifest(pack, None)
    assert not any((pack / n).exists() for n in (SIGNATURE, SSH_SIGNATURE, PUBLIC_KEY))
    assert "NOT signed" in (pack / "VERIFY.txt").read_text()


def test_pem_public_key_is_accepted(pack: Path, key: Path, tmp_path: Path) -> None:
    signed(pack, key)
    private = load_signing_key(key)
    assert private is not None
    pem = tmp_path / "team.pub.pem"
    pem.write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert verify(pack, pem).ok


def test_symlink_in_pack_is_refused(pack: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("secret")
    (pack / "raw" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(HarnessError, match="raw/link"):
        write_manifest(pack, None)
    (pack / "raw" / "link").unlink()
    write_manifest(pack, None)
    (pack / "snapshots" / "dir").symlink_to(tmp_path, target_is_directory=True)
    assert "snapshots/dir: symbolic link" in problems(pack)


def test_private_key_is_not_in_the_pack(pack: Path, key: Path) -> None:
    signed(pack, key)
    private = load_signing_key(key)
    assert private is not None
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    pem_body = b"".join(key.read_bytes().splitlines()[1:-1])
    secrets = (raw, base64.b64encode(raw), pem_body, raw.hex().encode())
    for path in pack.rglob("*"):
        if path.is_file():
            assert not any(s in path.read_bytes() for s in secrets), path


def test_keygen_file_modes_and_refusal(key: Path) -> None:
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    kind, blob, comment = pub(key).read_text().split()
    assert (kind, comment) == ("ssh-ed25519", "failover-evidence")
    signers = key.with_name(key.name + ".allowed_signers").read_text()
    assert signers == f'failover-evidence namespaces="failover-evidence" {kind} {blob} {comment}\n'
    with pytest.raises(InputError, match="refusing to overwrite"):
        generate_key(key)
    key.unlink()  # the public files left alone are not overwritten either
    with pytest.raises(InputError, match=r"\.pub: already exists"):
        generate_key(key)


def test_load_signing_key_sources_and_errors(key: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAILOVER_SIGNING_KEY", raising=False)
    assert load_signing_key(None) is None
    monkeypatch.setenv("FAILOVER_SIGNING_KEY", str(key))
    assert isinstance(load_signing_key(None), Ed25519PrivateKey)
    missing = tmp_path / "nope.pem"
    monkeypatch.setenv("FAILOVER_SIGNING_KEY", str(missing))
    with pytest.raises(InputError, match=f"{missing}.*FAILOVER_SIGNING_KEY.*cannot read"):
        load_signing_key(None)
    wrong = tmp_path / "x25519.pem"
    wrong.write_bytes(X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(InputError, match="not an Ed25519 private key") as err:
        load_signing_key(wrong)
    assert str(wrong) in str(err.value) and "PRIVATE" not in str(err.value)
    with pytest.raises(InputError, match="not an unencrypted PEM"):
        load_signing_key(pub(key))


def test_cli_verify_and_keygen(pack: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "cli.pem"
    made = runner.invoke(app, ["keygen", str(key)])
    assert made.exit_code == 0 and f"{key}.pub" in made.output
    assert pub(key).read_text() in made.output  # the OpenSSH line, and its allowed-signers line
    assert key.with_name("cli.pem.allowed_signers").read_text() in made.output
    signed(pack, key)
    good = runner.invoke(app, ["verify", str(pack), "--public-key", str(pub(key))])
    assert good.exit_code == 0, good.output
    assert "pack verified: 7 files, signed by key" in good.output
    (pack / "junit.xml").write_bytes(b"<testsuite failures='0'/>\n")
    bad = runner.invoke(app, ["verify", str(pack)])
    assert bad.exit_code == 1
    assert "junit.xml: changed" in bad.output and "pack FAILED verification: 1 problems" \
        in bad.output
    assert key.read_text() not in made.output + good.output + bad.output
