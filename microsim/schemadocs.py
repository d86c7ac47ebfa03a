"""Reference tables of the docs, made from the JSON Schema of the input files.

Takes: a Markdown file with blocks

    <!-- generated: policy.basic.urrbmi -->
    ...
    <!-- end -->

where the marker names a kind of file (microsim/schemas.py) and, after it, a dotted key path
inside that file (`*` for any key of a mapping, as in `medical_assistance.groups.*`). Gives:
the file with each block's body replaced by a table of the keys below that path (key, type,
default, meaning), the meanings being the descriptions of the models' fields, so the docs and
the schema an editor shows say the same thing. `microsim schema docs` rewrites the blocks of
docs/*.md; `microsim schema docs --check` says which are out of date.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from microsim.errors import InputError
from microsim.schemas import KINDS, REF, model_schema

BLOCK = re.compile(r"(<!-- generated: ([\w.*\[\]-]+)(?: depth=(\d+))? -->\n)(.*?)"
                   r"(<!-- end -->)", re.S)
NOTE = ("<!-- made by `microsim schema docs` from the models' descriptions; edit those, not "
        "this table -->\n")
GROUPS = ({"primary", "secondary", "tertiary"}, {"urban", "rural"})


def _grouped(text: str) -> str:
    """A type's words in brackets when they are several ("list of (number 0-1)")."""
    return f"({text})" if " " in text else text


