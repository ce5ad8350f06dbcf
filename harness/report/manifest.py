"""The evidence pack's manifest: sha256 of every file, signed with Ed25519.

`MANIFEST` is in `sha256sum` format (`sha256sum -c MANIFEST` works inside the pack);
`MANIFEST.sshsig` is the OpenSSH signature of the exact MANIFEST bytes (`ssh-keygen -Y
verify`), `MANIFEST.sig` the base64 Ed25519 signature of them and `MANIFEST.pub` the base64
raw public key that made both. Before MANIFEST, the pack gets VERIFY.txt (how to check it
with standard tools) and, with a results.json, its in-toto attestation: MANIFEST lists both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.errors import HarnessError, InputError
from harness.report import sshsig
from harness.report.attest import ATTESTATION, statement
from harness.report.verify_steps import VERIFY, verify_text

MANIFEST = "MANIFEST"
SIGNATURE = "MANIFEST.sig"
SSH_SIGNATURE = "MANIFEST.sshsig"
PUBLIC_KEY = "MANIFEST.pub"
KEY_ENV = "FAILOVER_SIGNING_KEY"
RESULTS = "results.json"
_OWN = frozenset({MANIFEST, SIGNATURE, SSH_SIGNATURE, PUBLIC_KEY})
_SIGNED_BY = (SIGNATURE, SSH_SIGNATURE, PUBLIC_KEY)
_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


@dataclass(frozen=True)
class ManifestInfo:
    """What `write_manifest` wrote."""

    files: int
    signed: bool
    fingerprint: str | None


@dataclass
class VerifyReport:
    """The outcome of `verify`: ok when nothing is wrong."""

    files: int = 0
    signed: bool = False
    fingerprint: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def fingerprint(key: Ed25519PublicKey) -> str:
    """First 16 hex digits of the sha256 of the raw public key."""
    return hashlib.sha256(_raw(key)).hexdigest()[:16]


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data) + b"\n"


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _show(name: str) -> str:
    """A file name safe to print on one line."""
    return name if name.isprintable() else repr(name)


def _walk(top: Path, rel: PurePosixPath) -> Iterator[tuple[str, bool]]:
    with os.scandir(top / rel) as entries:
        for entry in entries:
            path = rel / entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(top, path)
            else:
                yield path.as_posix(), entry.is_file(follow_symlinks=False)


def _scan(pack: Path) -> tuple[set[str], list[str]]:
    """Regular files (POSIX paths relative to the pack) and anything else but directories."""
    if not pack.is_dir():
        raise InputError(pack, None, "", "not a directory")
    regular: set[str] = set()
    other: list[str] = []
    for name, is_regular in _walk(pack, PurePosixPath()):
        if is_regular:
            regular.add(name)
        else:
            other.append(name)
    return regular, sorted(other)


def _listed(pack: Path) -> set[str]:
    """The pack's files MANIFEST lists; refuses what cannot be in a pack or a manifest."""
    regular, other = _scan(pack)
    if other:
        raise HarnessError(f"{pack}: {_show(other[0])}: symbolic links and special files "
                           "are not allowed in an evidence pack")
    names = regular - _OWN
    for name in names:
        if not name.isprintable() or "\\" in name:
            raise HarnessError(f"{pack}: {name!r}: file name cannot be listed in a manifest")
    return names


def _attest(pack: Path, digests: dict[str, str]) -> None:
    """Write the in-toto attestation of the files in `digests` (and add it), from
    results.json; without one, no attestation."""
    if RESULTS not in digests:
        (pack / ATTESTATION).unlink(missing_ok=True)
        return
    results = json.loads((pack / RESULTS).read_text())
    (pack / ATTESTATION).write_text(json.dumps(statement(results, digests), indent=1) + "\n")
    digests[ATTESTATION] = _sha256(pack / ATTESTATION)


