"""Loading policies: a policy file, its `inherits` chain and reform overlays, validated.

Takes: a policy YAML path and reform overlay paths. Gives: a `Policy` (the
validated `PolicyFile`, the resolved tree with each value's source, and the
files it came from).

A reform overlay is a YAML file with a `name` and any of `remove:` (a list
of dotted key paths that must exist, such as `basic.urbmi`), `changes:` (a
tree of keys that must already exist in the policy, with new values) and
`add:` (a tree of keys that must not exist yet, such as a new benefit
section), applied in that order. The policy with the overlay applied is
validated as a whole, and an error names the overlay file and the key path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from microsim.errors import InputError
from microsim.policy.schema import PolicyFile
from microsim.schema import Strict, validate_tree
from microsim.yamltree import (Tree, dotted, drop_under, get_path, load_tree, merge_into,
                               read_yaml)


@dataclass(frozen=True)
class Policy:
    """A validated policy with its provenance."""

    data: PolicyFile
    tree: Tree
    files: tuple[Path, ...]        # the policy file, then each reform overlay
    reform_names: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.data.name


class OverlayHeader(Strict):
    name: str
    name_zh: str = ""
    description: str = ""
    applies_to: str = ""          # the policy the overlay was written for (relative path)
    remove: list[str] = Field(default_factory=list)
    changes: dict = Field(default_factory=dict)
    add: dict = Field(default_factory=dict)


def _walk(node: dict, path=()):
    for key, value in node.items():
        here = path + (key,)
        if isinstance(value, dict) and value:
            yield from _walk(value, here)
        else:
            yield here


def _exists(tree: dict, path: tuple[str, ...]) -> bool:
    node = tree
    for p in path:
        if not isinstance(node, dict) or p not in node:
            return False
        node = node[p]
    return True


def _remove(tree: Tree, overlay_path: Path, dotted_path: str, i: int) -> None:
    path = tuple(dotted_path.split("."))
    if not _exists(tree.values, path) or not all(path):
        raise InputError(overlay_path, f"the policy has no key '{dotted_path}' to remove",
                         key=f"remove.{i}")
    del get_path(tree.values, path[:-1])[path[-1]]
    drop_under(tree.sources, path)
    drop_under(tree.origins, path)
    tree.origins[path[:-1]] = str(overlay_path)


def apply_overlay(tree: Tree, overlay_path: Path) -> str:
    """Apply one reform overlay to a resolved policy tree in place; return its name."""
    overlay = load_tree(overlay_path, "reform overlay")
    header = validate_tree(OverlayHeader, overlay, "reform overlay")
    if not (header.remove or header.changes or header.add):
        raise InputError(overlay_path, "a reform overlay needs 'remove:', 'changes:' or 'add:' "
                         "with at least one key", key="changes")
    for i, dotted_path in enumerate(header.remove):
        _remove(tree, overlay_path, dotted_path, i)
    for section in ("changes", "add"):
        body = getattr(header, section)
        for path in _walk(body):
            # A dict value under 'changes' may replace a whole subtree; check its top.
            present = _exists(tree.values, path)
            if section == "changes" and not present:
                parent = next((path[:n] for n in range(len(path), 0, -1)
                               if _exists(tree.values, path[:n])), ())
                raise InputError(overlay_path, f"the policy has no key '{dotted(path)}' to "
                                 f"change (it has '{dotted(parent)}'); use 'add:' to add a new "
                                 "key", key=f"changes.{dotted(path)}")
            if section == "add" and present:
                raise InputError(overlay_path, f"the policy already has '{dotted(path)}'; use "
                                 "'changes:' to change it", key=f"add.{dotted(path)}")
        sources = {k[1:]: v for k, v in overlay.sources.items() if k[:1] == (section,)}
        origins = {k[1:]: v for k, v in overlay.origins.items() if k[:1] == (section,)}
        merge_into(tree, body, sources, origins)
    tree.files.append(str(overlay_path))
    return header.name


def is_overlay(path: str | Path) -> bool:
    """Whether a YAML file is a reform overlay (remove/changes/add, no benefit rules)."""
    data = read_yaml(path, "policy or reform overlay")
    return "basic" not in data and bool({"remove", "changes", "add"} & set(data))


def load_policy(path: str | Path, reforms: list[str | Path] | tuple = ()) -> Policy:
    """Load a policy, apply reform overlays in order, and validate the result."""
    path = Path(path).resolve()
    tree = load_tree(path, "policy")
    names = tuple(apply_overlay(tree, Path(r).resolve()) for r in reforms)
    data = validate_tree(PolicyFile, tree, "policy")
    return Policy(data, tree, (path,) + tuple(Path(r).resolve() for r in reforms), names)
