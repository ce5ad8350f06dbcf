"""VERIFY.txt: how an auditor checks a pack with standard Linux tools alone (coreutils,
findutils, grep, awk, OpenSSH), without the harness. Lines starting with "$ " are the commands
(a trailing backslash continues one), run in the pack's directory."""

from __future__ import annotations

from harness.report.sshsig import NAMESPACE

VERIFY = "VERIFY.txt"

_HEAD = """\
How to check this evidence pack without the failover harness, on any Linux machine
(coreutils, findutils, grep, awk, OpenSSH 8.2 or later). Run each command (the lines starting
with "$ ") in a shell, inside this directory. Read them before you run them: this file
travels in the pack it checks; the same steps are in the harness's README.

1. Every file is the one written: its SHA-256 is the one in MANIFEST.

$ sha256sum --check --strict --quiet MANIFEST

2. No file was added or removed: this names every file on disk or in MANIFEST but not in
   both (MANIFEST's own files are not listed in it), and fails if there is one.

$ {{ cut -c67- MANIFEST; find . ! -type d -printf '%P\\n' | grep -vxE '{own}'; }} \\
| LC_ALL=C sort | uniq -u | awk '{{ print "added or missing: " $0 }} END {{ exit NR > 0 }}'
"""

_SIGNED = """
3. MANIFEST is signed by your team's key. Check it against the public key your team
   PUBLISHED (the OpenSSH line `failover keygen` printed and wrote as <key>.pub), never
   against a key found in this pack. Set PUBLISHED_KEY to that file, e.g.
   PUBLISHED_KEY=/media/audit/failover-signing.pem.pub, then:

$ SIGNERS="${{TMPDIR:-/tmp}}/allowed_signers"
$ printf '{ns} namespaces="{ns}" %s\\n' "$(cat "$PUBLISHED_KEY")" > "$SIGNERS"
$ ssh-keygen -Y verify -f "$SIGNERS" -I {ns} -n {ns} -s MANIFEST.sshsig < MANIFEST

   It prints, with the key that signed this pack (compare it with the fingerprint your
   team published):
   Good "{ns}" signature for {ns} with ED25519 key {fp}
   MANIFEST.sig and MANIFEST.pub: another signature of MANIFEST, for `failover verify`.
"""

_UNSIGNED = """
3. This pack is NOT signed: the hashes show that the files match MANIFEST, not who wrote
   them. Ask for packs signed with your team's key (failover run --signing-key).
"""

_ATTESTATION = """
The outcome is also in {name}, an in-toto test-result attestation
(Statement v1) listing every file's SHA-256; MANIFEST lists it: the checks above cover it.
"""


def verify_text(own: str, fingerprint: str | None, attestation: str | None) -> str:
    """VERIFY.txt for a pack whose manifest's own files match the regex `own`, signed by the
    key of SSH `fingerprint` (None: unsigned), with an `attestation` file or None."""
    text = _HEAD.format(own=own)
    text += _SIGNED.format(ns=NAMESPACE, fp=fingerprint) if fingerprint else _UNSIGNED
    return text + (_ATTESTATION.format(name=attestation) if attestation else "")

