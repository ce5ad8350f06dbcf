"""Device state before and after a run, compared: what is not as it was."""

from __future__ import annotations

from harness.network import Snapshot


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs, one line each ('-' before only, '+' after only)."""
    out = []
    for node in sorted(set(before) | set(after)):
        old_parts, new_parts = before.get(node, {}), after.get(node, {})
        for part in sorted(set(old_parts) | set(new_parts)):
            old, new = set(old_parts.get(part, [])), set(new_parts.get(part, []))
            out += [f"{node} {part}: - {line}" for line in sorted(old - new)]
            out += [f"{node} {part}: + {line}" for line in sorted(new - old)]
    return out
