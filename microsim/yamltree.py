"""YAML trees with cited leaves, inheritance and overlays, shared by every input file.

Takes: a YAML file path. Gives: a plain nested tree of values, a map from each
leaf's key path to its source, and a map from each leaf's key path to the file
that set it, so that validation errors name the right file.

A leaf may carry its source: ``{value: 0.75, source: "002_cbf7479a4f5920d8.txt",
note: "..."}``. A file may say ``inherits: other.yaml`` (relative to itself) and
override what differs; an overlay changes keys of a resolved tree and must name
keys that the schema knows.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from microsim.errors import InputError
from microsim.paths import kind, regular_file, resolve

KeyPath = tuple[str, ...]
SOURCED_KEYS = {"value", "source", "note", "note_zh"}


@dataclass(frozen=True)
class Source:
    """Where one value comes from: a document, a reference line, or an assumption."""

    source: str
    note: str | None
    file: str
    note_zh: str | None = None     # the note in Chinese, for the Chinese report


@dataclass
class Tree:
    """A resolved YAML tree with the provenance of each leaf."""

    values: dict[str, Any]
    sources: dict[KeyPath, Source] = field(default_factory=dict)
    origins: dict[KeyPath, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def file_of(self, path: KeyPath) -> str:
        """The file that last set `path` or a key under it, else the one that set the
        nearest enclosing key (a rule across keys names the file that changed them last)."""
        order = {f: i for i, f in enumerate(self.files)}
        under = [origin for key, origin in self.origins.items()
                 if key[: len(path)] == path and origin]
        if under:
            return max(under, key=lambda f: order.get(f, -1))
        for n in range(len(path) - 1, -1, -1):
            hit = self.origins.get(path[:n])
            if hit:
                return hit
        return self.files[-1] if self.files else "<input>"


def dotted(path: KeyPath | tuple) -> str:
    """A key path as users write it: basic.urrbmi.inpatient.rate.primary."""
    return ".".join(str(p) for p in path) if path else "<top>"


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: 10x faster


class _UniqueKeyLoader(_BaseLoader):
    """A YAML loader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # '<<: *anchor' merges; keys written beside it override merged ones
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be text, not a list or mapping (a complex key '? ...')",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen[key] = key_node
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)


