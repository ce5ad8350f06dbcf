"""Property-based: reference scenario, flows, topology and router configuration files, mutated
(values, types, keys, bytes, encodings, cost bombs), through `failover validate`.

For every input: exit 0 with one `ok` line, or exit 2 with exactly one line
`error: FILE:LINE: [FIELD: ]MESSAGE` naming one of the input files (the mutated one for a
problem of its bytes or YAML), no traceback, within a second of CPU.

A fixed seed (derandomized) and 300 examples per test in CI (~12 s); on demand, more
examples from a random seed (hypothesis prints the failing input and the seed to replay it):
`FAILOVER_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_bad_input_fuzz.py`.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_run import failover
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "scenarios/core1-power-loss.yml"
SCENARIOS = (SCENARIO, "scenarios/core1-drain.yml", "scenarios/core1-uplink-shutdown.yml")
FLOWS = "scenarios/flows/hospital-critical.yml"
TOPOLOGY = "topologies/hospital-core.clab.yml"
CONFIG = "topologies/hospital-core/core1.conf"
YAML_FILES = (*SCENARIOS, FLOWS, TOPOLOGY)  # a scenario mutated is the one validated

ON_DEMAND = os.environ.get("FAILOVER_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(ON_DEMAND or 300), derandomize=not ON_DEMAND, deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
ERROR = re.compile(r"error: (?P<file>[^\n:]+):(?P<line>[1-9]\d*): (?P<rest>[^\n]+)\n")
FILE_PROBLEMS = ("YAML", "UTF-8", "NUL", "duplicate key", "nested deeper", "alias",
                 "is not a string", "not a finite number", "bytes; an input file")

LOG = os.environ.get("FAILOVER_FUZZ_LOG")  # a file: every outcome, to see what was tried
WORD = "a" * (1 << 16)
HOSTILE = st.sampled_from([
    None, True, False, 0, -1, 0.5, 1e9, 10 ** 30, float("inf"), float("-inf"), float("nan"),
    "", " ", "[/x]", "[bold]r9", "list[str]", "core1\n", "-oProxyCommand=x", "1e400", ".inf",
    "/dev/zero", "../../../etc/passwd", "x" * 5000, WORD, f"neighbor 1.2.3.4 password {WORD}",
    "ip ospf message-digest-key 1 md5 S3cret", [], {}, ["core1"], {"a": 1}, [[[[]]]],
    {"password": "hunter2"}, {"token": "t"}, {1: "x"}, {True: "x"}, "ed", "core1", "eth1",
    "01:00:5e:00:00:01", "zz", 1500.5, 68, 65536, "frr", "linux", "ospfd", "isisd",
])
VALUES = st.one_of(HOSTILE, st.integers(), st.floats(), st.text(max_size=20),
                   st.lists(st.integers(), max_size=3),
                   st.dictionaries(st.text(max_size=6), st.integers(), max_size=2))
SNIPPETS = [  # appended to a YAML file: costly or ill-formed on purpose
    "zz: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"z{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
    "zz: " + "[" * 500 + "]" * 500 + "\n",
    "zz: &r [*r]\n",
    "zz: !!python/object/apply:os.system [true]\n",
    "zz: 1\n---\nzz: 2\n",
    f"zz: {WORD}\n",
    "# padding\n" * 100_000,  # ~1 MB, under the limit
    "# padding\n" * 110_000,  # over it
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the files the reference scenario reads."""
    root = tmp_path_factory.mktemp("fuzz")
    for name in (*SCENARIOS, FLOWS, TOPOLOGY):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "topologies/hospital-core", root / "topologies/hospital-core")
    return root


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) \
        if isinstance(doc, list) else []
    return [at] + [p for key, value in children for p in _paths(value, (*at, key))]


