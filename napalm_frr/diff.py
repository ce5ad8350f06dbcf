"""Configuration text: normalising, indexing by context, and diffs from `frr-reload.py --test`.

frr-reload prints each change as its context lines (indented by depth) followed by the
command: deletions in their `no` form under "Lines To Delete", additions under "Lines To
Add". They are turned into `Change`s and rendered as a unified-style diff::

      interface eth1
    -  ip ospf cost 10
    +  ip ospf cost 20
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Context = tuple[str, ...]
_HEADER = re.compile(r"^(Building configuration\.\.\.|Current configuration:)\s*$")
_CLOSERS = {"exit", "exit-address-family", "exit-vrf", "exit-vnc", "end", "quit"}
_SECTIONS = {"Lines To Delete": "-", "Lines To Add": "+"}


@dataclass(frozen=True)
class Change:
    """One line added (`+`) or removed (`-`) under a context."""

    sign: str
    context: Context
    line: str


def normalize(text: str) -> str:
    """Config text as vtysh and frr-reload accept it: no `show running-config` header."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").splitlines()
             if not _HEADER.match(ln.strip())]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines).rstrip() + "\n"


def index(running: str) -> dict[Context, list[str]]:
    """Lines of an indented (`show running-config`) config under each context."""
    out: dict[Context, list[str]] = {}
    stack: list[str] = []
    for raw in normalize(running).splitlines():
        line = raw.strip()
        if not line or line.startswith("!") or line in _CLOSERS:
            continue
        depth = len(raw) - len(raw.lstrip(" "))
        del stack[depth:]
        out.setdefault(tuple(stack), []).append(line)
        stack.append(line)
    return out


def parse_reload_test(output: str) -> list[Change]:
    """The changes `frr-reload.py --test` printed, deletions back in their positive form."""
    changes: list[Change] = []
    sign = ""
    entry: list[str] = []

    def flush() -> None:
        if entry and sign:
            *ctx, last = entry
            line = last.strip()
            if sign == "-":  # printed as the command that removes it: undo that
                line = line[3:] if line.startswith("no ") else f"no {line}"
            changes.append(Change(sign, tuple(c.strip() for c in ctx), line))
        entry.clear()

    for raw in output.splitlines():
        if raw.strip() in _SECTIONS:
            flush()
            sign = _SECTIONS[raw.strip()]
            continue
        if not raw.strip() or set(raw.strip()) == {"="}:
            continue
        depth = len(raw) - len(raw.lstrip(" "))
        if depth != len(entry):  # back at the top (or a sibling): a new entry starts
            flush()
        entry.append(raw)
    flush()
    return changes


def _key(line: str) -> str:
    """A command without its trailing numeric values (`ip ospf cost 10` -> `ip ospf cost`)."""
    words = line.split()
    while words and words[-1].isdigit():
        words.pop()
    return " ".join(words)


def predict_merge(changes: Iterable[Change], running: dict[Context, list[str]]) -> list[Change]:
    """Complete the additions of `running + snippet` with what they replace or remove.

    A snippet's `no X` removes the running lines that start with X; a line that differs from
    a running line only by trailing numbers (a cost, a timer, an AS) replaces it.
    """
    out: list[Change] = []
    for ch in changes:
        present = running.get(ch.context, [])
        if ch.sign == "+" and ch.line.startswith("no "):
            target = ch.line[3:]
            gone = [ln for ln in present if ln == target or ln.startswith(target + " ")]
            out += [Change("-", ch.context, ln) for ln in gone] or [ch]
            continue
        if ch.sign == "+" and _key(ch.line) != ch.line:
            out += [Change("-", ch.context, ln) for ln in present
                    if ln != ch.line and _key(ln) == _key(ch.line)]
        out.append(ch)
    return out


def render(changes: Iterable[Change]) -> str:
    """A unified-style diff: each context printed once, its removals before its additions."""
    groups: dict[Context, list[Change]] = {}
    for ch in changes:
        groups.setdefault(ch.context, []).append(ch)
    lines: list[str] = []
    shown: list[str] = []
    for ctx, items in groups.items():
        common = 0
        while common < min(len(ctx), len(shown)) and ctx[common] == shown[common]:
            common += 1
        for depth in range(common, len(ctx)):
            header = " " * depth + ctx[depth]
            if not lines or lines[-1][2:] != header:  # not just printed as added/removed
                lines.append("  " + header)
        shown = list(ctx)
        pad = " " * len(ctx)
        lines += [f"{ch.sign} {pad}{ch.line}" for ch in sorted(items, key=lambda c: c.sign != "-")]
    return "\n".join(lines)


_SECRETS = [re.compile(p, re.MULTILINE) for p in (
    r"^(\s*(?:enable )?password(?: \d+)?) \S+",
    r"^(\s*neighbor \S+ password) \S+",
    r"^(\s*ip ospf authentication-key) \S+",
    r"^(\s*ip ospf message-digest-key \d+ md5) \S+",
    r"^(\s*ipv6 ospf6 authentication key-id \d+ hash-algo \S+ key) \S+",
    r"^(\s*key-string) \S+",
    r"^(\s*(?:isis password|area-password|domain-password) (?:clear|md5)) \S+",
    r"^(\s*ip rip authentication string) \S+",
)]


def sanitize(text: str) -> str:
    """The config with passwords and keys replaced by `<removed>`."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\1 <removed>", text)
    return text
