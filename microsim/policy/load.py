"""Loading policies: a policy file, its `inherits` chain and reform overlays, validated.

Takes: a policy YAML path and reform overlays (file paths, or mappings given from Python).
Gives: a `Policy` (the validated `PolicyFile`, the resolved tree with each value's source,
and the files it came from).

A reform overlay is a YAML file with a `name` and any of `remove:` (a list
of dotted key paths that must exist, such as `basic.urbmi`), `changes:` (a
tree of keys that must already exist in the policy, with new values) and
`add:` (a tree of keys that must not exist yet, such as a new benefit
section), applied in that order. Keys may be nested or dotted, and a number
in a dotted key indexes a list (`critical_illness.residents.bands.0.rate`).
A leaf under `changes:` may be a relative change, `{add: 0.05}` or
`{scale: 1.1}`, of the number the policy holds. An overlay that says
`applies_to:` (a policy file relative to the overlay, or a policy's `name`)
is refused on any other policy. The policy with the overlay applied is
validated as a whole, and an error names the overlay file and the key path.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field

from microsim.errors import InputError
from microsim.policy.schema import PolicyFile
from microsim.schema import Strict, validate_tree
from microsim.yamltree import (KeyPath, Source, Tree, _check_shape, drop_under, load_tree,
                               read_yaml, split_sources)


@dataclass(frozen=True)
class Policy:
    """A validated policy with its provenance."""

    data: PolicyFile
    tree: Tree
    files: tuple[Path, ...]        # the policy file, then each reform overlay file
    reform_names: tuple[str, ...]
    inline: tuple[dict, ...] = ()  # overlays given from Python, applied after the files

    @property
    def name(self) -> str:
        return self.data.name


@dataclass(frozen=True)
class InlineOverlay:
    """A reform overlay given as a mapping (from Python): `label` names it in errors
    (`reforms[0]`), and a relative `applies_to` is read from the folder `base`."""

    label: str
    data: Mapping
    base: Path


class OverlayHeader(Strict):
    """A reform overlay: what it changes in a policy, applied as `remove`, `changes`, then `add`;
    the policy it gives is validated as a whole."""

    name: str
    """The reform's name, as results and reports show it."""
    name_zh: str = ""
    """The reform's name in Chinese."""
    description: str = ""
    """What the reform changes and why."""
    applies_to: str | list[str] = ""
    """The policy or policies it is written for: a file path relative to the overlay, or a
    policy's `name`, or a list of either; on another policy it is refused. Empty: any policy."""
    remove: list[str] = Field(default_factory=list)
    """Dotted keys of mappings that must exist, removed first (such as `basic.urbmi`); not list
    items (give the whole list under `changes`)."""
    changes: dict = Field(default_factory=dict)
    """Keys that must already exist in the policy, with their new values, applied after `remove`.
    Keys may be nested or dotted, and a number in a dotted key indexes a list (from 0). A leaf
    may be a relative change of the number the policy holds: `{add: x}` adds, `{scale: x}`
    multiplies (with an optional `source` and `note`)."""
    add: dict = Field(default_factory=dict)
    """Keys that must not exist in the policy yet, with their values (such as a new benefit
    section), applied last. Keys may be nested or dotted; list items cannot be added."""


RELATIVE = ("add", "scale")


def _is_relative(node: Any) -> bool:
    """A relative change: {add: x} or {scale: x}, with an optional source, note and note_zh."""
    return (isinstance(node, dict) and bool(set(node) & set(RELATIVE))
            and set(node) <= {*RELATIVE, "source", "note", "note_zh"})


def _shown(path: KeyPath) -> str:
    return ".".join(path)


def _leaves(body: dict, okey: KeyPath = (), path: KeyPath = ()) -> Iterator[tuple]:
    """(overlay key path, policy key path, value) of each leaf of an overlay section; a
    dotted key stands for nested keys."""
    for key, value in body.items():
        here_o, here = okey + (str(key),), path + tuple(str(key).split("."))
        if isinstance(value, dict) and value and not _is_relative(value):
            yield from _leaves(value, here_o, here)
        else:
            yield here_o, here, value


