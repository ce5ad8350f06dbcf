"""OpenSSH signatures of Ed25519 keys (PROTOCOL.sshsig): what `ssh-keygen -Y sign` writes and
`ssh-keygen -Y verify` checks, made here without OpenSSH.

The armored signature's blob: "SSHSIG", version 1, the public key, the namespace, an empty
reserved field, the hash algorithm and the signature over "SSHSIG", the namespace, the
reserved field, the hash algorithm and the message's hash (each field an SSH string).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NAMESPACE = "failover-evidence"  # also the signer's principal in allowed-signers lines
_MAGIC = b"SSHSIG"
_VERSION = 1
_HASH = "sha512"
_KEY_TYPE = b"ssh-ed25519"
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _strings(blob: bytes) -> list[bytes]:
    """The SSH strings `blob` is made of; ValueError if it is not exactly that."""
    out, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            raise ValueError("truncated")
        (size,) = struct.unpack_from(">I", blob, at)
        if at + 4 + size > len(blob):
            raise ValueError("truncated")
        out.append(blob[at + 4:at + 4 + size])
        at += 4 + size
    return out


def _key_blob(key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(_KEY_TYPE) + _string(raw)


def _signed_data(message: bytes, namespace: str) -> bytes:
    return _MAGIC + _string(namespace.encode()) + _string(b"") + _string(_HASH.encode()) \
        + _string(hashlib.sha512(message).digest())


def public_line(key: Ed25519PublicKey, comment: str = NAMESPACE) -> str:
    """The key as an OpenSSH public key line (`ssh-ed25519 AAAA... comment`)."""
    return f"{_KEY_TYPE.decode()} {base64.b64encode(_key_blob(key)).decode()} {comment}"


def ssh_fingerprint(key: Ed25519PublicKey) -> str:
    """The fingerprint `ssh-keygen -l` and `ssh-keygen -Y verify` print (SHA256:...)."""
    digest = base64.b64encode(hashlib.sha256(_key_blob(key)).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def allowed_signers_line(key: Ed25519PublicKey, principal: str = NAMESPACE) -> str:
    """The key's line in an allowed-signers file, restricted to the evidence namespace."""
    return f'{principal} namespaces="{NAMESPACE}" {public_line(key)}'


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str = NAMESPACE) -> str:
    """The armored SSH signature of `message`."""
    blob = _MAGIC + struct.pack(">I", _VERSION) + _string(_key_blob(key.public_key())) \
        + _string(namespace.encode()) + _string(b"") + _string(_HASH.encode()) \
        + _string(_string(_KEY_TYPE) + _string(key.sign(_signed_data(message, namespace))))
    text = base64.b64encode(blob).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "\n".join([_BEGIN, *lines, _END]) + "\n"


def verify(key: Ed25519PublicKey, armored: bytes, message: bytes,
           namespace: str = NAMESPACE) -> None:
    """Raise ValueError unless `armored` is `key`'s SSH signature of `message` in `namespace`."""
    text = armored.decode("ascii", "replace").strip()
    if not (text.startswith(_BEGIN) and text.endswith(_END)):
        raise ValueError("not an armored SSH signature")
    try:
        blob = base64.b64decode("".join(text[len(_BEGIN):-len(_END)].split()), validate=True)
    except binascii.Error:
        raise ValueError("bad base64 in the SSH signature") from None
    if not blob.startswith(_MAGIC) or blob[6:10] != struct.pack(">I", _VERSION):
        raise ValueError("not an SSHSIG version 1 blob")
    fields = _strings(blob[10:])
    if len(fields) != 5:
        raise ValueError("malformed SSHSIG blob")
    public, space, _reserved, algorithm, signature = fields
    if public != _key_blob(key):
        raise ValueError("signed by another key")
    if space != namespace.encode() or algorithm != _HASH.encode():
        raise ValueError(f"namespace {space!r} / hash {algorithm!r} is not {namespace}/{_HASH}")
    kind, raw = (_strings(signature) + [b"", b""])[:2]
    if kind != _KEY_TYPE:
        raise ValueError("not an Ed25519 signature")
    try:
        key.verify(raw, _signed_data(message, namespace))
    except InvalidSignature:
        raise ValueError("signature does not verify") from None
