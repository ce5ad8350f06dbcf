"""The `failover` command line."""

from __future__ import annotations

import sys

import typer

from harness.cli.common import console, fail
from harness.cli.evidence import keygen, verify
from harness.cli.init import init
from harness.cli.lab import lab_app
from harness.cli.probe import probe
from harness.cli.report import report
from harness.cli.scenario import recover, run, schema, validate
from harness.cli.sweep import compare, merge, sweep
from harness.cli.watch import mark, watch
from harness.engine import exits
from harness.errors import HarnessError

app = typer.Typer(help="Network-core failover test harness.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(lab_app, name="lab")
app.command("init")(init)
app.command("probe")(probe)
EXIT_CODES = "Exit codes:\n\n" + exits.table().replace("\n", "\n\n")
app.command("run", epilog=EXIT_CODES)(run)
app.command("validate")(validate)
app.command("recover")(recover)
app.command("sweep", epilog=EXIT_CODES)(sweep)
app.command("merge", epilog=EXIT_CODES)(merge)
app.command("compare")(compare)
app.command("watch")(watch)
app.command("mark")(mark)
app.command("schema")(schema)
app.command("verify")(verify)
app.command("report")(report)
app.command("keygen")(keygen)


def main() -> None:
    try:
        app()
    except HarnessError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