def _find(values: Any, path: KeyPath) -> tuple[int | None, Any]:
    """(None, value) when `path` exists, else (depth of the first missing key, the node
    that lacks it); list items are addressed by index."""
    node = values
    for n, p in enumerate(path):
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isascii() and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            return n, node
    return None, node


def _why_missing(path: KeyPath, n: int, node: Any, add_hint: bool = False) -> str:
    """Why the policy has no `path`: the closest keys where it stops, a list too short, or a
    value where a mapping was needed."""
    prefix, key = path[:n], path[n]
    where = f"'{_shown(prefix)}'" if prefix else "the top level"
    if isinstance(node, dict):
        close = difflib.get_close_matches(key, [str(k) for k in node], n=3, cutoff=0.6)
        if close:
            return "did you mean " + " or ".join(
                f"'{_shown(prefix + (c,) + path[n + 1:])}'" for c in close) + "?"
        known = sorted(str(k) for k in node)
        more = f", ... ({len(known)} keys)" if len(known) > 12 else ""
        return (f"{where} has " + (", ".join(known[:12]) + more if known else "no keys")
                + ("; use 'add:' to add a new key" if add_hint else ""))
    if isinstance(node, list):
        if key.isascii() and key.isdigit():
            return (f"{where} is a list of {len(node)} item(s), so index {key} is past its end"
                    f" (the last is {len(node) - 1})" if node else f"{where} is an empty list")
        return f"{where} is a list: address its items by number (0 to {len(node) - 1})"
    return f"{where} is a value ({node!r}), not a mapping or a list"


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _relative_value(label: str, key: str, path: KeyPath, change: dict, current: Any) -> Any:
    """The number a relative change makes of `current`, in decimal arithmetic on the numbers
    as written (0.70 + 0.10 is 0.80, 300000 x 1.1 is 330000)."""
    if "add" in change and "scale" in change:
        raise InputError(label, "a relative change takes 'add:' or 'scale:', not both",
                         key=key, value=change, has_value=True)
    op = "add" if "add" in change else "scale"
    amount = change[op]
    if not _number(amount):
        raise InputError(label, f"'{op}:' takes a number", key=f"{key}.{op}", value=amount,
                         has_value=True)
    if not _number(current):
        raise InputError(label, f"'{op}:' changes a number, and the policy's "
                         f"'{_shown(path)}' is not one", key=key, value=current, has_value=True)
    a, b = Decimal(repr(current)), Decimal(repr(amount))
    result = a + b if op == "add" else a * b
    if isinstance(current, int) and result == result.to_integral_value():
        return int(result)
    return float(result)


def _set(values: Any, path: KeyPath, value: Any) -> None:
    parent = values
    for p in path[:-1]:
        parent = parent[int(p)] if isinstance(parent, list) else parent[p]
    if isinstance(parent, list):
        parent[int(path[-1])] = value
    else:
        parent[path[-1]] = value


def _provenance(tree: Tree, overlay: Tree, okey: KeyPath, path: KeyPath) -> None:
    """The sources and origins of the overlay's `okey` and below become those of `path`."""
    drop_under(tree.sources, path)
    drop_under(tree.origins, path)
    for k, v in overlay.sources.items():
        if k[: len(okey)] == okey:
            tree.sources[path + k[len(okey):]] = v
    for k, v in overlay.origins.items():
        if k[: len(okey)] == okey:
            tree.origins[path + k[len(okey):]] = v


def _remove(tree: Tree, label: str, dotted_path: str, i: int) -> None:
    path = tuple(dotted_path.split("."))
    n, node = _find(tree.values, path) if all(path) else (0, {})
    if n is not None:
        raise InputError(label, f"the policy has no key '{dotted_path}' to remove"
                         + (f": {_why_missing(path, n, node)}" if all(path) else ""),
                         key=f"remove.{i}")
    _, parent = _find(tree.values, path[:-1])
    if isinstance(parent, list):
        raise InputError(label, f"'remove:' takes keys, not items of a list: give the whole "
                         f"list '{_shown(path[:-1])}' under 'changes:'", key=f"remove.{i}")
    del parent[path[-1]]
    drop_under(tree.sources, path)
    drop_under(tree.origins, path)
    tree.origins[path[:-1]] = label


