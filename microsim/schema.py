"""Shared validation vocabulary: strict models, rates, money, and readable errors.

Takes: a resolved `Tree` and a pydantic model class. Gives: the validated model,
or an `InputError` whose message names the file that set the offending key,
the dotted key path, what was expected and what was found.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from microsim.errors import InputError
from microsim.yamltree import Tree, dotted


class Strict(BaseModel):
    """A model that refuses unknown keys and is immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _no_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, not true/false")
    return v


def _cap(v: Any) -> Any:
    """A cap may be written `none` (no cap) or `.inf`; both mean unlimited."""
    if v is None or (isinstance(v, str) and v.strip().lower() in {"none", "no cap", "unlimited"}):
        return math.inf
    return _no_bool(v)


Rate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False), BeforeValidator(_no_bool)]
"""A share or reimbursement rate in [0, 1]."""

MAX_MONEY = 1e12
"""The largest amount one value may hold: no income, bill, price or threshold of a person or
a rule comes near a trillion yuan, and below it float64 keeps every bill's conservation
check (0.01 yuan) exact (the spacing of float64 numbers at 1e12 is 1.2e-4 yuan)."""

Money = Annotated[float, Field(ge=0.0, le=MAX_MONEY, allow_inf_nan=False), BeforeValidator(_no_bool)]
"""A non-negative amount in yuan, at most MAX_MONEY."""

Cap = Annotated[float, Field(ge=0.0, allow_inf_nan=True), BeforeValidator(_cap)]
"""A non-negative cap in yuan; `none` or `.inf` for no cap."""

PositiveMoney = Annotated[float, Field(gt=0.0, le=MAX_MONEY, allow_inf_nan=False),
                          BeforeValidator(_no_bool)]
Share = Rate

M = TypeVar("M", bound=BaseModel)


def _describe(err: dict) -> str:
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        return "unknown key (check its spelling against the documentation)"
    if err.get("type") == "missing":
        return "required key is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg


def validate_tree(model: type[M], tree: Tree, what: str, max_errors: int = 5) -> M:
    """Validate a resolved tree; errors name the file that set each offending key."""
    try:
        return model.model_validate(tree.values)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        lines = []
        first_file = None
        for err in errors[:max_errors]:
            loc = tuple(str(p) for p in err["loc"] if not str(p).startswith("function-"))
            file = tree.file_of(loc)
            first_file = first_file or file
            text = f"{file}: key '{dotted(loc)}': {_describe(err)}"
            if err.get("type") not in {"missing"} and "input" in err and not isinstance(
                    err["input"], dict):
                text += f" (got {err['input']!r})"
            lines.append(text)
        more = len(errors) - max_errors
        if more > 0:
            lines.append(f"... and {more} more problem(s)")
        raise InputError(None, f"invalid {what}:\n  " + "\n  ".join(lines)) from None


def check(condition: bool, tree: Tree, path: tuple[str, ...], message: str) -> None:
    """A cross-field rule: raise an InputError at `path` when `condition` fails."""
    if not condition:
        raise InputError(tree.file_of(path), message, key=dotted(path))
