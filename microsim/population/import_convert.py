"""One chunk of a survey file turned into schema columns by the mapping's rules.

Takes: a pandas DataFrame chunk, its first row in the file, and the `FileRules` of the
mapping. Gives: `convert_chunk`, a dict of numpy arrays in the dtypes of the microdata schema
(`chronic` built from its flags), or an `InputError` naming the source file, the source column,
the row (0-based, the header not counted) and the value: a value with no entry in the map, a
missing value, text where a number belongs, a number outside the column's range.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from microsim.errors import InputError
from microsim.population.import_mapping import (BOOL, CODE, ID, INT, MISSING, MONEY, WEIGHT,
                                                FileRules, Rule, describe_key, normalise)
from microsim.population.microdata import HOUSEHOLD_SCHEMA, PERSON_SCHEMA

DTYPES = {**{f.name: f.type.to_pandas_dtype() for f in HOUSEHOLD_SCHEMA},
          **{f.name: f.type.to_pandas_dtype() for f in PERSON_SCHEMA}}


class _Bad(Exception):
    """A source value a rule cannot convert; the message says why."""


def _convert_one(value, rule: Rule):
    """One distinct source value as the schema value of `rule`, or _Bad."""
    key = normalise(value)
    if key == MISSING and rule.missing is not None:
        key = normalise(rule.missing)
    if rule.values is not None:
        if key in rule.values:
            return rule.values[key]
        raise _Bad(f"{describe_key(key)} has no entry in {rule.key}.map of the mapping; "
                   "add it "
                   "(`~:` maps missing values, or give `missing:`)")
    if key == MISSING:
        raise _Bad(f"missing value: {rule.target} needs one in every row (give `missing:` "
                   "to read missing cells as a value)")
    kind = rule.kind[0]
    if kind == CODE:
        if key[0] == "str" and key[1] in rule.kind[1]:
            return rule.kind[1].index(key[1])
        raise _Bad(f"no code of {rule.target} is written {key[1]!r}; give a `map:` to the "
                   f"names {list(rule.kind[1])}")
    if kind == BOOL:
        if key in (("num", 0), ("num", 1)):
            return bool(key[1])
        raise _Bad(f"{rule.target} takes 0 or 1 unless a `map:` says which values are "
                   "true and false")
    if key[0] != "num":
        raise _Bad(f"not a number; {rule.target} needs "
                   f"{'a whole number' if kind in (ID, INT) else 'a number'}")
    if kind in (ID, INT) and not isinstance(key[1], int):
        raise _Bad(f"not a whole number; {rule.target} needs one")
    if kind in (ID, INT) and not -2**63 <= key[1] < 2**63:
        raise _Bad(f"{rule.target} is too large for a 64-bit integer")
    return key[1]


def _first_row(codes: np.ndarray, indexes) -> int:
    return int(min(np.argmax(codes == i) for i in indexes))


def _from_column(series: pd.Series, rule: Rule, where: Path, offset: int) -> np.ndarray:
    """The schema values of one source column (before range checks)."""
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and \
        not isinstance(series.dtype, pd.CategoricalDtype) and not pd.api.types.is_bool_dtype(series.dtype)
    if numeric and rule.values is None and rule.missing is None and \
            rule.kind[0] in (ID, INT, MONEY, WEIGHT):
        whole = series.dtype.kind in "iu" and not series.hasnans
        values = series.to_numpy(dtype=np.int64) if whole and rule.kind[0] in (ID, INT) \
            else series.to_numpy(dtype=np.float64, na_value=np.nan)
        if values.dtype.kind == "f":
            missing = np.isnan(values)
            if missing.any():
                row = int(np.argmax(missing))
                raise InputError(where, f"missing value: {rule.target} needs one in every row "
                                 "(give `missing:` to read missing cells as a value)",
                                 key=rule.column, row=offset + row)
            if rule.kind[0] in (ID, INT):
                whole = np.isfinite(values) & (values == np.floor(values)) & \
                    (np.abs(values) < 2.0 ** 53)
                if not whole.all():
                    row = int(np.argmax(~whole))
                    raise InputError(where, f"not a whole number; {rule.target} needs one",
                                     key=rule.column, row=offset + row,
                                     value=values[row].item(), has_value=True)
                values = values.astype(np.int64)
        return values
    if rule.values is None and rule.missing is None and rule.kind[0] in (ID, INT, MONEY, WEIGHT):
        values = _numbers_in_text(series, rule.kind[0])
        if values is not None:
            return values
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    converted, bad = [], {}
    for i, value in enumerate(uniques):
        try:
            converted.append(_convert_one(value, rule))
        except _Bad as exc:
            bad[i] = (value, str(exc))
            converted.append(None)
    if (codes < 0).any():      # missing values factorize to -1
        try:
            missing_value = _convert_one(None, rule)
        except _Bad as exc:
            bad[-1] = (None, str(exc))
            missing_value = None
    if bad:
        row = _first_row(codes, bad)
        i = int(codes[row])
        value, message = bad[i]
        raise InputError(where, message, key=rule.column, row=offset + row,
                         value=None if value is None else _plain(value),
                         has_value=value is not None)
    table = converted + ([missing_value] if (codes < 0).any() else [])
    if rule.kind[0] in (ID, INT, CODE):
        lookup = np.array(table or [0], dtype=np.int64)
    elif rule.kind[0] == BOOL:
        lookup = np.array(table or [False], dtype=bool)
    else:
        lookup = np.array([float(v) for v in table] or [0.0], dtype=np.float64)
    return lookup[codes]      # index -1 is the missing value's entry, appended last


def _numbers_in_text(series: pd.Series, kind: str) -> np.ndarray | None:
    """A text column of clean numbers converted at once (ids and amounts of CSV files), or
    None when any cell needs the value-by-value path that names what is wrong with it."""
    try:
        numbers = pd.to_numeric(series, errors="raise").to_numpy()
    except (ValueError, TypeError, OverflowError):
        return None
    if kind in (ID, INT):
        return numbers.astype(np.int64) if numbers.dtype.kind == "i" else None
    if numbers.dtype.kind not in "iuf" or np.isnan(numbers.astype(np.float64)).any():
        return None
    return numbers.astype(np.float64)


def _plain(value):
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def _check_range(values: np.ndarray, rule: Rule, series: pd.Series | None, where: Path,
                 offset: int) -> None:
    kind = rule.kind[0]
    if kind in (CODE, BOOL):
        return
    if kind == ID:
        bad, message = values < 0, f"{rule.target} must be a whole number >= 0"
    elif kind == INT:
        lo, hi = rule.kind[1:]
        bad, message = (values < lo) | (values > hi), f"{rule.target} must lie in [{lo}, {hi}]"
    elif kind == WEIGHT:
        bad, message = ~np.isfinite(values) | (values <= 0), f"{rule.target} must be a " \
            "finite number > 0"
    else:
        bad, message = ~np.isfinite(values) | (values < 0), f"{rule.target} must be a " \
            "finite number >= 0"
    if bad.any():
        row = int(np.argmax(bad))
        value = _plain(series.iloc[row]) if series is not None else _plain(values[row])
        scaled = f" (after scale {rule.scale:g}: {values[row]:g})" if rule.scale != 1.0 else ""
        raise InputError(where, message + scaled, key=rule.column, row=offset + row,
                         value=value, has_value=True)


def convert_rule(chunk: pd.DataFrame, rule: Rule, where: Path, offset: int) -> np.ndarray:
    """The values of one rule over a chunk, in its schema dtype (int64 for integers)."""
    n = len(chunk)
    if rule.column is None:
        dtype = bool if rule.kind[0] == BOOL else \
            np.float64 if rule.kind[0] in (MONEY, WEIGHT) else np.int64
        return np.full(n, rule.constant, dtype=dtype)
    series = chunk[rule.column]
    values = _from_column(series, rule, where, offset)
    if rule.scale != 1.0:
        values = values * rule.scale
    _check_range(values, rule, series, where, offset)
    return values


def convert_chunk(chunk: pd.DataFrame, rules: FileRules, where: Path, offset: int) -> dict:
    """Every schema column of a chunk, in its schema dtype."""
    out = {}
    for target, rule in rules.rules.items():
        if isinstance(rule, dict):     # chronic from yes/no flags: bit i for flag i
            flags = np.zeros(len(chunk), np.uint8)
            for bit, flag in enumerate(rule.values()):
                flags |= convert_rule(chunk, flag, where, offset).astype(np.uint8) << bit
            out[target] = flags
        else:
            out[target] = convert_rule(chunk, rule, where, offset).astype(DTYPES[target])
    return out


def check_weighted(cols: dict, where: Path, offset: int, rules: FileRules) -> None:
    """A household's weight and weight x amount must fit the results' exact sums (the limits
    `check_microdata` applies), named here by the source row."""
    from microsim.population.microdata import MAX_WEIGHT, MAX_WEIGHTED_AMOUNT
    weight = cols["weight"]
    heavy = weight > MAX_WEIGHT
    if heavy.any():
        row = int(np.argmax(heavy))
        raise InputError(where, f"a household stands for at most {MAX_WEIGHT:.0e} households",
                         key=rules.rules["weight"].column or "weight", row=offset + row,
                         value=float(weight[row]), has_value=True)
    for name in ("income", "consumption", "food"):
        with np.errstate(over="ignore", invalid="ignore"):
            bad = weight * cols[name] >= MAX_WEIGHTED_AMOUNT
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(where, f"weight x {name} is {weight[row] * cols[name][row]:.4g} "
                             f"yuan; it must stay below {MAX_WEIGHTED_AMOUNT:.4g} (the range in "
                             "which results are summed exactly): check the weight and the amount",
                             key=rules.rules[name].column or name, row=offset + row,
                             value=float(cols[name][row]), has_value=True)