def _change(tree: Tree, overlay: Tree, label: str, okey: KeyPath, path: KeyPath,
            value: Any) -> None:
    key = "changes." + ".".join(okey)
    if not all(path):
        raise InputError(label, "a dotted key has an empty part", key=key)
    n, node = _find(tree.values, path)
    if n is not None:
        raise InputError(label, f"the policy has no key '{_shown(path)}' to change: "
                         f"{_why_missing(path, n, node, add_hint=True)}", key=key)
    okey = ("changes",) + okey
    if not _is_relative(value):
        _set(tree.values, path, copy.deepcopy(value))
        _provenance(tree, overlay, okey, path)
        return
    new = _relative_value(label, key, path, value, node)
    op = "add" if "add" in value else "scale"
    cited = value.get("source") or (overlay.sources.get(okey + (op,)) and
                                    overlay.sources[okey + (op,)].source)
    before = tree.sources.get(path)
    source = None                  # like a value written without a source
    if cited:
        source = Source(str(cited).strip(), value.get("note"), label, value.get("note_zh"))
    elif before is not None:       # the policy's source, with what the overlay did to it
        how = f"plus {value[op]!r}" if op == "add" else f"times {value[op]!r}"
        note = f"{before.note + ' ' if before.note else ''}[{how} by {label}]"
        how_zh = f"加 {value[op]!r}" if op == "add" else f"乘以 {value[op]!r}"
        note_zh = (f"{before.note_zh + ' ' if before.note_zh else ''}[由 `{label}` {how_zh}]"
                   if before.note_zh or not before.note else None)
        source = Source(before.source, note, label, note_zh)
    _set(tree.values, path, new)
    drop_under(tree.sources, path)
    drop_under(tree.origins, path)
    if source is not None:
        tree.sources[path] = source
    tree.origins[path] = label


def _add(tree: Tree, overlay: Tree, label: str, okey: KeyPath, path: KeyPath,
         value: Any) -> None:
    key = "add." + ".".join(okey)
    if not all(path):
        raise InputError(label, "a dotted key has an empty part", key=key)
    if _is_relative(value):
        raise InputError(label, "'add:' and 'scale:' change a value the policy holds: give them "
                         "under 'changes:'; under 'add:' give the new value", key=key)
    n, node = _find(tree.values, path)
    if n is None:
        raise InputError(label, f"the policy already has '{_shown(path)}'; use 'changes:' to "
                         "change it", key=key)
    if node is None and n > 0:          # a key the policy leaves empty (null) takes a mapping
        node = {}
        _set(tree.values, path[:n], node)
        tree.origins[path[:n]] = label  # which this overlay set: errors under it name the overlay
    if not isinstance(node, dict):
        raise InputError(label, f"cannot add '{_shown(path)}': {_why_missing(path, n, node)}",
                         key=key)
    for depth in range(n, len(path) - 1):
        node = node.setdefault(path[depth], {})
        tree.origins.setdefault(path[: depth + 1], label)
    node[path[-1]] = copy.deepcopy(value)
    _provenance(tree, overlay, ("add",) + okey, path)


def _policy_matches(target: str, base: Path, policy_path: Path, policy_name: str) -> bool:
    if target == policy_name:
        return True
    try:
        return (base / target).resolve() == policy_path.resolve()
    except (OSError, ValueError):
        return False


def _load_overlay(overlay: str | Path | InlineOverlay) -> tuple[Tree, str, Path]:
    """The overlay's tree, the name errors give it, and the folder its applies_to is read from."""
    if isinstance(overlay, InlineOverlay):
        label = overlay.label
        if not isinstance(overlay.data, Mapping):
            raise InputError(label, "a reform overlay given from Python is a mapping (dict)",
                             value=type(overlay.data).__name__, has_value=True)
        data = copy.deepcopy(dict(overlay.data))
        for k in data:
            if not isinstance(k, str):
                raise InputError(label, "keys must be text", value=k, has_value=True)
        _check_shape(Path(label), data)
        values, sources, origins = split_sources(data, label)
        return Tree(values, sources, origins, []), label, overlay.base
    path = Path(overlay)
    return load_tree(path, "reform overlay"), str(path), path.parent