class _Schema:
    def __init__(self, kind: str):
        self.root, self.defs = model_schema(kind)

    def deref(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.defs[node["$ref"][len(REF):]]
        return node

    def alternatives(self, node: dict) -> list[dict]:
        """The non-null alternatives of a node, references resolved one level."""
        alts = node.get("anyOf", [node])
        return [a for a in alts if a.get("type") != "null"]

    def model(self, node: dict) -> dict | None:
        """The model (a definition with properties) a node refers to, if any."""
        for alt in self.alternatives(node):
            target = self.deref(alt)
            if "properties" in target:
                return target
        return None

    def group(self, model: dict) -> bool:
        """A small by-level or by-residence model, shown as a type rather than as rows."""
        return set(model["properties"]) in GROUPS

    def at(self, path: str) -> dict:
        """The model at a dotted path below the root."""
        node = self.root
        for part in [p for p in path.split(".") if p]:
            model = self.deref(node) if "properties" in self.deref(node) else self.model(node)
            if part == "*":
                inner = next((a for a in self.alternatives(node)
                              if isinstance(a.get("additionalProperties"), dict)), None)
                if inner is None:
                    raise InputError(None, f"'{path}': '*' needs a mapping of named entries")
                node = inner["additionalProperties"]
                continue
            if part == "[]":
                inner = next((a for a in self.alternatives(node) if "items" in a), None)
                if inner is None:
                    raise InputError(None, f"'{path}': '[]' needs a list")
                node = inner["items"]
                continue
            if model is None or part not in model["properties"]:
                raise InputError(None, f"no key '{part}' in the path '{path}'")
            node = model["properties"][part]
        found = self.deref(node) if "properties" in self.deref(node) else self.model(node)
        if found is None:
            raise InputError(None, f"'{path}' is not a mapping of keys")
        return found

    # --- words --------------------------------------------------------------------------

    def kind_text(self, node: dict) -> str:
        alts = self.alternatives(node)
        return " or ".join(dict.fromkeys(self._one(a) for a in alts))

    def _one(self, node: dict) -> str:
        if "$ref" in node:
            target = self.deref(node)
            if "properties" in target and self.group(target):
                names = "/".join(target["properties"])
                inner = self.kind_text(next(iter(target["properties"].values())))
                return f"{inner} by {names}"
            return "mapping" if "properties" in target else self._one(target)
        if "anyOf" in node:
            return self.kind_text(node)
        if "enum" in node:
            values = [f"`{v}`" for v in node["enum"]]
            return values[0] if len(values) == 1 else (
                " or ".join(values) if len(values) == 2 else "one of " + ", ".join(values))
        if "const" in node:
            return f"`{node['const']}`"
        t = node.get("type")
        if t in ("number", "integer"):
            return self._number(node)
        if t == "string":
            if "pattern" in node and node["pattern"].startswith("^\\s*("):
                return "`none`"
            return "text"
        if t == "boolean":
            return "true/false"
        if t == "array":
            size = ""
            lo, hi = node.get("minItems"), node.get("maxItems")
            if lo is not None and lo == hi:
                size = f"{lo} "
            elif hi is not None:
                size = f"up to {hi} "
            elif lo:
                size = f"{lo} or more "
            items = node.get("items", {})
            model = self.model(items)
            if model is not None and not self.group(model):
                return f"list of {size}mappings".replace("list of 1 or more", "list of one or more")
            return f"list of {size}{_grouped(self.kind_text(items))}"
        if t == "object":
            values = node.get("additionalProperties")
            keys = node.get("propertyNames", {}).get("enum")
            head = ("mapping of " + ", ".join(f"`{k}`" for k in keys) if keys
                    else "mapping of names")
            if isinstance(values, dict):
                model = self.model(values)
                if model is not None and not self.group(model):
                    return head + " to mappings"
                return head + f" to {_grouped(self.kind_text(values))}"
            return "mapping"
        return "any"

    @staticmethod
    def _number(node: dict) -> str:
        word = "integer" if node.get("type") == "integer" else "number"
        lo = node.get("minimum")
        xlo = node.get("exclusiveMinimum")
        hi = node.get("maximum")
        xhi = node.get("exclusiveMaximum")
        if hi is not None and hi >= 1e12:
            hi = None           # a sanity bound (MAX_MONEY), not a rule worth a column
        fmt = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
        if lo is not None and hi is not None:
            return f"{word} {fmt(lo)}-{fmt(hi)}"
        parts = []
        if lo is not None:
            parts.append(f"≥ {fmt(lo)}")
        if xlo is not None:
            parts.append(f"> {fmt(xlo)}")
        if hi is not None:
            parts.append(f"≤ {fmt(hi)}")
        if xhi is not None:
            parts.append(f"< {fmt(xhi)}")
        return " ".join([word, ", ".join(parts)]).strip()

    @staticmethod
    def default_text(node: dict, required: bool) -> str:
        if required:
            return "required"
        if "default" not in node:
            return "empty"          # a default_factory: the models' are empty lists or mappings
        value = node["default"]
        if value is None:
            return "absent"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            return f"{value:g}" if isinstance(value, float) else str(value)
        if isinstance(value, str):
            return f"`{value}`" if value else '""'
        if isinstance(value, dict) and value:
            return "see below"
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else "all"

    # --- rows ---------------------------------------------------------------------------

    def rows(self, model: dict, prefix: str = "", depth: int = 99) -> list[tuple[str, ...]]:
        out = []
        required = set(model.get("required", []))
        for name, node in model["properties"].items():
            key = prefix + name
            target = self.model(node)
            meaning = node.get("description") or (target or {}).get("description") or ""
            out.append((key, self.kind_text(node), self.default_text(node, name in required),
                        meaning))
            if depth > 1:
                out.extend(self._below(node, key, depth - 1))
        return out

    def _below(self, node: dict, key: str, depth: int) -> list[tuple[str, ...]]:
        for alt in self.alternatives(node):
            target = self.deref(alt)
            if "properties" in target and not self.group(target):
                return self.rows(target, key + ".", depth)
            if target.get("type") == "array":
                inner = self.model(target.get("items", {}))
                if inner is not None and not self.group(inner):
                    return self.rows(inner, key + "[].", depth)
            if target.get("type") == "object" and isinstance(
                    target.get("additionalProperties"), dict):
                inner = self.model(target["additionalProperties"])
                if inner is not None and not self.group(inner):
                    return self.rows(inner, key + ".<name>.", depth)
        return []


CJK_BREAK = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")


def _cell(text: str) -> str:
    """One table cell: a line, a line break between two Chinese characters dropped."""
    return " ".join(CJK_BREAK.sub("", text).split()).replace("|", "\\|")


def table(spec: str, depth: int = 99) -> str:
    """The Markdown table of a block's marker, `KIND` or `KIND.dotted.path`, with the keys
    down to `depth` levels below it."""
    kind, _, path = spec.partition(".")
    if kind not in KINDS:
        raise InputError(None, f"generated block '{spec}': no kind {kind!r} "
                         f"(kinds: {', '.join(KINDS)})")
    schema = _Schema(kind)
    rows = schema.rows(schema.at(path), depth=depth)
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{k}` | {_cell(t)} | {_cell(d)} | {_cell(m)} |" for k, t, d, m in rows]
    return NOTE + "\n".join(lines) + "\n"


FENCE = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)


def _outside_code(text: str, fn) -> str:
    """`text` with `fn` applied to the parts outside fenced code blocks (a marker shown as an
    example in a code block is not a block)."""
    out, at = [], 0
    for m in FENCE.finditer(text):
        out += [fn(text[at:m.start()]), m.group(0)]
        at = m.end()
    return "".join(out + [fn(text[at:])])


def refresh(text: str) -> str:
    """The Markdown text with every generated block made anew."""
    return _outside_code(text, lambda part: BLOCK.sub(
        lambda m: m.group(1) + table(m.group(2), int(m.group(3) or 99)) + m.group(5), part))


def has_blocks(text: str) -> bool:
    found: list[bool] = []
    _outside_code(text, lambda part: found.append(bool(BLOCK.search(part))) or part)
    return any(found)


def stale(paths: list[Path]) -> list[Path]:
    """The files among `paths` whose generated blocks are out of date."""
    return [p for p in paths if refresh(p.read_text(encoding="utf-8"))
            != p.read_text(encoding="utf-8")]


def docs_with_blocks(folder: Path) -> list[Path]:
    """The Markdown files of `folder` that hold generated blocks (outside code examples)."""
    return sorted(p for p in folder.glob("*.md") if has_blocks(p.read_text(encoding="utf-8")))
