"""YAML loading that remembers where each key stands, so errors can name file and line.

libyaml parses the file into nodes (with their lines); the nodes are then built here into
plain values, with bounds on what a small file can cost: nesting depth, and how many nodes
aliases may add (an alias bomb of a few lines would otherwise expand to billions). Keys are
strings and appear once per mapping; numbers are finite.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError
from harness.inputfile import read_text

MAX_DEPTH = 64
MAX_ALIAS_NODES = 10_000  # nodes aliases may add to what the file itself holds
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML was built with it
_TAG = "tag:yaml.org,2002:"
_STR = f"{_TAG}str"
Loc = tuple[int | str, ...]
_PLAIN = re.compile(r"[\w@:/+-]+")


class LineDict(dict[str, Any]):
    """A mapping from a YAML file that knows the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence from a YAML file that knows the line of each item."""

    line: int = 0
    item_lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def field_name(loc: Loc) -> str:
    """`faults[0].node` for the path ('faults', 0, 'node'); a key that is not a plain word
    quoted: `nodes['r1\\n']`, `flows[0]['']`."""
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" if _PLAIN.fullmatch(k)
                   else f"[{k!r}]" for k in loc).lstrip(".")


def line_at(doc: Any, loc: Loc) -> int | None:
    """The line of the deepest part of `loc` that the YAML document has."""
    line = getattr(doc, "line", None)
    for key in loc:
        if isinstance(doc, LineDict) and key in doc:
            line, doc = doc.line_of(str(key)), doc[str(key)]
        elif isinstance(doc, LineList) and isinstance(key, int) and 0 <= key < len(doc):
            line, doc = doc.line_of(key), doc[key]
        else:
            break
    return line


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Builder:
    """Plain values (LineDict, LineList, scalars) from composed nodes, within the bounds.

    A collection reached again through an alias is the value built the first time (shared,
    not copied): building costs what the file holds, and what the aliases add (their
    expanded sizes) is counted against `MAX_ALIAS_NODES` before anything walks it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.scalars = yaml.constructor.SafeConstructor()
        self.loc: list[int | str] = []  # where the node being built stands
        self.done: dict[int, tuple[Any, int]] = {}  # collection -> (value, expanded size)
        self.open: list[yaml.Node] = []  # collections being built: an alias to one is a loop
        self.nodes = 0  # nodes built so far, aliases expanded
        self.aliased = 0  # nodes the aliases add

    def error(self, node: yaml.Node, message: str) -> InputError:
        return InputError(self.path, _line(node), field_name(tuple(self.loc)), message)

    def alias_error(self, message: str) -> InputError:
        """An alias has no line of its own (it is its anchor's node): the line of the
        collection holding it."""
        return self.error(self.open[-1], message)

    def child(self, node: yaml.Node, key: int | str) -> Any:
        """A mapping's value or a list's item; plain strings (most of any file) directly."""
        if node.__class__ is yaml.ScalarNode and node.tag == _STR:
            return node.value
        self.loc.append(key)
        value = self.build(node)
        self.loc.pop()
        return value

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if any(node is o for o in self.open):
            raise self.alias_error("a recursive alias (it contains itself)")
        if id(node) in self.done:
            value, size = self.done[id(node)]
            self.nodes, self.aliased = self.nodes + size, self.aliased + size
            if self.aliased > MAX_ALIAS_NODES:
                raise self.alias_error(f"aliases add more than {MAX_ALIAS_NODES:,} nodes to "
                                       "the file (an alias bomb?)")
            return value
        if len(self.loc) >= MAX_DEPTH:
            del self.loc[3:]
            raise self.error(node, f"nested deeper than {MAX_DEPTH} levels")
        start = self.nodes
        self.open.append(node)
        if isinstance(node, yaml.MappingNode) and node.tag == f"{_TAG}map":
            value = self.mapping(node)
        elif isinstance(node, yaml.SequenceNode) and node.tag == f"{_TAG}seq":
            value = self.sequence(node)
        else:
            raise self.error(node, f"YAML tag {node.tag} is not supported here")
        self.open.pop()
        self.nodes += 1
        self.done[id(node)] = (value, self.nodes - start)
        return value

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value
        try:
            value = self.scalars.construct_object(node)
        except (ValueError, OverflowError) as exc:  # a date 2024-13-45, an int of 5000 digits
            raise self.error(node, f"{node.value[:40]!r} is not a valid "
                             f"{node.tag.removeprefix(_TAG)}: {exc}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(node, f"{node.value!r} is not a finite number")
        return value

    def sequence(self, node: yaml.SequenceNode) -> LineList:
        self.nodes += len(node.value)
        out = LineList([self.child(item, i) for i, item in enumerate(node.value)])
        out.line = node.start_mark.line + 1
        out.item_lines = [item.start_mark.line + 1 for item in node.value]
        return out

    def mapping(self, node: yaml.MappingNode) -> LineDict:
        self.nodes += 2 * len(node.value)
        out = LineDict()
        out.line = node.start_mark.line + 1
        lines = out.key_lines
        merged: list[LineDict] = []
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                merged += self.merges(value_node)
                continue
            key = self.key(key_node)
            if key in out:
                self.loc.append(key)
                raise self.error(key_node, f"duplicate key {key!r} (first on line "
                                 f"{out.key_lines[key]}): a later one would silently win")
            out[key] = self.child(value_node, key)
            lines[key] = key_node.start_mark.line + 1
        for extra in merged:  # `<<: *base`: the mapping's own keys win, then earlier merges
            for key, value in extra.items():
                if key not in out:
                    out[key], out.key_lines[key] = value, extra.line_of(key)
        return out

    def key(self, node: yaml.Node) -> str:
        if node.__class__ is yaml.ScalarNode and node.tag == _STR:
            return str(node.value)
        key = self.build(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise self.error(node, f"key {getattr(node, 'value', '')!r} is not a string "
                             "(quote it)" if isinstance(node, yaml.ScalarNode) else
                             "a key must be a string, not a mapping or a list")
        return key

    def merges(self, node: yaml.Node) -> Iterator[LineDict]:
        value = self.build(node)
        for item in value if isinstance(value, LineList) else [value]:
            if not isinstance(item, LineDict):
                raise self.error(node, "`<<` merges a mapping or a list of mappings")
            yield item


def _syntax_error(path: Path, text: str, exc: yaml.YAMLError) -> InputError:
    """One line: the problem and its line (never PyYAML's multi-line rendering)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        words = [w for w in (exc.context, exc.problem) if w]
        return InputError(path, mark.line + 1 if mark else None, "",
                          f"YAML syntax error: {' '.join(words) or type(exc).__name__}")
    if isinstance(exc, yaml.reader.ReaderError):
        return InputError(path, text.count("\n", 0, exc.position) + 1, "",
                          f"YAML syntax error: character {exc.character!r}: {exc.reason}")
    return InputError(path, None, "", f"YAML error: {' '.join(str(exc).split())}")


def load_yaml(path: Path) -> Any:
    """Parse a YAML file (see `harness.inputfile` for what is read); any problem with it is
    an `InputError` naming the file, line and field."""
    text = read_text(path)
    with gc_paused():
        try:
            node = yaml.compose(text, Loader=_PARSER)  # noqa: S506 - composes nodes only
            return None if node is None else _Builder(path).build(node)
        except yaml.YAMLError as exc:  # syntax, or a tag the safe constructor refuses
            raise _syntax_error(path, text, exc) from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cycle collector paused (also as a decorator, for a whole loader): its passes over
    the hundreds of thousands of fresh, acyclic objects of a 1 MiB file cost several times
    the parse itself (measured: 1.0 s against 0.17 s; a 1 MiB topology loads in 0.7 s, not
    1.2-1.5 s). Nothing a loader builds is a cycle: the objects are freed as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
