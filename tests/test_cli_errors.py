"""The error printer prints text: input quoted in a message is never read as rich markup."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import failover

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = """name: t
topology: {topology}
flows:
  - {{name: v, src: "{src}", dst: pbx, sla: {{max_outage_ms: 300}}}}
faults:
  - {{kind: node-power-loss, node: core1}}
"""


@pytest.mark.parametrize("src", ["[/x]", "[bold]r9", "list[str]", "a\\\\[b]"])
def test_markup_in_input_is_printed_as_written(tmp_path: Path, src: str,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.yml"
    path.write_text(SCENARIO.format(topology=ROOT / "topologies/hospital-core.clab.yml",
                                    src=src))
    code, out, err = failover(capsys, monkeypatch, "validate", str(path))
    written = src.replace("\\\\", "\\")
    assert code == 2 and out == ""
    assert err == f"error: {path}:4: flows[0].src: unknown node {written!r} in topology " \
        "hospital-core\n", err


def test_a_line_number_is_not_an_emoji(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """rich reads `:100:` as an emoji code: `file:100: field` printed as `file💯 field`."""
    path = tmp_path / "s.yml"
    text = SCENARIO.format(topology=ROOT / "topologies/hospital-core.clab.yml", src="voip")
    path.write_text("#\n" * 96 + text.replace("src: \"voip\"", "src: nurse"))
    code, _, err = failover(capsys, monkeypatch, "validate", str(path))
    assert code == 2 and err.startswith(f"error: {path}:100: flows[0].src: unknown node"), err


@pytest.mark.parametrize("name", ["missing.ssh_config", "."])
def test_an_ssh_config_that_cannot_be_read_is_one_line(tmp_path: Path, name: str,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / name
    code, out, err = failover(capsys, monkeypatch, "probe", "--flow", "a:b:https", "--remote",
                              "a=127.0.0.1:1,198.18.9.1", "--remote",
                              "b=127.0.0.1:1,198.18.9.2",
                              "--ssh-config", str(config))
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {config}: ") and ("No such file" in err or "directory" in err)


@pytest.mark.parametrize("target", ["../../etc", "x" * 5000, "lab\n"])
def test_a_lab_name_that_cannot_be_one_is_one_line(target: str,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for command in ("status", "down"):
        code, out, err = failover(capsys, monkeypatch, "lab", command, target)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert "is neither a lab name" in err
