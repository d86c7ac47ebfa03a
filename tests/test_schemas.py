"""The JSON Schemas of the input files: the shipped schemas/*.json are what `microsim schema`
generates now, every shipped input file is accepted by its schema as written (cited values,
`inherits`, `none` caps, null removals, overlays' dotted keys and relative changes), and wrong
files are refused at the key that is wrong."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, strategies as st

from microsim import schemas
from microsim.errors import InputError
from microsim.policy.load import load_policy
from microsim.schema import NO_CAP, _cap
from microsim.yamltree import read_yaml

ROOT = Path(__file__).resolve().parents[1]
REFRESH = "microsim schema all --out schemas"
INPUT_FOLDERS = ("policies", "populations", "experiments", "calibration", "sensitivity")
FOLDER_KINDS = {("policies", "reforms"): "reform", ("experiments", "overlays"): "reform",
                ("populations", "demography"): "demography",
                ("populations", "indices"): "indices"}
TOP_KINDS = {"policies": "policy", "populations": "population", "experiments": "experiment",
             "calibration": "calibration", "sensitivity": "sensitivity"}


def kind_of(path: Path) -> str:
    """The kind of a shipped input file, from its folder."""
    parts = path.relative_to(ROOT).parts
    return FOLDER_KINDS.get(parts[:2], TOP_KINDS[parts[0]])


SHIPPED = sorted(p for folder in INPUT_FOLDERS for p in (ROOT / folder).rglob("*.yaml")
                 if "results" not in p.relative_to(ROOT).parts)


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft7Validator]:
    return {name: jsonschema.Draft7Validator(schemas.build(name)) for name in schemas.KINDS}


def as_json(value):
    """A parsed YAML value as an editor sees it: keys are text (YAML `2021:` is an integer)."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def leaves(error) -> list:
    """The errors an error stands for: of the alternatives (anyOf) it tried, those that got
    deepest into the file, which say what is wrong rather than that nothing fitted."""
    if not error.context:
        return [error]
    found = [leaf for e in error.context for leaf in leaves(e)]
    deepest = max(len(e.absolute_path) for e in found)
    return [e for e in found if len(e.absolute_path) == deepest]


def problems(validator, data) -> list[tuple[str, str]]:
    """(key path, message) of every error, the key path dotted as microsim writes it."""
    return sorted({(".".join(map(str, e.absolute_path)), e.message)
                   for top in validator.iter_errors(as_json(data)) for e in leaves(top)})


@pytest.mark.parametrize("name", list(schemas.KINDS))
def test_the_shipped_schema_is_what_the_command_generates_now(name):
    shipped = ROOT / "schemas" / f"{name}.json"
    assert shipped.is_file(), f"{shipped} is missing; write it with: {REFRESH}"
    assert shipped.read_text(encoding="utf-8") == schemas.text(name), \
        f"{shipped} is out of date with the models; refresh it with: {REFRESH}"


def test_the_schemas_folder_holds_one_file_per_kind_and_nothing_else():
    assert sorted(p.name for p in (ROOT / "schemas").iterdir()) == sorted(
        f"{name}.json" for name in schemas.KINDS)


@pytest.mark.parametrize("name", list(schemas.KINDS))
def test_each_schema_is_a_valid_draft_7_schema_with_the_file_kind_as_title(name):
    schema = schemas.build(name)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == schemas.KINDS[name].title


def test_every_shipped_folder_of_inputs_is_covered():
    # 29 policies and overlays, 8 population files, 18 experiments and overlays, 8
    # calibration files, 1 sensitivity file at the time of writing: every kind is met
    kinds = {kind_of(p) for p in SHIPPED}
    assert kinds == set(schemas.KINDS)
    assert len(SHIPPED) >= 60


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_is_accepted_by_its_schema(validators, path):
    assert problems(validators[kind_of(path)], read_yaml(path)) == []


def test_a_key_s_description_is_the_string_below_its_field_also_when_inherited():
    # ChronicLognormalCost extends LognormalCost: `mean` is described in the parent only
    root, defs = schemas.model_schema("population")
    chronic = defs["ChronicLognormalCost"]["properties"]
    assert chronic["mean"]["description"] == "Arithmetic mean, yuan."
    assert chronic["visits_per_year"]["description"] == (
        "Chronic-management outpatient visits a year, counted in visits per person.")
    # a docstring over several lines is one text, its indentation removed
    inpatient = schemas.model_schema("policy")[1]["Inpatient"]
    assert inpatient["properties"]["repeat_deductible"]["description"] == (
        "Deductible of the second and later admissions of the year by facility level, yuan; "
        "absent:\nthe same as the first.")