def apply_overlay(tree: Tree, overlay_ref: str | Path | InlineOverlay,
                  policy_path: Path | None = None, when: str = "") -> str:
    """Apply one reform overlay to a resolved policy tree in place; return its name.
    `policy_path` is the policy file it is applied to (checked against `applies_to`), and
    `when` says which file of a schedule it is ("the 2024 file of the schedule")."""
    overlay, label, base = _load_overlay(overlay_ref)
    for key in overlay.values:
        if key not in OverlayHeader.model_fields:
            close = difflib.get_close_matches(key, list(OverlayHeader.model_fields), n=2)
            raise InputError(label, "not a key of a reform overlay ("
                             + ", ".join(OverlayHeader.model_fields) + ")"
                             + (f"; did you mean '{close[0]}'?" if close else ""), key=key)
    header = validate_tree(OverlayHeader, overlay, "reform overlay")
    targets = [header.applies_to] if isinstance(header.applies_to, str) else header.applies_to
    targets = [t for t in targets if t]
    if targets and policy_path is not None:
        name = str(tree.values.get("name", ""))
        if not any(_policy_matches(t, base, policy_path, name) for t in targets):
            written = targets[0] if len(targets) == 1 else "one of " + ", ".join(targets)
            raise InputError(label, f"this overlay is written for {written}, and is applied "
                             f"to {policy_path}{when} ('{name}'); apply it to the policy it "
                             "names, or change 'applies_to'", key="applies_to")
    if not (header.remove or header.changes or header.add):
        raise InputError(label, "a reform overlay needs 'remove:', 'changes:' or 'add:' "
                         "with at least one key", key="changes")
    for i, dotted_path in enumerate(header.remove):
        _remove(tree, label, dotted_path, i)
    for okey, path, value in list(_leaves(header.changes)):
        _change(tree, overlay, label, okey, path, value)
    for okey, path, value in list(_leaves(header.add)):
        _add(tree, overlay, label, okey, path, value)
    if not isinstance(overlay_ref, InlineOverlay):
        tree.files.append(label)
    return header.name


def is_overlay(path: str | Path) -> bool:
    """Whether a YAML file is a reform overlay (remove/changes/add, no benefit rules)."""
    data = read_yaml(path, "policy or reform overlay")
    return "basic" not in data and bool({"remove", "changes", "add"} & set(data))


def inline_overlays(reforms: Any, base: Path) -> tuple[InlineOverlay, ...]:
    """Reform overlays given from Python (a list of mappings), named reforms[0], reforms[1]..."""
    if reforms is None:
        return ()
    if isinstance(reforms, Mapping) or not isinstance(reforms, (list, tuple)):
        raise InputError("reforms", "give a list of reform overlays (each a mapping)",
                         value=type(reforms).__name__, has_value=True)
    return tuple(r if isinstance(r, InlineOverlay) else InlineOverlay(f"reforms[{i}]", r, base)
                 for i, r in enumerate(reforms))


def load_policy(path: str | Path, reforms: list | tuple = (), when: str = "") -> Policy:
    """Load a policy, apply reform overlays in order (files, then mappings given from
    Python: an `InlineOverlay` or a dict, named `reforms[i]`), and validate the result."""
    path = Path(path).resolve()
    tree = load_tree(path, "policy")
    files, inline, names = [], [], []
    for i, r in enumerate(reforms):
        if isinstance(r, Mapping):
            r = InlineOverlay(f"reforms[{i}]", r, Path.cwd())
        if isinstance(r, InlineOverlay):
            inline.append(copy.deepcopy(dict(r.data)) if isinstance(r.data, Mapping) else r.data)
        else:
            r = Path(r).resolve()
            files.append(r)
        names.append(apply_overlay(tree, r, path, when))
    data = validate_tree(PolicyFile, tree, "policy")
    return Policy(data, tree, (path,) + tuple(files), tuple(names), tuple(inline))
