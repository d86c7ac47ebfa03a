"""Shared validation vocabulary: strict models, rates, money, and readable errors.

Takes: a resolved `Tree` and a pydantic model class. Gives: the validated model,
or an `InputError` whose message names the file that set the offending key,
the dotted key path, what was expected and what was found.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      model_validator)

from pydantic_core import PydanticCustomError

from microsim.errors import InputError
from microsim.yamltree import Tree, dotted


NO_CAP = ("none", "no cap", "unlimited")
"""The words that write a cap as no cap (any case), besides `.inf` and null."""


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


class Unbounded:
    """Marks a number that may be infinite (a cap written `none` or `.inf`: no cap). In the
    JSON Schema of the files (microsim/schemas.py) such a number may also be one of the
    NO_CAP words or null."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        number = handler(core_schema)
        words = "|".join(_any_case(w) for w in NO_CAP)
        return {"anyOf": [number, {"type": "string", "pattern": rf"^\s*({words})\s*$"},
                          {"type": "null"}]}


def _walk_types(annotation: Any):
    """Every type named in an annotation (through Annotated, unions, lists and dicts), with
    the Annotated metadata met on the way."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        yield None, meta
        yield from _walk_types(base)
    elif origin is not None:
        for arg in get_args(annotation):
            yield from _walk_types(arg)
    else:
        yield annotation, ()


def _number_field(annotation: Any) -> tuple[bool, bool]:
    """(takes a number, may be infinite) for a field's annotation."""
    number = unbounded = False
    for typ, meta in _walk_types(annotation):
        if typ in (int, float):
            number = True
        if any(isinstance(m, Unbounded) or m is Unbounded for m in meta):
            unbounded = True
    return number, unbounded


def _bools_in(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, bool) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, bool) for v in value.values())
    return False


def _not_finite(value: Any, unbounded: bool) -> float | None:
    """The first NaN (or infinity, unless `unbounded`) in a validated field value, else None."""
    if isinstance(value, float):
        if math.isnan(value) or (math.isinf(value) and not unbounded):
            return value
        return None
    if isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, dict):
        items = value.values()
    else:
        return None
    for v in items:
        bad = _not_finite(v, unbounded)
        if bad is not None:
            return bad
    return None


def _allows_none(annotation: Any) -> bool:
    """Whether a field's type takes None (`X | None`, `Optional[X]`, an `Any`)."""
    if annotation is Any or annotation is type(None):
        return True
    return any(_allows_none(a) for a in get_args(annotation)) if get_args(annotation) else False


class Strict(BaseModel):
    """A model that refuses unknown keys and is immutable once validated. In every model: a
    number is never written as true/false (`households: yes` is not 1), and no number a user
    writes is NaN or infinite (except a cap, where `none` or `.inf` means no cap). A string
    right below a field is its description: the JSON Schema of the files and the reference
    tables of the docs read it (microsim/schemas.py; read there, not at import, which it
    would slow down)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _null_takes_the_default(cls, data: Any) -> Any:
        """`key: null` on an optional section that cannot itself be null (a section with a
        default, such as a policy's `critical_illness`) removes it: the key reads as not
        written, so an inherited section is dropped and the default (none) applies. A required
        key stays required."""
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                key = info.alias or name
                if (key in data and data[key] is None and not info.is_required()
                        and not _allows_none(info.annotation)):
                    data = {k: v for k, v in data.items() if k != key}
        return data

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                key = info.alias or name
                if key in data and _number_field(info.annotation)[0] and _bools_in(data[key]):
                    raise PydanticCustomError("field_value", "{message}", {
                        "message": "expected a number, not true/false", "field": key})
        return data

    @model_validator(mode="after")
    def _finite_numbers(self):
        for name, info in type(self).model_fields.items():
            number, unbounded = _number_field(info.annotation)
            unbounded = unbounded or any(isinstance(m, Unbounded) for m in info.metadata)
            if not number:
                continue
            bad = _not_finite(getattr(self, name), unbounded)
            if bad is not None:
                raise PydanticCustomError("field_value", "{message}", {
                    "message": f"expected a finite number, not {bad!r}",
                    "field": info.alias or name})
        return self


def _no_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, not true/false")
    return v


def _cap(v: Any) -> Any:
    """A cap may be written `none` (no cap) or `.inf`; both mean unlimited."""
    if v is None or (isinstance(v, str) and v.strip().lower() in NO_CAP):
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

Cap = Annotated[float, Field(ge=0.0, allow_inf_nan=True), BeforeValidator(_cap), Unbounded()]
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
            if err.get("type") == "field_value":      # a model-wide rule about one field
                loc += (str(err["ctx"]["field"]),)
                err = {k: v for k, v in err.items() if k != "input"}
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
