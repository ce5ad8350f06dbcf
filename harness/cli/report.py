"""`failover report PACK [--pdf]`: an evidence pack's verdict, and its report as a PDF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.cli.common import console
from harness.errors import HarnessError
from harness.report.manifest import verify as verify_pack
from harness.report.pdf import print_pdf
from harness.report.verdict import verdict_lines


def report(pack: Annotated[Path, typer.Argument(help="evidence pack directory")],
           pdf: Annotated[bool, typer.Option(help="print the pack's report.html to PDF")]
           = False,
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="the PDF to write (default: PACK.pdf, beside the pack)")]
           = None,
           ) -> None:
    """Check a pack and print its verdict; with --pdf, print its report to PDF too.

    The pack's files are checked against its MANIFEST first. The PDF goes through headless
    Chromium, outside the pack (a file added to a sealed pack would fail `failover verify`).

    Exit 0: done; 1: the pack fails verification (nothing printed).
    """
    pack = pack.resolve()
    checked = verify_pack(pack)
    for problem in checked.problems:
        console.print(f"[red]problem:[/] {escape(problem)}", soft_wrap=True)
    if not checked.ok:
        console.print("[red]pack FAILED verification:[/] not reporting on it")
        raise typer.Exit(code=1)
    results = json.loads((pack / "results.json").read_text())
    colour = "green" if results["outcome_as_expected"] else "red"
    first, *more = verdict_lines(results)
    console.print(f"[{colour}]{escape(first)}[/]", soft_wrap=True)
    for line in more:
        console.print(f"[red]{escape(line)}[/]", soft_wrap=True)
    console.print(f"report: {pack / 'report.html'}", markup=False)
    if not pdf:
        return
    target = (output or pack.with_name(f"{pack.name}.pdf")).resolve()
    if target.is_relative_to(pack):
        raise HarnessError(f"{target}: inside the sealed pack; write the PDF elsewhere")
    print_pdf(pack / "report.html", target)
    console.print(f"PDF: {target}", markup=False)
