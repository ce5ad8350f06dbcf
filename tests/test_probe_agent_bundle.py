"""The probe agent's modules travel to hosts without the harness: each must import only the
stdlib and the agent modules shipped before it (see `endpoints.AGENT_MODULES`)."""

from __future__ import annotations

import ast
import importlib.util
import sys

from harness.probes.endpoints import AGENT_MODULES


def _imports(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & set(AGENT_MODULES)
            found |= submodules or {node.module}
    return found


def test_agent_modules_need_only_the_stdlib_and_those_shipped_before() -> None:
    for i, module in enumerate(AGENT_MODULES):
        for name in _imports(module):
            top = name.partition(".")[0]
            assert name in AGENT_MODULES[:i] or (top != "harness" and
                                                  top in sys.stdlib_module_names), \
                f"{module} imports {name}"