# --- what a file may say --------------------------------------------------------------------

POLICY = ROOT / "policies" / "china" / "national_2023.yaml"


def child(text: str) -> dict:
    return yaml.safe_load(f"inherits: {POLICY}\nname: child\n{text}")


@pytest.mark.parametrize("text", [
    "supplementary: null",
    "supplementary: {value: null, source: assumption, note: none in 2017}",
    "basic: {urrbmi: {inpatient: {annual_cap: none}}}",
    "basic: {urrbmi: {inpatient: {annual_cap: No Cap}}}",
    "basic: {urrbmi: {inpatient: {annual_cap: .inf}}}",
    "basic: {urrbmi: {inpatient: {annual_cap: null}}}",
    "basic: {urrbmi: {inpatient: {annual_cap: {value: unlimited, source: a.txt}}}}",
    "basic: {urrbmi: {inpatient: {rate: {value: {primary: 0.9, secondary: 0.8, tertiary: 0.7},"
    " source: a.txt, note: by level}}}}",
    "basic: {urrbmi: {inpatient: {bands: [{above: 10000, rate: 0.85}]}}}",
    "critical_illness: {residents: {tilt: {dibao: {rate_bonus: [0.05, 0.1]}}}}",
])
def test_an_inheriting_policy_may_change_any_key_alone_and_the_loader_agrees(
        validators, tmp_path, text):
    assert problems(validators["policy"], child(text)) == []
    path = tmp_path / "child.yaml"
    path.write_text(f"inherits: {POLICY}\nname: child\n{text}\n", encoding="utf-8")
    try:
        load_policy(path)
    except InputError as exc:       # a rule across keys, which the schema leaves to the loader
        assert "rate_bonus lists 2 bonuses" in str(exc)


@pytest.mark.parametrize("text, key, message", [
    ("basic: {urrbmi: {inpatient: {deductable: {primary: 100}}}}", "basic.urrbmi.inpatient",
     "Additional properties are not allowed ('deductable' was unexpected)"),
    ("basic: {urrbmi: {inpatient: {annual_cap: lots}}}", "basic.urrbmi.inpatient.annual_cap",
     "'lots' does not match"),
    ("basic: {urrbmi: {inpatient: {rate: {primary: 1.5}}}}",
     "basic.urrbmi.inpatient.rate.primary", "1.5 is greater than the maximum of 1.0"),
    ("basic: {urrbmi: {inpatient: {rate: {primary: yes}}}}",
     "basic.urrbmi.inpatient.rate.primary", "True is not of type 'number'"),
    ("basic: {urrbmi: {inpatient: {cap_on: payouts}}}", "basic.urrbmi.inpatient.cap_on",
     "'payouts' is not one of ['payout', 'eligible_cost']"),
    ("basic: {urrbmi: {outpatient: {deductible: {value: 100}}}}",
     "basic.urrbmi.outpatient.deductible", "'source' is a required property"),
    ("year: twenty-one", "year", "'twenty-one' is not of type 'integer'"),
    ("medical_assistance: {groups: {poor: {rate: 0.5, annual_cap: 1000}}}",
     "medical_assistance.groups", "'poor' is not one of ['tekun', 'dibao', 'dibian', "
     "'monitored', 'illness_hardship']"),
])
def test_a_wrong_key_or_value_is_refused_at_its_key_in_an_inheriting_policy(
        validators, tmp_path, text, key, message):
    found = problems(validators["policy"], child(text))
    assert any(k == key and message in m for k, m in found), found
    path = tmp_path / "child.yaml"
    path.write_text(f"inherits: {POLICY}\nname: child\n{text}\n", encoding="utf-8")
    with pytest.raises(InputError):     # the loader refuses the same file
        load_policy(path)


def test_a_policy_without_inherits_needs_every_required_key(validators):
    data = read_yaml(POLICY)
    del data["financing"]
    assert problems(validators["policy"], data) == [("", "'financing' is a required property")]
    data = read_yaml(POLICY)
    data["benefits"] = {}
    assert problems(validators["policy"], data) == [
        ("", "Additional properties are not allowed ('benefits' was unexpected)")]


