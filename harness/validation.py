"""Checked models from YAML documents: a pydantic error becomes an `InputError` at the line and
field of the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Strict, ValidationError

from harness.errors import InputError
from harness.yamlsrc import Loc, field_name, line_at

M = TypeVar("M", bound=BaseModel)
PathText = Annotated[Path, Strict(False)]  # a path written as text, in a strict model


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (not one this file format has: a misspelling?)"
    return str(err["msg"]).removeprefix("Value error, ")


def validate(path: Path, doc: Any, model: type[M], at: Loc = (),
             context: dict[str, Any] | None = None) -> M:
    """`model` from the part of `doc` (the whole file) found at `at` (`context`: for the
    model's validators)."""
    part = doc
    for key in at:
        part = part[key]
    try:
        return model.model_validate(part, context=context)
    except ValidationError as exc:
        errors = exc.errors()  # an unknown key first: a misspelt one explains a missing one
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = (*at, *err["loc"])
        raise InputError(path, line_at(doc, loc), field_name(loc), _message(err)) from None
