"""Policy files: inheritance, overlays and refusals with the file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from microsim.errors import InputError
from microsim.policy.arrays import build_arrays
from microsim.policy.load import load_policy

ROOT = Path(__file__).resolve().parents[2]
SIMPLE = ROOT / "tests" / "fixtures" / "policy_simple.yaml"


def child(tmp_path, body: str, name="child.yaml") -> Path:
    p = tmp_path / name
    p.write_text(f"inherits: {SIMPLE}\n{body}", encoding="utf-8")
    return p


def overlay(tmp_path, body: str, name="reform.yaml") -> Path:
    p = tmp_path / name
    p.write_text(f"name: a reform\n{body}", encoding="utf-8")
    return p


def test_inheritance_overrides_one_key(tmp_path):
    p = load_policy(child(tmp_path, "basic: {urrbmi: {inpatient: {annual_cap: 60000}}}\n"))
    assert p.data.basic.urrbmi.inpatient.annual_cap == 60000
    assert p.data.basic.urrbmi.inpatient.rate.primary == 0.9


@pytest.mark.parametrize("body, message", [
    # unknown keys
    ("basic: {urrbmi: {inpatient: {ratez: 1}}}\n",
     r"child\.yaml: key 'basic\.urrbmi\.inpatient\.ratez': unknown key"),
    ("medical_assistance: {groups: {dibao: {rate: 0.7, annual_cap: 1, ceiling: 2}}}\n",
     r"child\.yaml: key 'medical_assistance\.groups\.dibao\.ceiling': unknown key"),
    ("medical_assistance: {groups: {rich: {rate: 0.7, annual_cap: 1}}}\n",
     r"child\.yaml: key 'medical_assistance\.groups\.rich\.\[key\]': Input should be 'tekun'"),
    # rates outside [0, 1]
    ("basic: {urrbmi: {inpatient: {rate: {primary: -0.1}}}}\n",
     r"child\.yaml: key 'basic\.urrbmi\.inpatient\.rate\.primary': Input should be greater "
     r"than or equal to 0"),
    ("critical_illness: {residents: {bands: [{from: 0, rate: 1.2}]}}\n",
     r"child\.yaml: key 'critical_illness\.residents\.bands\.0\.rate': Input should be less "
     r"than or equal to 1"),
    ("basic: {urrbmi: {inpatient: {rate: {primary: true}}}}\n",
     r"key 'basic\.urrbmi\.inpatient\.rate\.primary': .*not true/false"),
    # bands that do not ascend
    ("critical_illness: {residents: {bands: [{from: 0, rate: 0.6}, {from: 100, rate: 0.7}, "
     "{from: 50, rate: 0.8}]}}\n",
     r"child\.yaml: key 'critical_illness\.residents': bands must be in ascending order of "
     r"'from'"),
    ("basic: {urrbmi: {inpatient: {bands: [{above: 20000, rate: 0.6}, {above: 10000, "
     "rate: 0.7}]}}}\n",
     r"key 'basic\.urrbmi\.inpatient': bands must be in ascending order of 'above'"),
    ("supplementary: {name: s, premium: 1, liabilities: [{name: l, base: class_b, bands: "
     "[{from: 0, rate: 0.5}, {from: 0, rate: 0.6}], annual_cap: 10}]}\n",
     r"key 'supplementary\.liabilities\.0': bands must be in ascending order"),
    # caps below deductibles or thresholds
    ("basic: {urrbmi: {inpatient: {annual_cap: 50}}}\n",
     r"child\.yaml: key 'basic\.urrbmi\.inpatient': annual_cap 50\.0 is below the primary "
     r"deductible"),
    ("basic: {urrbmi: {outpatient: {deductible: 500}}}\n",
     r"key 'basic\.urrbmi\.outpatient': annual_cap 300\.0 is below the deductible 500\.0"),
    ("basic: {urrbmi: {two_disease: {deductible: 600, rate: 0.6, caps: {hypertension: 500, "
     "diabetes: 1000}}}}\n",
     r"key 'basic\.urrbmi\.two_disease': caps\.hypertension 500\.0 is below the deductible"),
    ("medical_assistance: {groups: {dibao: {deductible: 30000}}}\n",
     r"key 'medical_assistance\.groups\.dibao': annual_cap 20000\.0 is below the deductible "
     r"30000\.0"),
    ("critical_illness: {residents: {annual_cap: 5000}}\n",
     r"key 'critical_illness\.residents': annual_cap 5000\.0 is below the threshold 10000\.0"),
    # other cross-field rules
    ("critical_illness: {residents: {tilt: {dibao: {rate_bonus: [0.1]}}}}\n",
     r"tilt\.dibao\.rate_bonus lists 1 bonuses for 2 bands"),
    ("medical_assistance: {tilted: {tekun: {threshold: 0, rate: 0.5, annual_cap: 100}}}\n",
     r"key 'medical_assistance': tilted assistance for \['tekun'\] needs the group's first "
     r"stage"),
])
def test_bad_policies_are_refused_with_file_and_key(tmp_path, body, message):
    with pytest.raises(InputError, match=message):
        load_policy(child(tmp_path, body))


def test_changes_refuses_new_keys_and_add_refuses_existing_ones(tmp_path):
    missing = overlay(tmp_path, "changes: {basic: {urrbmi: {inpatient: {age_bonus: {rate: 0.1}}}}}\n")
    with pytest.raises(InputError, match=r"reform\.yaml, key 'changes\.basic\.urrbmi\.inpatient"
                                         r"\.age_bonus\.rate': the policy has no key"):
        load_policy(SIMPLE, [missing])
    add_existing = overlay(tmp_path, "add: {basic: {urrbmi: {inpatient: {annual_cap: 1}}}}\n")
    with pytest.raises(InputError, match=r"already has 'basic\.urrbmi\.inpatient\.annual_cap'"):
        load_policy(SIMPLE, [add_existing])
    add_new = overlay(tmp_path, "add: {medical_assistance: {oop_cap: {groups: {dibao: 5000}}}}\n")
    assert load_policy(SIMPLE, [add_new]).data.medical_assistance.oop_cap.groups["dibao"] == 5000


def test_an_invalid_value_from_an_overlay_names_the_overlay(tmp_path):
    bad = overlay(tmp_path, "changes: {basic: {urrbmi: {inpatient: {rate: {primary: 1.5}}}}}\n")
    with pytest.raises(InputError, match=r"reform\.yaml: key 'basic\.urrbmi\.inpatient\.rate\."
                                         r"primary': Input should be less than or equal to 1"):
        load_policy(SIMPLE, [bad])


def test_remove_takes_keys_out_and_refuses_missing_ones(tmp_path):
    # Integration in reverse: residents' rules split into URBMI and NCMS.
    split = overlay(tmp_path, """remove: [basic.urrbmi, financing.residents]
