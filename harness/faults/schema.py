"""Each fault kind's parameters as JSON Schema (published inside the scenario schema), from
the kind's own dataclass: its fields, types and defaults, and its module's description."""

from __future__ import annotations

import dataclasses
import sys
import typing
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, create_model

from harness.faults.base import Fault
from harness.faults.registry import FAULTS


def summary(cls: type[Fault]) -> str:
    """The kind's description, on one line: its class docstring's first paragraph, else its
    module's (a dataclass without a docstring gets its signature as one: not a description)."""
    doc = cls.__doc__ or ""
    if not doc or doc.startswith(f"{cls.__name__}("):
        doc = sys.modules[cls.__module__].__doc__ or ""
    return " ".join(doc.split("\n\n")[0].split()).removeprefix(f"{cls.kind}: ")


def parameters(cls: type[Fault]) -> dict[str, tuple[Any, Any]]:
    """What a scenario file may give: each field but the harness's own, with (type, default)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in cls.internal:
            continue
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ...  # required
        out[f.name] = (hints[f.name], default)
    return out


def _documented(cls: type[Fault], name: str, hint: Any) -> Any:
    """A parameter's type with its description and example (from `param`) for the schema."""
    meta = next(f.metadata for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                if f.name == name)
    if "doc" not in meta:
        return hint
    return Annotated[hint, Field(description=meta["doc"], examples=[meta["example"]])]


def faults_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """One schema for a fault (any registered kind, told apart by `kind`) and its $defs."""
    models = [create_model(  # type: ignore[call-overload]
        cls.__name__, __config__=ConfigDict(extra="forbid", title=cls.kind),
        __doc__=summary(cls),
        kind=(Literal[cls.kind], Field(description="the fault kind", examples=[cls.kind])),
        **{name: (_documented(cls, name, hint), default)
           for name, (hint, default) in parameters(cls).items()})
        for cls in FAULTS.values()]
    union: Any = Annotated[typing.Union[tuple(models)], Field(discriminator="kind")]  # noqa: UP007
    schema = TypeAdapter(union).json_schema(ref_template="#/$defs/{model}")
    return schema, schema.pop("$defs", {})
