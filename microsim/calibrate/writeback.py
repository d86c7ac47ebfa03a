"""Writing fitted values back into the population spec and policy files, comments kept.

Takes: a `Fit`. Gives: each file that holds a fitted key rewritten in place (atomically:
a temporary file beside it, then a rename), the key's `value` set to the fitted number
(rounded to `DIGITS` significant digits) and its `source` and `note` saying which
calibration fitted it, within which bounds, to which targets, and why the number is free.
Everything else in the file (comments, order, other notes) stays as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from microsim.calibrate.fit import Fit
from microsim.calibrate.params import Parameter, as_type, moved
from microsim.errors import InputError
from microsim.yamltree import dotted

DIGITS = 5


def rounded(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def _yaml():
    from ruamel.yaml import YAML
    y = YAML()                 # round trip: comments, order and styles are kept
    y.width = 4096
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _flow_list(values):
    from ruamel.yaml.comments import CommentedSeq
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def note_of(fit: Fit, param: Parameter, why: str) -> str:
    fitted = ", ".join(t.target.name for t in fit.by_role("fit"))
    return (f"Fitted by `microsim calibrate {fit.targets.relative_path}` within "
            f"[{param.lower:g}, {param.upper:g}] to its fitted targets ({fitted}); {why}")


def write_back(fit: Fit) -> list[Path]:
    """Write every fitted parameter into the target set's own input files (the experiment's
    population spec, or its scenario's policy file), adding the key there where the file
    inherits it; return the files written."""
    ts = fit.targets
    specs = {p.name: p for p in ts.file.parameters}
    edits: dict[Path, list] = {}
    for param, x in zip(ts.parameters, fit.values):
        file = (ts.experiment.population.path if param.input == "population"
                else ts.experiment.scenarios[ts.scenario].policy.files[0])
        for key in param.keys:
            edits.setdefault(Path(file), []).append((param, key, x, specs[param.name].note))
    written = []
    for file, items in edits.items():
        y = _yaml()
        doc = y.load(file.read_text(encoding="utf-8"))
        for param, key, x, why in items:
            node = _leaf(doc, key, file)
            if param.mode == "value":
                new = as_type(node.get("value", x), rounded(x))
            else:
                new = _round_all(moved(param.base[key], param.mode, x, dotted(key)))
            node["value"] = _flow_list(new) if isinstance(new, list) else new
            node["source"] = ts.source_label
            node["note"] = note_of(fit, param, why)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".partial")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                y.dump(doc, fh)
            os.replace(tmp, file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(file)
    return written


def _round_all(v):
    return [_round_all(e) for e in v] if isinstance(v, list) else rounded(v)


def _leaf(doc, key: tuple[str, ...], file: Path):
    """The cited mapping ({value, source, note}) that holds `key` in a round-trip document,
    created (as a cited mapping under new or existing sections) where the file inherits the
    key instead of setting it."""
    from ruamel.yaml.comments import CommentedMap
    node = doc
    for p in key[:-1]:
        if not isinstance(node, dict):
            raise InputError(file, "the fitted key lies inside a value that is not a mapping",
                             key=dotted(key))
        if p not in node:
            node[p] = CommentedMap()
        node = node[p]
    last = key[-1]
    if not isinstance(node, dict):
        raise InputError(file, "the fitted key lies inside a value that is not a mapping",
                         key=dotted(key))
    if last not in node:
        leaf = CommentedMap()
        leaf.fa.set_flow_style()
        node[last] = leaf
    leaf = node[last]
    if not isinstance(leaf, dict) or "value" not in leaf and leaf:
        raise InputError(file, "a fitted value must be a cited value ({value: ..., source: "
                         "...}) in its file", key=dotted(key))
    return leaf
