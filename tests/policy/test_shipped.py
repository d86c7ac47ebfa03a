"""The shipped policy files and reform overlays: they load, and every number has a source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from microsim.policy.arrays import build_arrays
from microsim.policy.inspect import diff
from microsim.policy.load import load_policy
from microsim.yamltree import Source, load_tree, read_yaml

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
FILES = sorted(p for p in POLICIES.rglob("*.yaml") if "reforms" not in p.parts)
REFORMS = sorted((POLICIES / "reforms").glob("*.yaml"))
SEEDS = {"000_55b9bccaf240ac5f.txt", "001_bc36a64e61cd82cf.txt", "002_cbf7479a4f5920d8.txt",
         "003_aa574bb9555c6b84.txt", "004_3d518ec32958b008.txt"}
REFERENCE = re.compile(r"^reference/(calibration-inputs|national-aggregates)\.md \(.+\)$")
CALIBRATION = re.compile(r"^calibration ([a-z0-9_]+) \((calibration/[a-z0-9_]+\.yaml)\)$")


def _base_of(reform: Path) -> Path:
    return (reform.parent / read_yaml(reform)["applies_to"]).resolve()


def test_the_seed_documents_each_have_a_policy_file():
    cited = {src.source for p in FILES for src in load_tree(p).sources.values()}
    assert SEEDS <= cited
    names = {p.stem for p in FILES}
    assert {"national_2023", "jiaxing_2021", "jiaxing_2025_plan", "lishui_2020",
            "lishui_2025_targets", "weihai_2020", "weihai_2021", "xinjiang_2017_pre_integration",
            "xinjiang_2017_integrated", "jiangsu_2022_residents"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_policy_loads_and_flattens(path):
    q = build_arrays(load_policy(path))
    # Plans 0 and 1 are the uninsured (urban, rural); every insured plan pays something.
    assert (q.basic.ip_cap[2:] > 0).all() and (q.basic.ip_band_rate[2:, 0] > 0).all()


@pytest.mark.parametrize("reform", REFORMS, ids=lambda p: p.stem)
def test_every_reform_applies_to_the_policy_it_names_and_changes_it(reform):
    base = _base_of(reform)
    assert base.exists(), f"{reform.name}: applies_to {base} does not exist"
    changes = diff(load_policy(base), load_policy(base, [reform]))
    assert changes, f"{reform.name} changes nothing"


def _numbers(node, path=()):
    """Key paths of the numbers written in a YAML tree, outside cited leaves (a relative change
    of an overlay, {add: x, source: ...} or {scale: x, source: ...}, is one too)."""
    if isinstance(node, dict):
        if {"value", "add", "scale"} & set(node) and "source" in node:
            return []
        return [p for k, v in node.items() for p in _numbers(v, path + (str(k),))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _numbers(v, path + (str(i),))]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [path]
    return []


@pytest.mark.parametrize("path", FILES + REFORMS, ids=lambda p: p.stem)
def test_every_number_carries_a_source_that_exists(path):
    raw = read_yaml(path)
    # The policy year, and the 'from: 0' that every band list starts with, are not parameters.
    bare = [p for p in _numbers(raw) if p != ("year",) and not (p[-1] == "from" and
                                                                  _at(raw, p) == 0)]
    assert not bare, f"{path.name}: numbers without a source: {bare}"
    tree = load_tree(path)
    cited = list(tree.sources.items()) + [
        (key, Source(str(_at(raw, key)["source"]), _at(raw, key).get("note"), str(path.resolve())))
        for key in _relative_changes(raw)]
    for key, src in cited:
        if src.file != str(path.resolve()):
            continue
        where = f"{path.name}: {'.'.join(key)}"
        if src.source == "assumption":
            assert src.note, f"{where}: an assumption needs a note saying why"
        elif CALIBRATION.match(src.source):
            name, file = CALIBRATION.match(src.source).groups()
            assert (ROOT / file).is_file(), f"{where}: no target file {file}"
            assert read_yaml(ROOT / file)["name"] == name, f"{where}: {file} is not {name}"
            assert src.note and src.note.startswith("Fitted by `microsim calibrate"), where
        else:
            assert src.source in SEEDS or REFERENCE.match(src.source), \
                f"{where}: source {src.source!r} is neither a seed document, the reference " \
                "file with the line cited, nor 'assumption'"


def _relative_changes(node, path=()):
    """Key paths of the relative changes ({add: x} or {scale: x}) of an overlay."""
    if not isinstance(node, dict):
        return []
    if {"add", "scale"} & set(node) and set(node) <= {"add", "scale", "source", "note"}:
        return [path]
    return [p for k, v in node.items() for p in _relative_changes(v, path + (str(k),))]


def _at(node, path):
    for p in path:
        node = node[int(p)] if isinstance(node, list) else node[p]
    return node


def test_integration_overlay_gives_the_integrated_policy():
    pre = POLICIES / "xinjiang" / "xinjiang_2017_pre_integration.yaml"
    integrated = POLICIES / "xinjiang" / "xinjiang_2017_integrated.yaml"
    overlay = POLICIES / "reforms" / "integrate_urban_rural.yaml"
    assert diff(load_policy(integrated), load_policy(pre, [overlay])) == []
    before = load_policy(pre).data
    assert before.basic.urrbmi is None and before.basic.urbmi is not None
    assert load_policy(integrated).data.basic.ncms is None


@pytest.fixture(scope="module")
def chunk():
    from microsim.health.events import draw_events
    from microsim.population.spec import load_population_spec
    from microsim.population.synth import synthesize
    spec = load_population_spec(ROOT / "populations" / "china_2023.yaml")
    households, persons = synthesize(spec, 0, 3000, 3000, 11, 0)
    return households, persons, draw_events(households, persons, spec, 11, 0)


@pytest.mark.parametrize("path, reforms", [(p, []) for p in FILES] +
                         [(_base_of(r), [r]) for r in REFORMS],
                         ids=[p.stem for p in FILES] + [r.stem for r in REFORMS])
def test_every_shipped_policy_settles_a_population_with_conservation(chunk, path, reforms):
    from microsim.settlement import check_conservation, settle
    households, persons, events = chunk
    claims = settle(build_arrays(load_policy(path, reforms)), households, persons, events,
                    seed=11, replicate=0)
    assert check_conservation(events, claims) < 0.01
    # Basic insurance pays for some of the admissions of a 3,000-household population.
    assert claims.admission_paid[:, 0].sum() > 0
