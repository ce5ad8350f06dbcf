"""`failover verify | keygen`: check an evidence pack's signed manifest, make a signing key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.cli.common import console
from harness.report import sshsig
from harness.report.manifest import KEY_ENV, PUBLIC_KEY, fingerprint, generate_key, key_files
from harness.report.manifest import verify as verify_pack


def verify(pack: Annotated[Path, typer.Argument(help="evidence pack directory")],
           public_key: Annotated[Path | None, typer.Option(
               help="the team's published public key: OpenSSH (failover keygen's .pub), PEM "
                    f"or base64 (default: the pack's own {PUBLIC_KEY})")]
           = None,
           ) -> None:
    """Check every file of an evidence pack against its MANIFEST, and the signatures.

    Exit 0: every file matches and the signatures (if any) verify; 1: otherwise. Without the
    harness: the pack's VERIFY.txt (sha256sum, ssh-keygen -Y verify).
    """
    report = verify_pack(pack, public_key)
    for problem in report.problems:
        console.print(f"[red]problem:[/] {escape(problem)}", soft_wrap=True)
    for note in report.notes:
        console.print(f"[dim]note:[/] {escape(note)}", soft_wrap=True)
    if not report.ok:
        console.print(f"[red]pack FAILED verification:[/] {len(report.problems)} problems")
        raise typer.Exit(code=1)
    signed = f"signed by key {report.fingerprint}" if report.signed else "not signed"
    console.print(f"[green]pack verified:[/] {report.files} files, {signed}")


def keygen(path: Annotated[Path, typer.Argument(help="private key file to create")]) -> None:
    """Make an Ed25519 key pair for signing evidence packs (PEM private key, mode 0600).

    Also writes the OpenSSH public key (PATH.pub) and its allowed-signers line
    (PATH.allowed_signers), with which an auditor checks a pack using ssh-keygen -Y verify.
    """
    public = generate_key(path)
    pub, signers = key_files(path)
    console.print(f"wrote private key {escape(str(path))} (keep it secret; use it with "
                  f"{KEY_ENV}={escape(str(path))})", soft_wrap=True)
    console.print(f"public key {escape(str(pub))}, fingerprint {fingerprint(public)} "
                  f"({sshsig.ssh_fingerprint(public)} for ssh-keygen); allowed-signers line "
                  f"in {escape(str(signers))}. Publish these, never the private key:",
                  soft_wrap=True)
    console.print(sshsig.public_line(public), markup=False, soft_wrap=True)
    console.print(sshsig.allowed_signers_line(public), markup=False, soft_wrap=True)