@pytest.mark.parametrize("kind, text, key, message", [
    ("experiment", "name: x\npopulation: {spec: p.yaml, households: 10}\nyear: 2023\n"
                   "scenarios: [{name: a, policy: p.yaml}]\nseed: 1\noutput: out\nreplicate: 2",
     "", "Additional properties are not allowed ('replicate' was unexpected)"),
    ("experiment", "name: x\npopulation: {spec: p.yaml, households: 10}\nyear: 2023\n"
                   "scenarios: []\nseed: 1\noutput: out", "scenarios", "[] should be non-empty"),
    ("experiment", "name: x\npopulation: {spec: p.yaml, households: many}\nyear: 2023\n"
                   "scenarios: [{name: a, policy: p.yaml}]\nseed: 1\noutput: out",
     "population.households", "'many' is not of type 'integer'"),
    ("population", f"inherits: {ROOT / 'populations' / 'china_2023.yaml'}\n"
                   "age: {male_shares: 0.5}", "age",
     "Additional properties are not allowed ('male_shares' was unexpected)"),
    ("population", f"inherits: {ROOT / 'populations' / 'china_2023.yaml'}\n"
                   "households: yes", "households", "True is not of type 'integer'"),
    ("reform", "name: r\nchnges: {}", "",
     "Additional properties are not allowed ('chnges' was unexpected)"),
    ("reform", "name: r\nchanges: {basic: {urrbmi: {inpatient: {rate: {primery: {add: 0.05}}}}}}",
     "changes.basic.urrbmi.inpatient.rate",
     "Additional properties are not allowed ('primery' was unexpected)"),
    ("reform", "name: r\nadd: {basic: {urrbmi: {inpatient: {rate: {primary: {add: 0.05}}}}}}",
     "add.basic.urrbmi.inpatient.rate.primary", "{'add': 0.05} is not of type 'number'"),
    ("calibration", "name: Bad Name\nexperiment: e.yaml\ntargets: []", "name",
     "'Bad Name' does not match"),
])
def test_a_wrong_file_of_each_kind_is_refused_at_its_key(validators, kind, text, key, message):
    found = problems(validators[kind], yaml.safe_load(text))
    assert any(k == key and message in m for k, m in found), found


OVERLAY = """name: r
changes:
  critical_illness.residents.bands.0.rate: {value: 0.65, source: assumption}
  critical_illness: {residents: {bands: {0: {from: {add: 0}}}}}
  basic:
    urrbmi.inpatient.annual_cap: 120000
    urrbmi: {inpatient: {rate: {secondary: {add: 0.05, source: a, note: five points}}}}
remove: [supplementary]
"""


def test_an_overlay_may_write_dotted_keys_list_indexes_and_relative_changes(validators,
                                                                           tmp_path):
    assert problems(validators["reform"], yaml.safe_load(OVERLAY)) == []
    path = tmp_path / "overlay.yaml"
    path.write_text(OVERLAY, encoding="utf-8")
    before, after = load_policy(POLICY).data, load_policy(POLICY, [path]).data
    assert after.critical_illness.residents.bands[0].rate == 0.65
    assert after.basic.urrbmi.inpatient.annual_cap == 120000
    # the relative change: the policy's secondary rate plus 5 points
    assert after.basic.urrbmi.inpatient.rate.secondary == pytest.approx(
        before.basic.urrbmi.inpatient.rate.secondary + 0.05)
    assert after.supplementary is None


WORD = st.sampled_from(NO_CAP).flatmap(lambda w: st.tuples(
    st.lists(st.booleans(), min_size=len(w), max_size=len(w)), st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", " "])).map(lambda t: t[1] + "".join(
        c.upper() if up else c for c, up in zip(w, t[0])) + t[2]))


@functools.cache
def policy_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schemas.build("policy"))


@given(word=WORD)
def test_every_spelling_of_no_cap_the_loader_reads_as_infinite_the_schema_accepts(word):
    assert math.isinf(_cap(word))
    data = {"inherits": "x.yaml", "basic": {"urrbmi": {"special_drugs": {"annual_cap": word}}}}
    assert problems(policy_validator(), data) == []


@given(word=st.text(max_size=12))
def test_a_cap_written_as_other_text_is_refused_by_the_schema(word):
    data = {"inherits": "x.yaml", "basic": {"urrbmi": {"special_drugs": {"annual_cap": word}}}}
    accepted = problems(policy_validator(), data) == []
    assert accepted == (word.strip().lower() in NO_CAP)
