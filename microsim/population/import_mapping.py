"""The column mapping of `microsim population import`: which survey column fills each schema column.

Takes: a mapping YAML file (format in docs/populations.md, "Importing survey microdata").
Gives: a `Mapping` of two `FileRules` (households, persons), each a `Rule` per column of the
microdata schema: a source column with an optional value map and scale, or a cited constant;
`chronic` may instead be a set of yes/no columns, one per bit flag. Every problem of the file
is an `InputError` naming the mapping file and the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from microsim import codes
from microsim.errors import InputError
from microsim.yamltree import read_yaml

MISSING = ("missing",)
"""The key of a missing value (an empty cell, a Stata missing value): written `~` in a map."""

# What each schema column holds: ("id",) a whole number >= 0; ("int", lo, hi); ("money",) a
# number >= 0; ("weight",) a number > 0; ("code", names); ("bool",).
ID, INT, MONEY, WEIGHT, CODE, BOOL = "id", "int", "money", "weight", "code", "bool"
HOUSEHOLD_TARGETS = {
    "hh_id": (ID,), "weight": (WEIGHT,), "region": (INT, 0, 2**31 - 1),
    "residence": (CODE, codes.RESIDENCE), "size": (INT, 1, 32767), "income": (MONEY,),
    "consumption": (MONEY,), "food": (MONEY,), "status": (CODE, codes.STATUS),
}
PERSON_TARGETS = {
    "person_id": (ID,), "hh_id": (ID,), "age": (INT, 0, 120), "sex": (CODE, codes.SEX),
    "scheme": (CODE, codes.SCHEME), "chronic": (INT, 0, (1 << len(codes.CHRONIC)) - 1),
    "disabled": (BOOL,), "supplementary": (BOOL,), "wage": (MONEY,),
}
OPTIONAL = {("households", "size")}     # derived from the persons when not mapped
SECTION_KEYS = {"encoding", "separator", "value_labels", "columns"}
RULE_KEYS = {"column", "map", "scale", "missing", "value", "source", "note"}


@dataclass(frozen=True)
class Rule:
    """How one schema column is filled: from `column` (through `values` and `scale`) or
    with the constant `constant` (cited by `source`)."""

    key: str                          # its key in the mapping: "persons.columns.sex"
    kind: tuple
    column: str | None = None
    values: dict | None = None        # normalised source value -> schema value
    scale: float = 1.0
    missing: object = None            # source value read in place of a missing cell
    constant: object = None
    source: str | None = None
    note: str | None = None

    @property
    def target(self) -> str:
        """The schema column it fills: "persons.sex", "persons.chronic.diabetes" for a flag."""
        return self.key.replace(".columns.", ".").replace(".flags.", ".")


@dataclass(frozen=True)
class FileRules:
    """The rules of one input file and how to read it."""

    name: str                         # "households" or "persons"
    rules: dict                       # schema column -> Rule, or (for chronic flags) dict
    encoding: str = "utf-8"
    separator: str = ","
    value_labels: bool = True

    def key_of(self, column: str) -> str:
        """The mapping key of the first rule that reads `column`."""
        for rule in self.rules.values():
            for r in rule.values() if isinstance(rule, dict) else [rule]:
                if r.column == column:
                    return r.key
        return self.name

    def columns(self) -> list[str]:
        """The source columns the rules read, in first-use order."""
        out: list[str] = []
        for rule in self.rules.values():
            for r in rule.values() if isinstance(rule, dict) else [rule]:
                if r.column is not None and r.column not in out:
                    out.append(r.column)
        return out


@dataclass(frozen=True)
class Mapping:
    path: Path
    text: str
    name: str
    households: FileRules
    persons: FileRules

    @property
    def size_from_persons(self) -> bool:
        return "size" not in self.households.rules


def normalise(value) -> tuple:
    """A source value as a map key: numbers compare as numbers (1, 1.0 and "1" alike, whole
    numbers exactly), text stripped, empty text, NaN and None as missing."""
    if value is None or value is MISSING:
        return MISSING
    try:
        if value != value:            # NaN; pandas' NA cannot be compared at all
            return MISSING
    except TypeError:
        return MISSING
    if isinstance(value, bool):
        return ("num", int(value))
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, int):
        return ("num", value)
    if isinstance(value, float):
        return ("num", int(value) if value.is_integer() else value)
    text = str(value).strip()
    if text == "":
        return MISSING
    try:
        return ("num", int(text))
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return ("str", text)
    if math.isnan(number):
        return ("str", text)
    return ("num", int(number) if number.is_integer() else number)


def describe_key(key: tuple) -> str:
    return "a missing value" if key == MISSING else repr(key[1])


def _target_value(path: Path, where: str, kind: tuple, value, what: str):
    """A schema value written in the mapping (a map's value or a constant), checked."""
    bad = None
    if kind[0] == CODE:
        if value in kind[1]:
            return kind[1].index(value)
        bad = f"{what} must be one of {list(kind[1])}"
    elif kind[0] == BOOL:
        if isinstance(value, bool):
            return value
        bad = f"{what} must be true or false"
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        bad = f"{what} must be a number"
    elif kind[0] in (ID, INT):
        lo, hi = (0, 2**63 - 1) if kind[0] == ID else kind[1:]
        if float(value).is_integer() and lo <= value <= hi:
            return int(value)
        bad = f"{what} must be a whole number in [{lo}, {hi}]"
    else:
        if math.isfinite(value) and (value > 0 if kind[0] == WEIGHT else value >= 0):
            return float(value)
        bad = f"{what} must be a finite number {'> 0' if kind[0] == WEIGHT else '>= 0'}"
    raise InputError(path, bad, key=where, value=value, has_value=True)


def _text(path: Path, where: str, value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, f"{what} must be non-empty text", key=where, value=value,
                         has_value=True)
    return value.strip()


def _rule(path: Path, where: str, kind: tuple, spec) -> Rule:
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise InputError(path, "expected a mapping such as {column: NAME} or {value: V, "
                         "source: ...}", key=where, value=spec, has_value=True)
    extra = sorted(set(spec) - RULE_KEYS)
    if extra:
        raise InputError(path, f"unknown key(s) {extra}; a column takes {sorted(RULE_KEYS)}",
                         key=where)
    note = None if spec.get("note") is None else _text(path, f"{where}.note", spec["note"], "note")
    if ("column" in spec) == ("value" in spec):
        raise InputError(path, "give either 'column:' (the source column) or 'value:' with "
                         "'source:' (a constant for a column the survey lacks)", key=where)
    if "value" in spec:
        for key in ("map", "scale", "missing"):
            if key in spec:
                raise InputError(path, f"'{key}' goes with 'column:', not with a constant",
                                 key=where)
        source = _text(path, f"{where}.source", spec.get("source"),
                       "a constant's source (a document, or 'assumption' with a note)")
        value = _target_value(path, f"{where}.value", kind, spec["value"], "the value")
        return Rule(where, kind, constant=value, source=source, note=note)
    column = _text(path, f"{where}.column", spec["column"], "the column name")
    if "source" in spec:
        raise InputError(path, "'source' goes with a constant 'value:'; describe a column "
                         "with 'note:'", key=where)
    values = None
    if "map" in spec:
        if not isinstance(spec["map"], dict) or not spec["map"]:
            raise InputError(path, "'map' must be a non-empty mapping of source values to "
                             "schema values", key=f"{where}.map")
        values = {}
        for raw, target in spec["map"].items():
            key_where = f"{where}.map.{raw}"
            if isinstance(raw, bool):
                raise InputError(path, "a YAML key read as true/false (yes, no, on, off are "
                                 "booleans in YAML): quote it, as in 'yes': ...", key=key_where)
            key = normalise(raw)
            if key in values:
                raise InputError(path, "two keys of the map stand for the same source value "
                                 "(1, 1.0 and '1' are one value)", key=key_where)
            values[key] = _target_value(path, key_where, kind, target, "a mapped value")
    scale = 1.0
    if "scale" in spec:
        if kind[0] not in (MONEY, WEIGHT):
            raise InputError(path, "'scale' applies to amounts and weights only (weight, "
                             "income, consumption, food, wage)", key=f"{where}.scale")
        scale = spec["scale"]
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or \
                not math.isfinite(scale) or scale <= 0:
            raise InputError(path, "'scale' must be a finite number > 0 (12 for monthly "
                             "amounts)", key=f"{where}.scale", value=scale, has_value=True)
        scale = float(scale)
    missing = spec.get("missing")
    if "missing" in spec and (missing is None or isinstance(missing, (dict, list))):
        raise InputError(path, "'missing' is the source value read in place of a missing cell "
                         "(a number or a label)", key=f"{where}.missing", value=missing,
                         has_value=True)
    return Rule(where, kind, column=column, values=values, scale=scale, missing=missing,
                note=note)


def _chronic(path: Path, where: str, spec) -> Rule | dict:
    if not (isinstance(spec, dict) and "flags" in spec):
        return _rule(path, where, PERSON_TARGETS["chronic"], spec)
    extra = sorted(set(spec) - {"flags", "note"})
    flags = spec["flags"]
    if extra or not isinstance(flags, dict):
        raise InputError(path, "chronic takes 'flags:', a mapping of each condition to a "
                         f"yes/no column (unexpected {extra})" if extra else
                         "'flags' must be a mapping of conditions to yes/no columns",
                         key=where)
    unknown = sorted(set(flags) - set(codes.CHRONIC))
    if unknown:
        raise InputError(path, f"unknown condition(s) {unknown}; the flags are "
                         f"{list(codes.CHRONIC)}", key=f"{where}.flags")
    missing = [c for c in codes.CHRONIC if c not in flags]
    if missing:
        raise InputError(path, f"every flag needs a rule; missing {missing} (a survey without "
                         "the question gives {value: false, source: ..., note: ...})",
                         key=f"{where}.flags")
    return {name: _rule(path, f"{where}.flags.{name}", (BOOL,), flags[name])
            for name in codes.CHRONIC}


def _section(path: Path, name: str, spec, targets: dict) -> FileRules:
    if not isinstance(spec, dict):
        raise InputError(path, "expected a mapping with 'columns:'", key=name)
    extra = sorted(set(spec) - SECTION_KEYS)
    if extra:
        raise InputError(path, f"unknown key(s) {extra}; a file section takes "
                         f"{sorted(SECTION_KEYS)}", key=name)
    columns = spec.get("columns")
    if not isinstance(columns, dict):
        raise InputError(path, "'columns' must map each schema column to its rule",
                         key=f"{name}.columns")
    unknown = sorted(set(columns) - set(targets))
    if unknown:
        raise InputError(path, f"not a column of the schema: {unknown}; {name} has "
                         f"{list(targets)}", key=f"{name}.columns")
    missing = [t for t in targets if t not in columns and (name, t) not in OPTIONAL]
    if missing:
        raise InputError(path, f"no rule for {missing}: every column of the schema needs a "
                         "source column or a cited constant", key=f"{name}.columns")
    rules = {}
    for target in targets:
        if target not in columns:
            continue
        where = f"{name}.columns.{target}"
        if target == "chronic":
            rules[target] = _chronic(path, where, columns[target])
        else:
            rules[target] = _rule(path, where, targets[target], columns[target])
    if name == "households" and "size" in rules and rules["size"].column is None:
        raise InputError(path, "size comes from a column (checked against the persons) or is "
                         "left out (counted from the persons); a constant is not allowed",
                         key=f"{name}.columns.size")
    for key in ("encoding", "separator"):
        if key in spec:
            _text(path, f"{name}.{key}", spec[key], key)
    if "value_labels" in spec and not isinstance(spec["value_labels"], bool):
        raise InputError(path, "value_labels must be true or false", key=f"{name}.value_labels",
                         value=spec["value_labels"], has_value=True)
    if "separator" in spec and len(spec["separator"]) != 1:
        raise InputError(path, "separator must be one character", key=f"{name}.separator",
                         value=spec["separator"], has_value=True)
    return FileRules(name, rules, spec.get("encoding", "utf-8"), spec.get("separator", ","),
                     spec.get("value_labels", True))


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file."""
    path = Path(path)
    data = read_yaml(path, "mapping file")
    extra = sorted(set(data) - {"name", "households", "persons"})
    if extra:
        raise InputError(path, f"unknown key(s) {extra}; a mapping has name, households and "
                         "persons")
    for section in ("households", "persons"):
        if section not in data:
            raise InputError(path, f"'{section}' is missing: a mapping gives the rules of "
                             "both files", key=section)
    name = _text(path, "name", data.get("name", path.stem), "name")
    text = path.read_bytes().decode("utf-8")
    return Mapping(path, text, name,
                   _section(path, "households", data["households"], HOUSEHOLD_TARGETS),
                   _section(path, "persons", data["persons"], PERSON_TARGETS))