def write_manifest(pack: Path, key: Ed25519PrivateKey | None) -> ManifestInfo:
    """Write VERIFY.txt, the attestation and MANIFEST for every file in `pack`, and sign
    MANIFEST if `key` is given."""
    names = _listed(pack) | {VERIFY}
    own = "|".join(re.escape(n) for n in sorted(_OWN))
    attestation = ATTESTATION if RESULTS in names else None
    fp = sshsig.ssh_fingerprint(key.public_key()) if key else None
    (pack / VERIFY).write_text(verify_text(own, fp, attestation))
    digests = {n: _sha256(pack / n) for n in names - {ATTESTATION}}
    _attest(pack, digests)
    data = "".join(f"{digests[n]}  {n}\n" for n in sorted(digests)).encode()
    (pack / MANIFEST).write_bytes(data)
    if key is None:
        for stale in _SIGNED_BY:
            (pack / stale).unlink(missing_ok=True)
        return ManifestInfo(len(digests), False, None)
    (pack / SIGNATURE).write_bytes(_b64(key.sign(data)))
    (pack / SSH_SIGNATURE).write_text(sshsig.sign(key, data))
    (pack / PUBLIC_KEY).write_bytes(_b64(_raw(key.public_key())))
    return ManifestInfo(len(digests), True, fingerprint(key.public_key()))


def sealed(pack: Path) -> ManifestInfo:
    """What a sealed pack says of itself: files listed, and the key of its MANIFEST.pub if
    signed (as written: `verify` checks it)."""
    files = (pack / MANIFEST).read_bytes().count(b"\n")
    if not (pack / SIGNATURE).is_file():
        return ManifestInfo(files, False, None)
    return ManifestInfo(files, True, fingerprint(_parse_public((pack / PUBLIC_KEY).read_bytes())))