def read_yaml(path: str | Path, what: str = "file") -> dict[str, Any]:
    """Parse one YAML file whose top level is a mapping, with errors that name the line."""
    path = Path(path)
    if "\x00" in str(path):
        raise InputError(path, f"{what} is not a usable path (a NUL byte)")
    regular_file(path, what)       # a FIFO, device or folder is refused before it is opened
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"{what} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, f"{what} cannot be read: {exc.strerror}") from None
    try:
        data = _load_bounded(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(path, f"not valid YAML: {where}{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise InputError(path, "not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(path, f"a {what} must be a YAML mapping at the top level",
                         value=type(data).__name__, has_value=True)
    for key in data:
        if not isinstance(key, str):
            raise InputError(path, "keys must be text", value=key, has_value=True)
    _check_shape(path, data)
    return data


MAX_DEPTH = 64
MAX_VALUES = 200_000
"""The most values (mappings, lists and scalars, each alias counted as what it stands for) a
YAML file may expand to: the largest shipped policy or spec has a few thousand, and an alias
bomb (anchors nested in anchors) is refused before any of it is built or walked."""


def _load_bounded(path: Path, text: str) -> Any:
    """Parse `text` into a node graph, refuse it if its aliases expand beyond MAX_VALUES values
    or into themselves, then build the Python values (PyYAML's safe constructors)."""
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(path, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(path: Path, root: yaml.Node) -> None:
    """Count the values of the node graph as aliases expand it, in time proportional to its
    distinct nodes (each node's expanded size is computed once), and refuse expansion beyond
    MAX_VALUES. An alias inside its own value is left to `_check_shape`, which names its key."""
    size: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_stack.discard(key)
            total = 1 + sum(size.get(id(c), 0) for c in _children(node))
            size[key] = total
            if total > MAX_VALUES:
                raise InputError(path, f"YAML aliases (*name) expand this file to more than "
                                 f"{MAX_VALUES:,} values (from line {node.start_mark.line + 1}); "
                                 "write the values out, or use fewer nested aliases")
            continue
        if key in size or key in on_stack:
            continue
        on_stack.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size and id(c) not in on_stack)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_shape(file: Path, node: Any, path: KeyPath = (), open_: set[int] | None = None) -> None:
    """Refuse values nested deeper than MAX_DEPTH and containers that contain themselves
    (through YAML aliases), which no loader can walk to the end."""
    if isinstance(node, str) and "\x00" in node:
        raise InputError(file, "a NUL character (\\0) is not allowed in a value",
                         key=dotted(path))
    if not isinstance(node, (dict, list)):
        return
    if len(path) > MAX_DEPTH:
        raise InputError(file, f"nested more than {MAX_DEPTH} levels deep", key=dotted(path))
    open_ = set() if open_ is None else open_
    if id(node) in open_:
        raise InputError(file, "a YAML alias (*name) refers to a mapping or list that contains "
                         "it, so the value never ends", key=dotted(path))
    open_.add(id(node))
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        if isinstance(key, str) and "\x00" in key:
            raise InputError(file, "a NUL character (\\0) is not allowed in a key",
                             key=dotted(path + (key.replace("\x00", "\\0"),)))
        _check_shape(file, child, path + (str(key),), open_)
    open_.discard(id(node))


def _is_sourced_leaf(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and set(node) <= SOURCED_KEYS


def split_sources(node: Any, file: str, path: KeyPath = ()) -> tuple[Any, dict, dict]:
    """Replace sourced leaves by their values; return (values, sources, origins)."""
    sources: dict[KeyPath, Source] = {}
    origins: dict[KeyPath, str] = {}
    if _is_sourced_leaf(node):
        if "source" not in node or not isinstance(node["source"], str) or not node["source"].strip():
            raise InputError(file, "a value with 'value:' must also say 'source:' (a document, "
                             "a reference, or 'assumption' with a note)", key=dotted(path))
        note, note_zh = node.get("note"), node.get("note_zh")
        for name, text in (("note", note), ("note_zh", note_zh)):
            if text is not None and not isinstance(text, str):
                raise InputError(file, f"'{name}' must be text", key=dotted(path))
        sources[path] = Source(node["source"].strip(), note, file, note_zh)
        origins[path] = file
        value, inner_sources, inner_origins = split_sources(node["value"], file, path)
        sources.update({k: v for k, v in inner_sources.items() if k not in sources})
        origins.update(inner_origins)
        return value, sources, origins
    if isinstance(node, dict):
        if "value" in node and set(node) - SOURCED_KEYS and "source" in node:
            extra = sorted(set(node) - SOURCED_KEYS)
            raise InputError(file, f"a cited value takes only value, source, note and note_zh; "
                             f"unexpected {extra}", key=dotted(path))
        out = {}
        for key, child in node.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise InputError(file, "keys must be text or integers", key=dotted(path),
                                 value=key, has_value=True)
            value, s, o = split_sources(child, file, path + (str(key),))
            out[str(key)] = value
            sources.update(s)
            origins.update(o)
        origins.setdefault(path, file)
        return out, sources, origins
    if isinstance(node, list):
        out_list = []
        for i, child in enumerate(node):
            value, s, o = split_sources(child, file, path + (str(i),))
            out_list.append(value)
            sources.update(s)
            origins.update(o)
        origins[path] = file
        return out_list, sources, origins
    origins[path] = file
    return node, sources, origins


def drop_under(mapping: dict[KeyPath, Any], path: KeyPath) -> None:
    """Forget the provenance of `path` and of every key under it."""
    for key in [k for k in mapping if k[: len(path)] == path]:
        del mapping[key]


def merge_into(base: Tree, over: dict, over_sources: dict, over_origins: dict,
               path: KeyPath = ()) -> None:
    """Deep-merge `over` into `base` in place: mappings merge, everything else replaces."""
    target = base.values
    for p in path:
        target = target[p]
    for key, value in over.items():
        here = path + (key,)
        if isinstance(value, dict) and isinstance(target.get(key), dict) and value:
            merge_into(base, value, over_sources, over_origins, here)
            continue
        target[key] = copy.deepcopy(value)
        drop_under(base.sources, here)
        drop_under(base.origins, here)
        for k, v in over_sources.items():
            if k[: len(here)] == here:
                base.sources[k] = v
        for k, v in over_origins.items():
            if k[: len(here)] == here:
                base.origins[k] = v
    base.origins[path] = base.origins.get(path) or next(iter(over_origins.values()), "")


MAX_INHERITS = 16
"""The most files one `inherits` chain may hold (the shipped chains hold at most four)."""


class _ChainTooLong(InputError):
    """An `inherits` chain beyond MAX_INHERITS: one message, passed up unchanged."""


COUNT_INHERITS = 10_000
"""How far a chain too long to load is followed, reading only its `inherits` keys, to say
its length."""


def _chain_length(path: Path, before: int) -> str:
    """The number of files of a chain whose file number `before` + 1 is `path`, counted by
    following `inherits` alone (a loop or an unreadable file ends the count there)."""
    seen: set[Path] = set()
    n = before
    while n < COUNT_INHERITS:
        n += 1
        seen.add(path)
        try:
            parent = read_yaml(path).get("inherits")
            if not isinstance(parent, str):
                return f"{n:,}"
            path = resolve(path.parent / parent)
        except InputError:
            return f"{n:,}"
        if path in seen:
            return f"{n:,} (then a loop)"
    return f"more than {COUNT_INHERITS:,}"


def load_tree(path: str | Path, what: str = "file", _chain: tuple[str, ...] = ()) -> Tree:
    """Load a YAML file, following `inherits:` (relative to the file), into a Tree."""
    if not _chain and kind(Path(path)) not in (None, "file", "loop"):
        regular_file(Path(path), what)      # named as given, not as the link it leads to
    path = resolve(path, what=what)
    if len(_chain) >= MAX_INHERITS:
        raise _ChainTooLong(_chain[0], f"the 'inherits' chain that starts here holds "
                            f"{_chain_length(path, len(_chain))} files, more than the "
                            f"{MAX_INHERITS} allowed; inherit from fewer files", key="inherits")
    if str(path) in _chain:
        cycle = " -> ".join(Path(p).name for p in _chain + (str(path),))
        raise InputError(_chain[-1], f"'inherits' makes a cycle: {cycle}", key="inherits")
    raw = read_yaml(path, what)
    values, sources, origins = split_sources(raw, str(path))
    parent = values.pop("inherits", None)
    sources.pop(("inherits",), None)
    origins.pop(("inherits",), None)
    if parent is None:
        return Tree(values, sources, origins, [str(path)])
    if not isinstance(parent, str):
        raise InputError(path, "'inherits' must be a file path", key="inherits",
                         value=parent, has_value=True)
    parent_path = resolve(path.parent / parent, path, "inherits", "'inherits'")
    if kind(parent_path) is None:
        raise InputError(path, f"inherited {what} not found: {parent_path}", key="inherits")
    try:
        tree = load_tree(parent_path, what, _chain + (str(path),))
    except InputError as exc:
        if isinstance(exc, _ChainTooLong) or str(path) in str(exc):
            raise
        raise InputError(None, f"{exc} (inherited by {path}, key 'inherits')") from None
    merge_into(tree, values, sources, origins)
    tree.files.append(str(path))
    return tree


def get_path(tree: dict, path: KeyPath) -> Any:
    """The value at a key path; list items are addressed by their index as text."""
    node: Any = tree
    for p in path:
        node = node[int(p)] if isinstance(node, list) else node[p]
    return node


def leaf_paths(node: Any, path: KeyPath = ()) -> list[KeyPath]:
    """Every key path that ends at a non-mapping value."""
    if isinstance(node, dict) and node:
        out: list[KeyPath] = []
        for k, v in node.items():
            out.extend(leaf_paths(v, path + (str(k),)))
        return out
    return [path]
