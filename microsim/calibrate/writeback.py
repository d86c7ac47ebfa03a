"""Writing fitted values back into the population spec and policy files, comments kept.

Takes: a `Fit`. Gives: each file that holds a fitted key rewritten in place (atomically:
a temporary file beside it, then a rename), the key's `value` set to the fitted number
(rounded to `DIGITS` significant digits) and its `source` and `note` (and `note_zh`, in
Chinese, where the parameter has one) saying which
calibration fitted it, within which bounds, to which targets, and why the number is free.
Everything else in the file (comments, order, other notes) stays as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from microsim.calibrate.fit import Fit
from microsim.calibrate.params import Parameter, as_type, moved, value_at
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


def note_of(fit: Fit, param: Parameter, start: float, why: str) -> str:
    how = {"scale": "a factor on the levels recorded before calibration",
           "shift": "an amount added to the levels recorded before calibration"}.get(
        param.mode, f"starting from {start:g}")
    return (f"Fitted by `microsim calibrate {fit.targets.relative_path}` ({how}, within "
            f"[{param.lower:g}, {param.upper:g}]). {why.strip()}")


def note_zh_of(fit: Fit, param: Parameter, start: float, why_zh: str) -> str:
    """`note_of` in Chinese, for the Chinese report ('' when the parameter has no `note_zh`)."""
    if not why_zh.strip():
        return ""
    how = {"scale": "对校准前记录的水平乘以一个系数",
           "shift": "对校准前记录的水平加上一个数值"}.get(param.mode, f"初值 {start:g}")
    return (f"由 `microsim calibrate {fit.targets.relative_path}` 拟合（{how}，范围 "
            f"[{param.lower:g}, {param.upper:g}]）。{why_zh.strip()}")


def write_back(fit: Fit) -> list[Path]:
    """Write every fitted parameter into the target set's own input files (the experiment's
    population spec, or its scenario's policy file), adding the key there where the file
    inherits it; return the files written."""
    ts = fit.targets
    specs = {p.name: p for p in ts.file.parameters}
    edits: dict[Path, list] = {}
    for i, (param, x) in enumerate(zip(ts.parameters, fit.values)):
        file = (ts.experiment.population.path if param.input == "population"
                else ts.experiment.scenarios[ts.scenario].policy.files[0])
        for key in param.keys:
            edits.setdefault(Path(file), []).append(
                (param, key, x, ts.starts[i], specs[param.name].note, specs[param.name].note_zh))
    originals = {file: file.read_bytes() for file in edits}
    written = []
    try:
        for file, items in edits.items():
            y = _yaml()
            doc = y.load(originals[file].decode("utf-8"))
            for param, key, x, start, why, why_zh in items:
                node = _leaf(doc, key, file)
                if param.mode == "value":
                    new = as_type(_resolved(ts, param, key), rounded(x))
                else:
                    new = _round_all(moved(param.base[key], param.mode, x, dotted(key)))
                node["value"] = _flow_list(new) if isinstance(new, list) else new
                node["source"] = ts.source_label
                node["note"] = note_of(fit, param, start, why)
                note_zh = note_zh_of(fit, param, start, why_zh)
                if note_zh:
                    node["note_zh"] = note_zh
                elif "note_zh" in node:         # a Chinese note of an earlier fit no longer fits
                    del node["note_zh"]
            _replace(file, y, doc)
            written.append(file)
        _verify(fit)
    except BaseException:
        for file in written:                  # leave every file as it was
            _replace_bytes(file, originals[file])
        raise
    return written


def _resolved(ts, param: Parameter, key: tuple[str, ...]):
    """The key's value in the target set's resolved input (inherited or not): a fitted value
    keeps its kind (a whole number stays whole)."""
    exp = ts.experiment
    tree = (exp.population.tree if param.input == "population"
            else exp.scenarios[ts.scenario].policy.tree)
    return value_at(tree, key)


def _replace(file: Path, y, doc) -> None:
    import io
    buf = io.StringIO()
    y.dump(doc, buf)
    _replace_bytes(file, buf.getvalue().encode("utf-8"))


def _replace_bytes(file: Path, data: bytes) -> None:
    """Write `data` to `file` through a temporary file beside it, keeping its permissions."""
    mode = file.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _verify(fit: Fit) -> None:
    """The files as written hold exactly the fitted experiment's values: nothing else moved
    (a key reached through a YAML merge `<<:` would move every key that shares it)."""
    from microsim.calibrate.params import with_parameters
    from microsim.experiment import load_experiment
    ts = fit.targets
    expected = with_parameters(ts.experiment, [(p, float(rounded(x))) for p, x in
                                               zip(ts.parameters, fit.values)])
    found = load_experiment(ts.experiment.path)
    pairs = [(expected.population.tree.values, found.population.tree.values,
              ts.experiment.population.path)]
    pairs += [(e.policy.tree.values, f.policy.tree.values, f.policy.files[0])
              for e, f in zip(expected.scenarios, found.scenarios)]
    for want, got, file in pairs:
        where = _first_difference(want, got)
        if where is not None:
            raise InputError(file, "writing the fitted values would also change a value "
                             "the fit did not move (through a YAML merge '<<:' or an "
                             "inherited key); nothing was written", key=where)


def _first_difference(a, b, path: tuple[str, ...] = ()) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return dotted(path + (k,))
            hit = _first_difference(a[k], b[k], path + (k,))
            if hit:
                return hit
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            hit = _first_difference(x, y, path + (str(i),))
            if hit:
                return hit
        return None
    if isinstance(a, float) or isinstance(b, float):
        try:
            # written numbers carry DIGITS significant digits
            return None if abs(float(a) - float(b)) <= 1e-4 * max(abs(float(a)), abs(float(b))) \
                + 1e-12 else dotted(path)
        except (TypeError, ValueError):
            return dotted(path)
    return None if a == b else dotted(path)


def _round_all(v):
    return [_round_all(e) for e in v] if isinstance(v, list) else rounded(v)


def _leaf(doc, key: tuple[str, ...], file: Path):
    """The cited mapping ({value, source, note}) that holds `key` in a round-trip document,
    created (as a cited mapping under new or existing sections) where the file inherits the
    key instead of setting it."""
    from ruamel.yaml.comments import CommentedMap
    node = doc
    for p in key[:-1]:
        if isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
            continue
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
