"""Reading input files: special files, encodings, sizes, YAML that costs too much or says a
thing twice; each refused in one line naming file, line (and field where there is one)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.inputfile import MAX_BYTES, UnreadableFile
from harness.yamlsrc import LineDict, load_yaml

BOMB = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(  # 9 ** 9 items once expanded
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))

BAD = [  # (file content, line, field, message)
    ("a: 1\nb: 2\na: 3\n", 3, "a", "duplicate key 'a' (first on line 1)"),
    ("x:\n  - {n: 1, n: 2}\n", 2, "x[0].n", "duplicate key 'n'"),
    ("1: x\n", 1, "", "key '1' is not a string"),
    ("yes: x\n", 1, "", "key 'yes' is not a string"),
    ("? [a]\n: 1\n", 1, "", "a key must be a string"),
    ("a: {b: .inf}\n", 1, "a.b", "not a finite number"),
    ("a: [-.inf, .nan]\n", 1, "a[0]", "not a finite number"),
    ("a: 1.0e+400\n", 1, "a", "not a finite number"),  # YAML 1.1: `1e400` is a string
    ("a: " + "9" * 5000 + "\n", 1, "a", "is not a valid int"),
    ("a: 2024-13-45\n", 1, "a", "is not a valid timestamp"),
    ("a: &x [1, *x]\n", 1, "a[1]", "a recursive alias"),
    (BOMB, 5, "e[0]", "aliases add more than 10,000 nodes"),
    ("a: " + "[" * 400 + "]" * 400 + "\n", 1, "a[0][0]", "nested deeper than 64 levels"),
    ("a: !!set {x, y}\n", 1, "a", "tag tag:yaml.org,2002:set is not supported"),
    ("a: !!python/object:os.system x\n", 1, "", "could not determine a constructor"),
    ("a: [1,\nb: 2\n", 3, "", "YAML syntax error: while parsing a flow sequence"),
    ("a: 1\n---\nb: 2\n", 2, "", "expected a single document"),
    ("a: b\x07c\n", 1, "", "control characters are not allowed"),
    ("a: 1\nb: caf\xe9\n".encode("latin-1"), 2, "", "not UTF-8 text (byte 0xe9)"),
    ("a: b\n".encode("utf-16"), 1, "", "not UTF-8 text (byte 0xff)"),
    (b"a: b\n\x00\n", 2, "", "a NUL byte"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "", "not UTF-8 text"),
]


@pytest.mark.parametrize(("content", "line", "field", "message"), BAD,
                         ids=[b[3][:30] for b in BAD])
def test_bad_yaml_is_one_line_naming_line_and_field(tmp_path: Path, content: str | bytes,
                                                    line: int, field: str, message: str) -> None:
    path = tmp_path / "in.yml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    start = time.process_time()
    with pytest.raises(InputError) as err:
        load_yaml(path)
    assert time.process_time() - start < 0.5
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field), \
        str(err.value)
    assert message in err.value.message and "\n" not in str(err.value)


def test_merge_keys_and_shared_anchors_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text("base: &b {x: 1, y: 2}\nm: {<<: *b, y: 3}\nl: [*b, *b]\n")
    doc = load_yaml(path)
    assert doc["m"] == {"x": 1, "y": 3} and doc["l"] == [doc["base"]] * 2
    assert isinstance(doc["m"], LineDict) and doc["m"].line_of("y") == 2


def test_special_files_are_refused_before_they_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)  # opening it to read would block until a writer comes
    cases = [(fifo, "a named pipe"), (Path("/dev/zero"), "a character device"),
             (tmp_path, "a directory"), (tmp_path / "none.yml", "No such file"),
             (tmp_path / ("x" * 300), "File name too long")]
    for path, message in cases:
        start = time.monotonic()
        with pytest.raises(UnreadableFile, match=message):
            load_yaml(path)
        assert time.monotonic() - start < 0.5


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    with path.open("wb") as file:
        file.truncate(20 * MAX_BYTES)  # sparse: its size says it all, nothing is read
    with pytest.raises(InputError, match=r"has 20,971,520 bytes; an input file has at most"):
        load_yaml(path)


def test_a_file_of_the_largest_size_loads_within_a_second(tmp_path: Path) -> None:
    item = "  - {name: flow-%05d, src: ed, dst: ehr, application: https, sla_class: clinical}\n"
    count = (MAX_BYTES - 10) // len(item % 0)
    path = tmp_path / "flows.yml"
    path.write_text("flows:\n" + "".join(item % i for i in range(count)))
    assert path.stat().st_size > MAX_BYTES * 0.99
    start = time.process_time()
    assert len(load_yaml(path)["flows"]) == count
    assert time.process_time() - start < 1.0
