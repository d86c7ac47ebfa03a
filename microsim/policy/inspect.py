"""Inspecting policies: every resolved value with its source, and what one policy changes.

Takes: loaded `Policy` objects. Gives: `Leaf` rows (key path, value, source,
note, the file that set it) for every value of the validated policy,
including the schema's defaults for keys no file wrote, and `Change` rows
for the values in which two policies differ. `microsim policy show` and
`microsim policy diff` print these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microsim.policy.load import Policy
from microsim.yamltree import KeyPath, dotted

DEFAULT = "schema default"
DESCRIPTIVE = {("name",), ("name_zh",), ("description",)}   # words about the policy, not rules


@dataclass(frozen=True)
class Leaf:
    key: str
    value: Any
    source: str          # a document, a reference, "assumption", "" (none given) or DEFAULT
    note: str
    file: str            # the file that set the value ("" for a schema default)


@dataclass(frozen=True)
class Change:
    key: str
    before: Any          # None where the key is absent
    after: Any
    source: str
    note: str
    file: str


def _flatten(node: Any, path: KeyPath = ()) -> dict[KeyPath, Any]:
    """Key path -> value; mappings and lists of mappings are walked, other lists are values."""
    if isinstance(node, dict):
        out: dict[KeyPath, Any] = {}
        for k, v in node.items():
            out.update(_flatten(v, path + (str(k),)))
        return out if node else {path: {}}
    if isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        out = {}
        for i, v in enumerate(node):
            out.update(_flatten(v, path + (str(i),)))
        return out
    return {path: node}


def _values(policy: Policy) -> dict[KeyPath, Any]:
    """The validated policy as flat key paths, with YAML spellings (`from`, `none`)."""
    dumped = policy.data.model_dump(by_alias=True, mode="python")
    return {k: v for k, v in _flatten(dumped).items() if v not in ({}, [], None)}


def _provenance(policy: Policy, path: KeyPath) -> tuple[str, str, str]:
    """(source, note, file) of a key path: its own citation or the nearest enclosing one."""
    tree = policy.tree
    for n in range(len(path), 0, -1):
        src = tree.sources.get(path[:n])
        if src is not None:
            return src.source, src.note or "", src.file
    return "", "", tree.file_of(path)


def show_value(value: Any) -> str:
    """A value as a policy file would write it."""
    if isinstance(value, float):
        if math.isinf(value):
            return "none"
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.10g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


def _written(policy: Policy, path: KeyPath) -> bool:
    tree = policy.tree
    return any(k[:len(path)] == path for k in tree.origins)


def leaves(policy: Policy) -> list[Leaf]:
    """Every value of the resolved policy, in schema order, with its provenance."""
    out = []
    for path, value in _values(policy).items():
        if _written(policy, path):
            source, note, file = _provenance(policy, path)
        else:
            source, note, file = DEFAULT, "", ""
        out.append(Leaf(dotted(path), value, source, note, file))
    return out


def diff(before: Policy, after: Policy) -> list[Change]:
    """The values in which `after` differs from `before` (added, changed or removed)."""
    a, b = _values(before), _values(after)
    changes = []
    for path in list(b) + [p for p in a if p not in b]:
        old, new = a.get(path), b.get(path)
        if old == new or path in DESCRIPTIVE:
            continue
        if new is not None and _written(after, path):
            source, note, file = _provenance(after, path)
        elif new is not None:
            source, note, file = DEFAULT, "", ""
        else:
            source, note, file = "", "", ""
        changes.append(Change(dotted(path), old, new, source, note, file))
    return changes


def short_file(file: str, root: Path | None = None) -> str:
    """A file path relative to `root` (default: the working directory) when it is inside it."""
    if not file:
        return ""
    p = Path(file)
    try:
        return str(p.relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        return str(p)