def load_signing_key(path: Path | None) -> Ed25519PrivateKey | None:
    """The PEM PKCS8 Ed25519 key at `path`, else at $FAILOVER_SIGNING_KEY, else None."""
    where = str(path) if path else ""
    if path is None and os.environ.get(KEY_ENV):
        path = Path(os.environ[KEY_ENV])
        where = f"{path} (from {KEY_ENV})"
    if path is None:
        return None
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise InputError(where, None, "", f"cannot read signing key: {exc.strerror}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(where, None, "", "not an unencrypted PEM PKCS8 private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(where, None, "", "not an Ed25519 private key")
    return key


def key_files(path: Path) -> tuple[Path, Path]:
    """The files `generate_key` writes beside the private key: the OpenSSH public key and
    its allowed-signers line."""
    return path.with_name(path.name + ".pub"), path.with_name(path.name + ".allowed_signers")


def generate_key(path: Path) -> Ed25519PublicKey:
    """Write a new Ed25519 key at `path` (PEM PKCS8, mode 0600), its OpenSSH public key at
    `<path>.pub` and its allowed-signers line at `<path>.allowed_signers`."""
    pub, signers = key_files(path)
    for target in (path, pub, signers):
        if target.exists() or target.is_symlink():
            raise InputError(target, None, "", "already exists, refusing to overwrite")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        with pub.open("x") as f:
            f.write(sshsig.public_line(key.public_key()) + "\n")
        with signers.open("x") as f:
            f.write(sshsig.allowed_signers_line(key.public_key()) + "\n")
    except OSError as exc:
        raise InputError(exc.filename or path, None, "", f"cannot write key: {exc.strerror}"
                         ) from None
    return key.public_key()


def _parse_public(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from an OpenSSH line, PEM or base64 raw bytes; ValueError if it
    is none of them."""
    key: object
    if data.startswith(b"ssh-"):
        try:
            key = serialization.load_ssh_public_key(data.strip())
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("not an OpenSSH public key") from None
    elif data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("not a PEM public key") from None
    else:
        return _parse_raw(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _parse_raw(data: bytes) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except binascii.Error:
        raise ValueError("neither OpenSSH, PEM nor base64") from None
    if len(raw) != 32:
        raise ValueError("not a 32-byte Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def _read_public_key(path: Path) -> Ed25519PublicKey:
    try:
        return _parse_public(path.read_bytes())
    except OSError as exc:
        raise InputError(path, None, "", f"cannot read public key: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(path, None, "", f"public key: {exc}") from None


def _listable(name: str) -> bool:
    """A plain relative path inside the pack, other than the manifest's own files."""
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and path.as_posix() == name \
        and name not in _OWN


def _parse_manifest(data: bytes, problems: list[str]) -> dict[str, str]:
    """MANIFEST's entries, name to hash; each bad line becomes a problem."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        problems.append(f"{MANIFEST}: not UTF-8 text")
        return {}
    entries: dict[str, str] = {}
    for number, line in enumerate(text.removesuffix("\n").split("\n") if text else [], 1):
        match = _LINE.fullmatch(line)
        if match and _listable(match.group(2)) and match.group(2) not in entries:
            entries[match.group(2)] = match.group(1)
        else:
            problems.append(f"{MANIFEST}:{number}: malformed line {_show(line)}")
    return entries


def _check_signature(pack: Path, data: bytes, trusted: Ed25519PublicKey | None,
                     regular: set[str], report: VerifyReport) -> None:
    if SIGNATURE not in regular:
        if trusted:
            report.problems.append(f"{SIGNATURE}: missing: the pack is not signed")
        elif found := [n for n in _SIGNED_BY if n in regular]:
            report.problems.append(f"{SIGNATURE}: missing although {found[0]} is there")
        else:
            report.notes.append("pack is not signed: the hashes show the files match MANIFEST, "
                                "not who wrote it")
        return
    report.signed = True
    own = None
    if PUBLIC_KEY in regular:
        try:
            own = _parse_public((pack / PUBLIC_KEY).read_bytes())
        except ValueError as exc:
            report.problems.append(f"{PUBLIC_KEY}: {exc}")
    key = trusted or own
    if key is None:
        report.problems.append(f"{PUBLIC_KEY}: missing: give --public-key to check the signature")
        return
    report.fingerprint = fingerprint(key)
    if trusted:
        match = "is absent" if own is None else \
            "matches it" if _raw(own) == _raw(trusted) else f"is another key {fingerprint(own)}"
        report.notes.append(f"signature checked against the given key {report.fingerprint}; "
                            f"{PUBLIC_KEY} in the pack {match}")
    else:
        report.notes.append(f"signature checked against the pack's own {PUBLIC_KEY} "
                            f"{report.fingerprint}: trust it only if this fingerprint matches "
                            "the one your team published (or give --public-key)")
    try:
        key.verify(base64.b64decode((pack / SIGNATURE).read_bytes().strip(), validate=True), data)
    except (binascii.Error, InvalidSignature):
        report.problems.append(f"{SIGNATURE}: signature does not verify with key "
                               f"{report.fingerprint} (MANIFEST changed, or signed by another key)")
    _check_ssh_signature(pack, data, key, regular, report)


def _check_ssh_signature(pack: Path, data: bytes, key: Ed25519PublicKey, regular: set[str],
                         report: VerifyReport) -> None:
    """MANIFEST.sshsig, what an auditor checks with ssh-keygen, must agree with MANIFEST.sig."""
    if SSH_SIGNATURE not in regular:
        report.notes.append(f"no {SSH_SIGNATURE} (a pack from an older harness): only "
                            "failover verify can check its signature")
        return
    try:
        sshsig.verify(key, (pack / SSH_SIGNATURE).read_bytes(), data)
    except ValueError as exc:
        report.problems.append(f"{SSH_SIGNATURE}: {exc} (key {report.fingerprint})")


def verify(pack: Path, public_key: Path | None = None) -> VerifyReport:
    """Check every file against MANIFEST and the signature against `public_key` or MANIFEST.pub."""
    trusted = _read_public_key(public_key) if public_key else None
    regular, other = _scan(pack)
    report = VerifyReport()
    report.problems += [f"{_show(n)}: symbolic link or special file" for n in other]
    if MANIFEST not in regular:
        report.problems.append(f"{MANIFEST}: missing")
        return report
    data = (pack / MANIFEST).read_bytes()
    entries = _parse_manifest(data, report.problems)
    report.files = len(entries)
    for name, digest in entries.items():
        if name not in regular:
            report.problems.append(f"{_show(name)}: missing (listed in {MANIFEST})")
        elif _sha256(pack / name) != digest:
            report.problems.append(f"{_show(name)}: changed (hash differs from {MANIFEST})")
    for name in sorted(regular - _OWN - entries.keys()):
        report.problems.append(f"{_show(name)}: added (not in {MANIFEST})")
    _check_signature(pack, data, trusted, regular, report)
    return report