add:
  basic:
    urbmi: {inpatient: {deductible: {primary: 300, secondary: 600, tertiary: 1000},
            rate: {primary: 0.8, secondary: 0.7, tertiary: 0.6}, annual_cap: 80000}}
    ncms: {inpatient: {deductible: {primary: 100, secondary: 300, tertiary: 800},
           rate: {primary: 0.85, secondary: 0.65, tertiary: 0.5}, annual_cap: 60000}}
  financing: {urbmi: {individual: 180, subsidy: 450}, ncms: {individual: 150, subsidy: 450}}
""")
    p = load_policy(SIMPLE, [split])
    assert p.data.basic.urrbmi is None and p.data.basic.ncms.inpatient.annual_cap == 60000
    assert ("basic", "urrbmi", "inpatient", "annual_cap") not in p.tree.origins
    missing = overlay(tmp_path, "remove: [basic.urbmi]\n", "missing.yaml")
    with pytest.raises(InputError, match=r"missing\.yaml, key 'remove\.0': the policy has no "
                                         r"key 'basic\.urbmi' to remove"):
        load_policy(SIMPLE, [missing])
    half = overlay(tmp_path, "remove: [basic.urrbmi]\n", "half.yaml")
    with pytest.raises(InputError, match=r"half\.yaml: key 'basic': give residents' rules either"):
        load_policy(SIMPLE, [half])


def test_an_empty_overlay_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"empty\.yaml, key 'changes': a reform overlay needs"):
        load_policy(SIMPLE, [overlay(tmp_path, "description: nothing\n", "empty.yaml")])


def test_financing_must_match_integration(tmp_path):
    with pytest.raises(InputError, match=r"financing\.urbmi and financing\.ncms belong to "
                                         r"residents' schemes before integration"):
        load_policy(child(tmp_path, "financing: {urbmi: {individual: 1, subsidy: 1}}\n"))


def test_build_arrays_applies_residence_incomes_and_band_bonuses(tmp_path):
    p = load_policy(child(tmp_path, """critical_illness:
  residents:
    threshold: {share_of_income: 0.5, income: {urban: 40000, rural: 20000}}
    tilt: {dibao: {threshold_factor: 0.5, rate_bonus: [0.05, 0.1], no_cap: true}}
"""))
    q = build_arrays(p)
    # Plans are scheme x residence: residents urban = 3 x 2 + 0, rural = 3 x 2 + 1.
    assert q.cii.thr[6] == 20_000 and q.cii.thr[7] == 10_000
    assert q.cii.tilt_bonus[6, 2, :3].tolist() == [0.05, 0.1, 0.0]   # group 2 = dibao
