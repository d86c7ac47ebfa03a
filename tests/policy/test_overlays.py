"""Reform overlays that say what they change: relative changes, index paths, applies_to,
the closest keys for a misspelt one, and overlays given from Python."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import microsim
from microsim.errors import InputError
from microsim.experiment import load_experiment
from microsim.policy.load import load_policy
from microsim.settlement.cases import Case, settle_case

ROOT = Path(__file__).resolve().parents[2]
SIMPLE = ROOT / "tests" / "fixtures" / "policy_simple.yaml"
NATIONAL = ROOT / "policies" / "china" / "national_2023.yaml"
REFORM = ROOT / "policies" / "reforms" / "raise_resident_inpatient_rates.yaml"


def overlay(tmp_path, body: str, name="reform.yaml") -> Path:
    p = tmp_path / name
    p.write_text(f"name: a reform\n{body}", encoding="utf-8")
    return p


# A residents' secondary admission of 10,000 in the simple policy (deductible 500).
SECONDARY = {"scheme": "urrbmi", "age": 40, "residence": "urban",
             "admissions": [{"level": "secondary", "policy_range": 10_000}]}


def test_add_ten_points_to_a_rate_of_70_percent_gives_80_exactly_and_settles(tmp_path):
    plus = overlay(tmp_path, "changes: {basic: {urrbmi: {inpatient: {rate: {secondary: "
                             "{add: 0.10, source: assumption, note: ten points, "
                             "note_zh: 提高10个百分点}}}}}}\n")
    p = load_policy(SIMPLE, [plus])
    # 0.70 + 0.10 in binary floating point is 0.7999999999999999; the overlay's arithmetic is
    # on the numbers as written, so the resolved rate is the number 0.80 itself.
    assert 0.7 + 0.1 != 0.8
    assert p.data.basic.urrbmi.inpatient.rate.secondary == 0.8
    src = p.tree.sources[("basic", "urrbmi", "inpatient", "rate", "secondary")]
    assert (src.source, src.note, src.file) == ("assumption", "ten points", str(plus))
    assert src.note_zh == "提高10个百分点"
    # Basic pays 0.80 x (10,000 - 500) = 7,600 (0.70 paid 6,650); the self-pay 2,400 is below
    # the critical-illness threshold of 10,000 and a general resident gets no assistance.
    r = settle_case(p, Case.model_validate(SECONDARY))
    np.testing.assert_allclose(r.year.paid, [7_600, 0, 0, 0, 0, 2_400], atol=0.005)
    before = settle_case(load_policy(SIMPLE), Case.model_validate(SECONDARY))
    np.testing.assert_allclose(before.year.paid, [6_650, 0, 0, 0, 0, 3_350], atol=0.005)


def test_scale_a_cap_by_1_1(tmp_path):
    scaled = overlay(tmp_path, "changes:\n  basic.urrbmi.inpatient.annual_cap: {scale: 1.1}\n"
                               "  critical_illness.residents.annual_cap: {scale: 1.1}\n")
    p = load_policy(SIMPLE, [scaled])
    # 50,000 x 1.1 = 55,000 (in binary floating point 55,000.00000000001); 200,000 x 1.1 =
    # 220,000.
    assert 50_000 * 1.1 != 55_000
    assert p.tree.values["basic"]["urrbmi"]["inpatient"]["annual_cap"] == 55_000
    assert p.data.critical_illness.residents.annual_cap == 220_000
    # Without a source of its own, the value keeps the policy's and the note says what changed
    # (the simple policy cites nothing, so its values have no source before or after).
    assert ("critical_illness", "residents", "annual_cap") not in p.tree.sources
    national = load_policy(NATIONAL, [scaled])
    src = national.tree.sources[("critical_illness", "residents", "annual_cap")]
    before = load_policy(NATIONAL).tree.sources[("critical_illness", "residents", "annual_cap")]
    assert src.source == before.source and src.note.endswith(f"[times 1.1 by {scaled}]")
    # ... and in Chinese too (the cap's citation has no note, so the change is all it says).
    assert before.note is None and src.note_zh == f"[由 `{scaled}` 乘以 1.1]"
    # 300,000 x 1.1 = 330,000 (330,000.00000000006 in binary floating point).
    assert national.data.critical_illness.residents.annual_cap == 330_000
    # A primary admission of 70,000: basic pays 0.9 x (70,000 - 100) = 62,910, above the cap,
    # so the raised cap of 55,000 (the old one paid 50,000).
    case = {"scheme": "urrbmi", "age": 40, "admissions": [{"level": "primary",
                                                          "policy_range": 70_000}]}
    assert settle_case(p, Case.model_validate(case)).year.paid[0] == pytest.approx(55_000)
    old = settle_case(load_policy(SIMPLE), Case.model_validate(case)).year.paid[0]
    assert old == pytest.approx(50_000)


def test_a_relative_change_without_a_source_adds_what_it_did_to_both_notes(tmp_path):
    doubled = overlay(tmp_path, "changes:\n  basic.urrbmi.outpatient.annual_cap: {scale: 2}\n")
    key = ("basic", "urrbmi", "outpatient", "annual_cap")
    before = load_policy(NATIONAL).tree.sources[key]
    src = load_policy(NATIONAL, [doubled]).tree.sources[key]
    assert before.note_zh.startswith("为基金收支平衡由400下调")
    assert src.note == f"{before.note} [times 2 by {doubled}]"
    assert src.note_zh == f"{before.note_zh} [由 `{doubled}` 乘以 2]"


def test_relative_change_on_the_shipped_reform_keeps_its_numbers():
    # The +5-point reform says {add: 0.05}: 0.92633 + 0.05 = 0.97633, bit for bit the number
    # it used to write out (and likewise 0.82633 -> 0.87633, 0.62633 -> 0.67633).
    rate = load_policy(NATIONAL, [REFORM]).data.basic.urrbmi.inpatient.rate
    assert (rate.primary, rate.secondary, rate.tertiary) == (0.97633, 0.87633, 0.67633)


@pytest.mark.parametrize("body, message", [
    ("changes: {name: {add: 1}}\n",
     r"reform\.yaml, key 'changes\.name': 'add:' changes a number, and the policy's 'name' is "
     r"not one \(got 'Simple test policy'\)"),
    ("changes: {basic.urrbmi.inpatient.annual_cap: {add: 1, scale: 2}}\n",
     r"key 'changes\.basic\.urrbmi\.inpatient\.annual_cap': a relative change takes 'add:' or "
     r"'scale:', not both"),
    ("changes: {basic.urrbmi.inpatient.annual_cap: {scale: ten}}\n",
     r"key 'changes\.basic\.urrbmi\.inpatient\.annual_cap\.scale': 'scale:' takes a number "
     r"\(got 'ten'\)"),
    ("changes: {basic.urrbmi.inpatient.rate: {add: 0.1}}\n",
     r"the policy's 'basic\.urrbmi\.inpatient\.rate' is not one \(got \{'primary'"),
    ("add: {medical_assistance: {oop_cap: {groups: {dibao: {add: 100}}}}}\n",
     r"key 'add\.medical_assistance\.oop_cap\.groups\.dibao': 'add:' and 'scale:' change a value"),
])
def test_relative_changes_are_refused_on_what_is_not_a_number(tmp_path, body, message):
    with pytest.raises(InputError, match=message):
        load_policy(SIMPLE, [overlay(tmp_path, body)])


def test_list_items_by_index_path_nested_or_dotted(tmp_path):
    # The dotted key as `microsim policy diff` prints it, and the same path nested.
    dotted = overlay(tmp_path, "changes:\n  critical_illness.residents.bands.1.rate: "
                               "{value: 0.75, source: assumption, note: second band}\n")
    nested = overlay(tmp_path, "changes: {critical_illness: {residents: {bands.1: "
                               "{rate: 0.75}}}}\n", "nested.yaml")
    for reform in (dotted, nested):
        bands = load_policy(SIMPLE, [reform]).tree.values["critical_illness"]["residents"]["bands"]
        # Only the second band's rate changes: 0.7 -> 0.75; the first band and 'from' stay.
        assert bands == [{"from": 0, "rate": 0.6}, {"from": 50_000, "rate": 0.75}]
    src = load_policy(SIMPLE, [dotted]).tree.sources[
        ("critical_illness", "residents", "bands", "1", "rate")]
    assert src.note == "second band"


def test_an_index_past_the_end_names_the_key_and_the_list_length(tmp_path):
    past = overlay(tmp_path, "changes: {critical_illness.residents.bands.2.rate: 0.8}\n")
    with pytest.raises(InputError, match=r"reform\.yaml, key 'changes\.critical_illness\."
                                         r"residents\.bands\.2\.rate': the policy has no key "
                                         r"'critical_illness\.residents\.bands\.2\.rate' to "
                                         r"change: 'critical_illness\.residents\.bands' is a list "
                                         r"of 2 item\(s\), so index 2 is past its end"):
        load_policy(SIMPLE, [past])


def test_a_misspelt_key_is_refused_with_the_closest_known_keys(tmp_path):
    typo = overlay(tmp_path, "changes: {basic: {urrbmi: {inpatient: {anual_cap: 60000}}}}\n")
    with pytest.raises(InputError, match=r"key 'changes\.basic\.urrbmi\.inpatient\.anual_cap': "
                                         r"the policy has no key .*did you mean "
                                         r"'basic\.urrbmi\.inpatient\.annual_cap'\?"):
        load_policy(SIMPLE, [typo])
    top = overlay(tmp_path, "changes: {critcal_illness: {residents: {threshold: 1}}}\n", "t.yaml")
    with pytest.raises(InputError, match=r"did you mean 'critical_illness\.residents\."
                                         r"threshold'\?") as info:
        load_policy(SIMPLE, [top])
    assert "<top>" not in str(info.value)
    header = overlay(tmp_path, "chnages: {year: 2024}\n", "h.yaml")
    with pytest.raises(InputError, match=r"h\.yaml, key 'chnages': not a key of a reform overlay "
                                         r"\(name, .*\); did you mean 'changes'\?"):
        load_policy(SIMPLE, [header])
    nothing_close = overlay(tmp_path, "remove: [zzz]\n", "r.yaml")
    with pytest.raises(InputError, match=r"key 'remove\.0': the policy has no key 'zzz' to "
                                         r"remove: the top level has basic, critical_illness"
                                         ) as info:
        load_policy(SIMPLE, [nothing_close])
    assert "<top>" not in str(info.value)


def test_applies_to_is_enforced_by_file_or_by_name(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(f"inherits: {SIMPLE}\nname: Another policy\n", encoding="utf-8")
    by_file = overlay(tmp_path, f"applies_to: {SIMPLE}\n"
                                "changes: {basic.urrbmi.inpatient.annual_cap: 60000}\n")
    assert load_policy(SIMPLE, [by_file]).data.basic.urrbmi.inpatient.annual_cap == 60000
    with pytest.raises(InputError, match=rf"reform\.yaml, key 'applies_to': this overlay is "
                                         rf"written for {SIMPLE}, and is applied to {other} "
                                         r"\('Another policy'\)"):
        load_policy(other, [by_file])
    by_name = overlay(tmp_path, "applies_to: Another policy\n"
                                "changes: {basic.urrbmi.inpatient.annual_cap: 60000}\n", "n.yaml")
    assert load_policy(other, [by_name]).data.basic.urrbmi.inpatient.annual_cap == 60000
    with pytest.raises(InputError, match=r"n\.yaml, key 'applies_to': this overlay is written "
                                         r"for Another policy, and is applied to .*policy_simple"):
        load_policy(SIMPLE, [by_name])
    # Relative to the overlay's folder, as the shipped reforms write it.
    (tmp_path / "sub").mkdir()
    rel = overlay(tmp_path / "sub", "applies_to: ../other.yaml\n"
                                    "changes: {basic.urrbmi.inpatient.annual_cap: 60000}\n")
    assert load_policy(other, [rel]).data.basic.urrbmi.inpatient.annual_cap == 60000
    # Without applies_to an overlay applies to any policy.
    free = overlay(tmp_path, "changes: {basic.urrbmi.inpatient.annual_cap: 60000}\n", "f.yaml")
    assert load_policy(other, [free]).data.basic.urrbmi.inpatient.annual_cap == 60000


def _experiment(tmp_path, scenario: str, name="exp.yaml") -> Path:
    spec = ROOT / "populations" / "china_2023.yaml"
    p = tmp_path / name
    p.write_text(f"name: t\npopulation: {{spec: {spec}, households: 2000}}\nyear: 2023\n"
                 f"scenarios:\n{scenario}replicates: 1\nseed: 5\nchunk_size: 2000\n"
                 "output: out\n", encoding="utf-8")
    return p


def test_a_schedule_checks_applies_to_against_each_years_file(tmp_path):
    later = tmp_path / "national_2024.yaml"
    later.write_text(f"inherits: {NATIONAL}\nname: National 2024\n", encoding="utf-8")
    exp = _experiment(tmp_path, f"  - name: s\n    policy: {{\"2023\": {NATIONAL}, "
                                f"\"2024\": {later}}}\n    reforms: [{REFORM}]\n")
    text = exp.read_text(encoding="utf-8").replace("year: 2023\n", "year: 2023\nuntil: 2024\n")
    exp.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=rf"raise_resident_inpatient_rates\.yaml, key "
                                         rf"'applies_to': this overlay is written for "
                                         rf"\.\./china/national_2023\.yaml, and is applied to "
                                         rf"{later} \(the 2024 file of the scenario's schedule\)"
                                         r".*key 'scenarios\.0\.policy\.2024'"):
        load_experiment(exp)


def test_reforms_from_python_are_validated_like_files(tmp_path):
    exp = _experiment(tmp_path, f"  - {{name: s, policy: {NATIONAL}}}\n")
    loaded = load_experiment(exp, reforms=[{"name": "cap", "changes": {
        "basic.urrbmi.inpatient.annual_cap": {"scale": 2}}}])
    policy = loaded.scenarios[0].policy
    assert policy.reform_names == ("cap",) and policy.files == (NATIONAL,)
    base_cap = load_policy(NATIONAL).data.basic.urrbmi.inpatient.annual_cap
    assert policy.data.basic.urrbmi.inpatient.annual_cap == 2 * base_cap
    assert loaded.resolved()["scenarios"][0]["reforms"] == [
        {"name": "cap", "changes": {"basic.urrbmi.inpatient.annual_cap": {"scale": 2}}}]
    # The in-memory overlay is part of what the run's inputs digest, so a --resume with
    # another one is refused like one with an edited overlay file.
    from microsim.engine.run import input_digests
    other = load_experiment(exp, reforms=[{"name": "cap", "changes": {
        "basic.urrbmi.inpatient.annual_cap": {"scale": 3}}}])
    assert input_digests(loaded)[str(exp)] != input_digests(other)[str(exp)]
    with pytest.raises(InputError, match=r"reforms\[1\], key 'changes\.basic\.urrbmi\.inpatient"
                                         r"\.anual_cap': .*did you mean 'basic\.urrbmi\."
                                         r"inpatient\.annual_cap'"):
        load_experiment(exp, reforms=[{"name": "ok", "changes": {}, "add": {"x": 1}},
                                      {"name": "typo", "changes": {
                                          "basic.urrbmi.inpatient.anual_cap": 1}}])
    with pytest.raises(InputError, match=r"reforms\[0\]: key 'basic\.urrbmi\.inpatient\.rate\."
                                         r"primary': Input should be less than or equal to 1"):
        microsim.validate(exp, reforms=[{"name": "too much", "changes": {
            "basic.urrbmi.inpatient.rate.primary": {"add": 0.5}}}])
    with pytest.raises(InputError, match=r"reforms\[0\], key 'applies_to': this overlay is "
                                         r"written for elsewhere\.yaml"):
        load_experiment(exp, reforms=[{"name": "n", "applies_to": "elsewhere.yaml",
                                       "changes": {"year": 2024}}])


def test_the_python_route_equals_the_file_route_bit_for_bit(tmp_path):
    by_file = _experiment(tmp_path, f"  - {{name: s, policy: {NATIONAL}, reforms: [{REFORM}]}}\n",
                          "file.yaml")
    by_python = _experiment(tmp_path, f"  - {{name: s, policy: {NATIONAL}}}\n", "python.yaml")
    reform = yaml.safe_load(REFORM.read_text(encoding="utf-8"))
    reform["applies_to"] = str(NATIONAL)     # relative paths of Python overlays: the experiment's
    a = microsim.run(by_file, write=False)
    b = microsim.run(by_python, write=False, reforms=[reform])
    assert list(a.data_vars) == list(b.data_vars)
    for v in a.data_vars:
        assert np.array_equal(a[v].values, b[v].values, equal_nan=True), v
    # And the reform changes something (it is not two baselines).
    base = microsim.run(by_python, write=False)
    assert not all(np.array_equal(base[v].values, b[v].values, equal_nan=True)
                   for v in b.data_vars)


def test_reforms_from_python_apply_to_every_file_of_a_schedule(tmp_path):
    later = tmp_path / "national_2024.yaml"
    later.write_text(f"inherits: {NATIONAL}\nname: National 2024\n"
                     "basic: {urrbmi: {inpatient: {annual_cap: 120000}}}\n", encoding="utf-8")
    exp = _experiment(tmp_path, f"  - name: s\n    policy: {{\"2023\": {NATIONAL}, "
                                f"\"2024\": {later}}}\n")
    exp.write_text(exp.read_text(encoding="utf-8").replace("year: 2023\n",
                                                           "year: 2023\nuntil: 2024\n"))
    scen = load_experiment(exp, reforms=[{"name": "x2", "changes": {
        "basic.urrbmi.inpatient.annual_cap": {"scale": 2}}}]).scenarios[0]
    # Each year's own cap doubled: 2023 the national 100,000 -> 200,000; 2024 120,000 -> 240,000.
    assert [scen.policy_in(y).data.basic.urrbmi.inpatient.annual_cap for y in (2023, 2024)] == \
        [200_000, 240_000]


def test_a_key_missing_under_a_mapping_an_overlay_added_names_the_overlay(tmp_path):
    # The Xinjiang 2017 file leaves financing.residents empty (null); an overlay that adds it
    # without the individual contribution is at fault, not the file it applies to.
    base = ROOT / "policies" / "xinjiang" / "xinjiang_2017_pre_integration.yaml"
    short = overlay(tmp_path, "remove: [basic.urbmi, basic.ncms, financing.urbmi, financing.ncms]\n"
                              "add:\n  financing.residents.subsidy: 450\n")
    with pytest.raises(InputError) as err:
        load_policy(base, [short])
    assert f"{short}: key 'financing.residents.individual': required key is missing" \
        in str(err.value)
    assert f"{base}: key 'financing" not in str(err.value)
