"""YAML loading that remembers where each key stands, so errors can name file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError


class LineDict(dict[str, Any]):
    """A mapping from a YAML file that knows the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence from a YAML file that knows the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        out = LineDict(super().construct_mapping(node, deep=True))  # type: ignore[arg-type]
        out.line = node.start_mark.line + 1
        out.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        return out

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        out = LineList(super().construct_sequence(node, deep=True))
        out.line = node.start_mark.line + 1
        out.item_lines = [n.start_mark.line + 1 for n in node.value]
        return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_sequence)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error becomes an `InputError`."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(path, None, "", exc.strerror or str(exc)) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(path, line, "", f"YAML syntax error: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InputError(path, None, "", f"YAML error: {exc}") from None
