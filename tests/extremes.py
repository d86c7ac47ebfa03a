"""Extreme but valid inputs for tests: policies with every rate 0 or 1 or every cap 0, files that
inherit shipped ones, and the checks every result must pass (finite, or NaN with a reason).

- `extreme_policy(path, kind)`: the resolved policy with every rate set to 0 (`rates0`) or 1
  (`rates1`), or every cap, deductible and threshold set to 0 (`caps0`: a cap may not be
  below the deductible it follows), validated as a `Policy`.
- `write_inheriting(path, changes, folder, name)`: a YAML file that `inherits` a shipped file
  and overrides only what `changes` (a transformed copy of its values) changes.
- `assert_finite_or_explained(values, reasons)` / `assert_dataset_finite_or_explained(ds)`:
  no infinity anywhere, and every NaN comes with a reason (`reasons[name]`, or the
  variable's `nan_reason` attribute).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xarray as xr
import yaml

from microsim.policy.load import Policy, load_policy
from microsim.policy.schema import PolicyFile
from microsim.yamltree import Tree

RATE_KEYS = {"rate", "rate_cut", "rate_bonus", "share", "share_of_base", "employer_rate",
             "employee_rate", "account_share_of_employee"}
FLOOR_KEYS = {"deductible", "threshold", "repeat_deductible"}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def transform(node: Any, fn: Callable[[tuple, float], float], path: tuple = ()) -> Any:
    """A copy of a tree with fn(key path, value) applied to every number, and to every cap
    written `none` as an infinite number that stays `none` unless fn changes it (list items
    keep their list's key path)."""
    if isinstance(node, dict):
        return {k: transform(v, fn, path + (k,)) for k, v in node.items()}
    if isinstance(node, list):
        return [transform(v, fn, path) for v in node]
    if node == "none" and _is_cap_or_floor(path):
        out = fn(path, float("inf"))
        return node if out == float("inf") else out
    return fn(path, node) if _number(node) else node


def _is_rate(path: tuple) -> bool:
    return bool(path) and (path[-1] in RATE_KEYS or (len(path) > 1 and path[-2] == "rate"))


def _is_cap_or_floor(path: tuple) -> bool:
    return any("cap" in k for k in path) or any(k in FLOOR_KEYS for k in path)


KINDS: dict[str, Callable[[tuple, float], float]] = {
    "rates0": lambda p, v: 0.0 if _is_rate(p) else v,
    "rates1": lambda p, v: 1.0 if _is_rate(p) else v,
    "caps0": lambda p, v: 0.0 if _is_cap_or_floor(p) else v,
}


def extreme_values(path: str | Path, kind: str) -> dict:
    return transform(copy.deepcopy(load_policy(path).tree.values), KINDS[kind])


def extreme_policy(path: str | Path, kind: str) -> Policy:
    values = extreme_values(path, kind)
    return Policy(PolicyFile.model_validate(values), Tree(values), (Path(path),), ())


def _changes(old: Any, new: Any) -> Any:
    """The part of `new` that differs from `old` (mappings compared key by key)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = {}
        for k, v in new.items():
            if k not in old:
                out[k] = v
            elif v != old[k]:
                out[k] = _changes(old[k], v)
        return out
    return new


def write_inheriting(base: str | Path, new_values: dict, folder: Path, name: str,
                     old_values: dict | None = None) -> Path:
    """A file in `folder` that inherits `base` and overrides what differs in `new_values`."""
    base = Path(base).resolve()
    if old_values is None:
        with open(base, encoding="utf-8") as fh:
            old_values = yaml.safe_load(fh)
    doc = {"inherits": str(base), **_changes(old_values, new_values)}
    path = folder / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_extreme_policy(base: str | Path, kind: str, folder: Path) -> Path:
    """An inheriting policy file: `base` with every rate 0 or 1, or every cap 0."""
    old = load_policy(base).tree.values
    new = transform(copy.deepcopy(old), KINDS[kind])
    new["name"] = f"{old['name']} ({kind})"
    return write_inheriting(base, new, folder, f"{Path(base).stem}_{kind}.yaml", old)


def assert_finite_or_explained(values: dict[str, np.ndarray], reasons: dict[str, set]) -> None:
    for name, v in values.items():
        v = np.asarray(v, dtype=np.float64)
        assert not np.isinf(v).any(), f"{name} is infinite"
        if np.isnan(v).any():
            assert reasons.get(name), f"{name} is NaN without a reason"


def assert_dataset_finite_or_explained(ds: xr.Dataset) -> None:
    for name in ds.data_vars:
        v = ds[name].values
        assert not np.isinf(v).any(), f"{name} is infinite"
        if np.isnan(v).any():
            assert ds[name].attrs.get("nan_reason", "").startswith("NaN where"), \
                f"{name} is NaN without a nan_reason"
