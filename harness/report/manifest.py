"""The evidence pack's manifest: sha256 of every file, signed with Ed25519.

`MANIFEST` is in `sha256sum` format (`sha256sum -c MANIFEST` works inside the pack);
`MANIFEST.sig` is the base64 Ed25519 signature over the exact MANIFEST bytes and
`MANIFEST.pub` the base64 raw public key that made it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.errors import HarnessError, InputError

MANIFEST = "MANIFEST"
SIGNATURE = "MANIFEST.sig"
PUBLIC_KEY = "MANIFEST.pub"
KEY_ENV = "FAILOVER_SIGNING_KEY"
_OWN = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
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


def write_manifest(pack: Path, key: Ed25519PrivateKey | None) -> ManifestInfo:
    """Write MANIFEST for every file in `pack`, and sign it if `key` is given."""
    regular, other = _scan(pack)
    if other:
        raise HarnessError(f"{pack}: {_show(other[0])}: symbolic links and special files "
                           "are not allowed in an evidence pack")
    names = sorted(regular - _OWN)
    for name in names:
        if not name.isprintable() or "\\" in name:
            raise HarnessError(f"{pack}: {name!r}: file name cannot be listed in a manifest")
    data = "".join(f"{_sha256(pack / n)}  {n}\n" for n in names).encode()
    (pack / MANIFEST).write_bytes(data)
    if key is None:
        for stale in (SIGNATURE, PUBLIC_KEY):
            (pack / stale).unlink(missing_ok=True)
        return ManifestInfo(len(names), False, None)
    (pack / SIGNATURE).write_bytes(_b64(key.sign(data)))
    (pack / PUBLIC_KEY).write_bytes(_b64(_raw(key.public_key())))
    return ManifestInfo(len(names), True, fingerprint(key.public_key()))


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


def generate_key(path: Path) -> str:
    """Write a new Ed25519 key at `path` (PEM PKCS8, mode 0600) and `<path>.pub`; fingerprint."""
    pub = path.with_name(path.name + ".pub")
    for target in (path, pub):
        if target.exists() or target.is_symlink():
            raise InputError(target, None, "", "already exists, refusing to overwrite")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        with pub.open("xb") as f:
            f.write(_b64(_raw(key.public_key())))
    except OSError as exc:
        raise InputError(exc.filename or path, None, "", f"cannot write key: {exc.strerror}"
                         ) from None
    return fingerprint(key.public_key())


def _parse_public(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from base64 raw bytes or PEM; ValueError if it is neither."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except binascii.Error:
        raise ValueError("neither PEM nor base64") from None
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
        elif PUBLIC_KEY in regular:
            report.problems.append(f"{SIGNATURE}: missing although {PUBLIC_KEY} is there")
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
