"""JSON Schemas of the input files, generated from their pydantic models, for editors.

Takes: a kind of input file (`experiment`, `policy`, `population`, `reform`, ...). Gives: a
JSON Schema (draft-07, the version YAML editors read) of that file as it is written, which
is more than the model it is validated against once loaded:

- every value may be written bare or as `{value: ..., source: ..., note: ...}`
  (microsim/yamltree.py);
- a file with `inherits:` names only what it changes: below its top level no key is
  required, since the file it inherits gives them (a list replaces the inherited one, so
  list items are still complete);
- a cap may be written `none` (no cap);
- a reform overlay's `changes:` and `add:` hold a policy tree whose keys may be nested or
  dotted, and under `changes:` a number may be a relative change `{add: x}` or `{scale: x}`.

The schema checks keys, types, ranges and allowed values. Rules across keys (bands in
ascending order, caps not below deductibles, shares summing to 1...) stay with the loader,
which is the authority: a file the schema accepts may still be refused when loaded, never
the other way round for the shipped files (tests/test_schemas.py checks every one).
`schemas/*.json` holds the generated schemas; `microsim schema KIND --out FILE` writes one.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from microsim.errors import InputError

DRAFT = "http://json-schema.org/draft-07/schema#"
REF = "#/definitions/"


@dataclass(frozen=True)
class Kind:
    """One kind of input file: its model (module, class) and what it is."""

    module: str
    model: str
    title: str


KINDS: dict[str, Kind] = {
    "experiment": Kind("microsim.experiment", "ExperimentFile",
                       "microsim experiment (experiments/*.yaml)"),
    "policy": Kind("microsim.policy.schema", "PolicyFile",
                   "microsim policy file (policies/<region>/*.yaml)"),
    "population": Kind("microsim.population.spec", "PopulationFile",
                       "microsim population spec (populations/*.yaml)"),
    "reform": Kind("microsim.policy.load", "OverlayHeader", "microsim reform overlay "
                   "(policies/reforms/*.yaml, experiments/overlays/*.yaml)"),
    "calibration": Kind("microsim.calibrate.targets", "TargetFile",
                        "microsim calibration target file (calibration/*.yaml)"),
    "demography": Kind("microsim.population.demography", "DemographyFile",
                       "microsim demography file: life table and fertility "
                       "(populations/demography/*.yaml)"),
    "indices": Kind("microsim.population.uprate", "IndexFile",
                    "microsim index series for uprating (populations/indices/*.yaml)"),
    "sensitivity": Kind("microsim.sensitivity", "GroupsFile",
                        "microsim sensitivity groups file (sensitivity/*.yaml)"),
}

INHERITS = {"type": "string", "description": "Another file of the same kind (a path relative "
            "to this one) that this file starts from: mappings merge key by key, anything "
            "else (a number, a text, a list) replaces the inherited value, and `key: null` "
            "removes an optional inherited section."}
SOURCED_KEYS = {
    "source": {"type": "string", "pattern": r"\S",
               "description": "Where the value comes from: a seed document's file name, a "
                              "reference line, or `assumption` (with the reason in `note`)."},
    "note": {"type": ["string", "null"],
             "description": "What the source says, or why the value was chosen."},
    "note_zh": {"type": ["string", "null"],
                "description": "The note in Chinese, shown by the Chinese report."},
}
SHARED_SOURCED = {k: {"$ref": REF + f"sourced.{k}"} for k in SOURCED_KEYS}
RELATIVE = {
    "type": "object",
    "description": "A relative change of the number the policy holds: `add` adds to it, "
                   "`scale` multiplies it (one of the two).",
    "properties": {"add": {"type": "number"}, "scale": {"type": "number"}, **SHARED_SOURCED},
    "additionalProperties": False,
    "anyOf": [{"required": ["add"]}, {"required": ["scale"]}],
}
DOTTED = r"\."
INDEX = r"^[0-9]+$"


@dataclass(frozen=True)
class Variant:
    """How a definition is used: `required` keys asked for (not in a file with `inherits`
    nor in an overlay), `overlay` keys may be dotted and lists addressed item by item,
    `relative` numbers may be relative changes (an overlay's `changes:`)."""

    suffix: str
    required: bool = True
    overlay: bool = False
    relative: bool = False


FULL = Variant("")
PARTIAL = Variant("-inherited", required=False)
ADD = Variant("-overlay-add", required=False, overlay=True)
CHANGES = Variant("-overlay-changes", required=False, overlay=True, relative=True)
ANNOTATIONS = ("description", "default", "examples")
VARIANT = "x-variant"      # (in the raw definitions only) use the reference in this variant


def kind(name: str) -> Kind:
    """The kind called `name`, or an error that lists the kinds."""
    if name not in KINDS:
        raise InputError(None, f"no schema for {name!r}: the kinds are {', '.join(KINDS)}")
    return KINDS[name]


def _model(k: Kind):
    return getattr(import_module(k.module), k.model)


@functools.cache
def _module_classes(file: str) -> dict[str, ast.ClassDef]:
    tree = ast.parse(open(file, encoding="utf-8").read())
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def attribute_docstrings(cls: type) -> dict[str, str]:
    """{field: the string written right below it} of a class and the classes it extends."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            node = _module_classes(inspect.getsourcefile(klass)).get(klass.__name__)
        except (TypeError, OSError):        # a built-in class: no source
            continue
        if node is None:
            continue
        for field, text in zip(node.body, node.body[1:]):
            if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                    and isinstance(text, ast.Expr) and isinstance(text.value, ast.Constant)
                    and isinstance(text.value.value, str)):
                docs[field.target.id] = inspect.cleandoc(text.value.value)
    return docs


class _WithFieldDocstrings(GenerateJsonSchema):
    """Pydantic's JSON Schema, with each field's docstring as its description."""

    def model_schema(self, schema):
        out = super().model_schema(schema)
        cls = schema["cls"]
        docs = attribute_docstrings(cls)
        properties = out.get("properties", {})
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key in properties and name in docs and not field.description:
                properties[key] = {**properties[key], "description": docs[name]}
        return out


def _clean(node: Any) -> Any:
    """A pydantic schema without the titles it makes of key names ('Annual Cap'), which say
    nothing the key does not (a key called `title` stays)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "title" and isinstance(v, str):
                continue
            if k == "properties":
                out[k] = {name: _clean(s) for name, s in v.items()}
            else:
                out[k] = _clean(v)
        return out
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _numeric(node: dict) -> bool:
    """Whether a schema node may be a number (directly or as one of its alternatives)."""
    t = node.get("type")
    if t in ("number", "integer") or (isinstance(t, list) and {"number", "integer"} & set(t)):
        return True
    return any(_numeric(alt) for alt in node.get("anyOf", []))


class _Builder:
    """Definitions in the variants they are used in, built on demand."""

    def __init__(self, raw_defs: dict[str, dict]):
        self.raw = raw_defs
        self.defs: dict[str, dict] = {}

    def ref(self, name: str, variant: Variant) -> dict:
        full = name + variant.suffix
        if full not in self.defs:
            self.defs[full] = {}                      # reserved: recursion ends here
            self.defs[full] = self.node(self.raw[name], variant)
        return {"$ref": REF + full}

    def value(self, node: dict, variant: Variant) -> dict:
        """A value position: the schema, or the same written {value, source, note}, (and
        under an overlay's changes, a relative change of a number)."""
        notes = {k: node[k] for k in ANNOTATIONS if k in node}
        inner = self.node({k: v for k, v in node.items() if k not in ANNOTATIONS}, variant)
        bare = inner["anyOf"] if set(inner) == {"anyOf"} else [inner]
        alternatives = [*bare, {"type": "object",
                                "properties": {"value": inner, **SHARED_SOURCED},
                                "required": ["value", "source"],
                                "additionalProperties": False}]
        if variant.relative and _numeric(inner):
            alternatives.append(RELATIVE)
        return {**notes, "anyOf": alternatives}

    def node(self, node: dict, variant: Variant) -> dict:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            variant = node.get(VARIANT, variant)
            rest = {k: v for k, v in node.items() if k not in ("$ref", VARIANT)}
            ref = self.ref(name, variant)
            return {**rest, **ref} if not rest else {**rest, "allOf": [ref]}
        out = dict(node)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in node:
                out[key] = [self.node(alt, variant) for alt in node[key]]
        if "properties" in node:
            out["properties"] = {name: self.value(s, variant)
                                 for name, s in node["properties"].items()}
            if not variant.required:
                out.pop("required", None)
            if variant.overlay:
                out["patternProperties"] = {DOTTED: {}}
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self.value(node["additionalProperties"], variant)
            if variant.overlay:
                out["patternProperties"] = {DOTTED: {}}
                if "propertyNames" in node:
                    out["propertyNames"] = {"anyOf": [node["propertyNames"],
                                                      {"pattern": DOTTED}]}
        if "items" in node:
            # a list replaces the one it overrides: its items are whole, wherever it is
            out["items"] = self.value(node["items"], FULL)
            if variant.relative:
                return {"anyOf": [out, {
                    "type": "object",
                    "description": "List items addressed by their index (from 0).",
                    "patternProperties": {INDEX: self.value(node["items"], variant),
                                          DOTTED: {}},
                    "additionalProperties": False}]}
        return out


def model_schema(name: str) -> tuple[dict, dict[str, dict]]:
    """(root, definitions): the JSON Schema of a kind's model as pydantic gives it (titles
    left out), before the forms of the written file are added; the reference tables of the
    docs are made from it (microsim/schemadocs.py)."""
    raw = _clean(_model(kind(name)).model_json_schema(
        mode="validation", ref_template=REF + "{model}", schema_generator=_WithFieldDocstrings))
    return raw, raw.pop("$defs", {})


def build(name: str) -> dict:
    """The JSON Schema of one kind of input file."""
    k = kind(name)
    root, raw_defs = model_schema(name)
    root.setdefault("properties", {})
    root["properties"] = {"inherits": INHERITS, **root["properties"]}
    raw_defs[k.model] = root
    b = _Builder(raw_defs)
    if name == "reform":
        policy, policy_defs = model_schema("policy")
        overlap = set(policy_defs) & set(raw_defs)
        if overlap:
            raise RuntimeError(f"reform and policy models share names {sorted(overlap)}")
        raw_defs.update(policy_defs)
        raw_defs["PolicyFile"] = policy
        for key, variant in (("changes", CHANGES), ("add", ADD)):
            root["properties"][key] = {
                "description": root["properties"][key].get("description", ""),
                "$ref": REF + "PolicyFile", VARIANT: variant}
    schema = {
        "$schema": DRAFT,
        "title": k.title,
        "description": "\n\n".join(filter(None, [
            root.get("description"), f"Generated from {k.module}.{k.model} by `microsim "
            f"schema {name}`; do not edit by hand."])),
        "if": {"required": ["inherits"]},
        "then": b.ref(k.model, PARTIAL),
        "else": b.ref(k.model, FULL),
    }
    schema["definitions"] = {**{f"sourced.{k}": v for k, v in SOURCED_KEYS.items()},
                             **{n: b.defs[n] for n in sorted(b.defs)}}
    return schema


def dumps(schema: dict) -> str:
    """The schema as the text written to schemas/KIND.json (stable, ends with a newline)."""
    return json.dumps(schema, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def text(name: str) -> str:
    """The schema of `name` as written to schemas/NAME.json."""
    return dumps(build(name))
