"""`failover --help`: each command's summary is one sentence on one line, never broken where
its docstring happens to wrap."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli import app


@pytest.mark.parametrize("group", [[], ["lab"]])
def test_each_command_summary_is_one_line(group: list[str]) -> None:
    done = CliRunner().invoke(app, [*group, "--help"], terminal_width=200,
                              env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    box = done.output.split("Commands")[1].splitlines()[1:]
    rows = [line.strip("│ ") for line in box if line.startswith("│")]
    assert len(rows) >= 4
    for row in rows:
        name, summary = row.split(maxsplit=1)  # a continuation row would have no name
        assert summary.rstrip().endswith("."), row
        assert summary.count(". ") == 0, row  # one sentence