@st.composite
def mutated_yaml(draw: st.DrawFn, text: str) -> str:
    """The document with one node replaced, removed, its key misspelt, or a key added."""
    doc = copy.deepcopy(yaml.safe_load(text))
    path = draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add"]))
    if action == "replace":
        parent[key] = draw(VALUES)
    elif action == "delete":
        del parent[key]
    elif isinstance(parent, dict) and action == "rename":
        parent[f"{key}{draw(st.sampled_from(['x', 's', '_', chr(10)]))}"] = parent.pop(key)
    elif isinstance(parent, dict):
        parent[draw(st.one_of(st.text(max_size=8), st.integers(), st.booleans()))] = \
            draw(VALUES)
    return yaml.safe_dump(doc, allow_unicode=draw(st.booleans()), width=10 ** 6)


@st.composite
def mutated_bytes(draw: st.DrawFn, text: str) -> bytes:
    """The file's bytes spliced, a line doubled or re-indented, re-encoded, or a snippet
    added."""
    lines = text.splitlines(keepends=True)
    where = draw(st.integers(0, len(lines) - 1))
    action = draw(st.sampled_from(["splice", "double", "indent", "encode", "snippet"]))
    if action == "double":
        lines.insert(where, lines[where])
    elif action == "indent":
        lines[where] = draw(st.sampled_from(["", " ", "\t", "    "])) + lines[where].lstrip()
    elif action == "snippet":
        lines.append(draw(st.sampled_from(SNIPPETS)))
    data = "".join(lines).encode()
    if action == "encode":
        return "".join(lines).encode(draw(st.sampled_from(["utf-16", "latin-1", "utf-8-sig"])),
                                     errors="replace") + draw(st.binary(max_size=4))
    if action == "splice":
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 40))
        return data[:at] + draw(st.binary(max_size=12)) + data[at + cut:]
    return data


def _check(tree: Path, changed: str, content: bytes, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = (*SCENARIOS, FLOWS, TOPOLOGY, CONFIG)
    for name in inputs:
        shutil.copy(ROOT / name, tree / name)
    (tree / changed).write_bytes(content)
    scenario = changed if changed in SCENARIOS else SCENARIO
    start = time.process_time()
    code, out, err = failover(capsys, monkeypatch, "validate", str(tree / scenario))
    assert time.process_time() - start < 1.0, "validation took over a second of CPU"
    if LOG:
        with open(LOG, "a") as log:
            log.write(f"{changed} {code} {err or out}")
    if code == 0:
        assert err == "" and out.startswith("ok ") and out.count("\n") == 1, out
        return
    match = ERROR.fullmatch(err)
    assert code == 2 and out == "" and match, f"exit {code}: {err!r}"
    named = Path(os.path.normpath(match["file"]))
    assert named in {tree / name for name in inputs}, err
    if any(word in match["rest"] for word in FILE_PROBLEMS):
        assert named == tree / changed, err


def _texts() -> dict[str, str]:
    return {name: (ROOT / name).read_text() for name in (*YAML_FILES, CONFIG)}


TEXTS = _texts()
FILES = st.sampled_from(YAML_FILES)


def _given(strategy: Callable[[str], st.SearchStrategy[Any]], files: list[str]) -> Any:
    return given(st.sampled_from(files).flatmap(
        lambda name: st.tuples(st.just(name), strategy(TEXTS[name]))))


@FUZZ
@_given(mutated_yaml, list(YAML_FILES))
def test_mutated_values_types_and_keys(tree: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch,
                                       case: tuple[str, str]) -> None:
    name, text = case
    _check(tree, name, text.encode(), capsys, monkeypatch)


@FUZZ
@_given(mutated_bytes, [*YAML_FILES, CONFIG])
def test_mutated_bytes_encodings_and_bombs(tree: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch,
                                           case: tuple[str, bytes]) -> None:
    name, data = case
    _check(tree, name, data, capsys, monkeypatch)


def test_the_unmutated_files_validate(tree: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _check(tree, SCENARIO, TEXTS[SCENARIO].encode(), capsys, monkeypatch)
    assert failover(capsys, monkeypatch, "validate", str(tree / SCENARIO))[0] == 0
