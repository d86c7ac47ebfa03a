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


def test_every_shipped_policy_and_reform_loads():
    for path in sorted((ROOT / "policies").rglob("*.yaml")):
        if "reforms" in path.parts:
            policy = load_policy(ROOT / "policies" / "china" / "national_2023.yaml", [path])
            assert policy.reform_names
        else:
            build_arrays(load_policy(path))


def test_inheritance_overrides_one_key(tmp_path):
    p = load_policy(child(tmp_path, "basic: {urrbmi: {inpatient: {annual_cap: 60000}}}\n"))
    assert p.data.basic.urrbmi.inpatient.annual_cap == 60000
    assert p.data.basic.urrbmi.inpatient.rate.primary == 0.9


@pytest.mark.parametrize("body, message", [
    ("basic: {urrbmi: {inpatient: {ratez: 1}}}\n",
     r"child\.yaml: key 'basic\.urrbmi\.inpatient\.ratez': unknown key"),
    ("basic: {urrbmi: {inpatient: {rate: {primary: -0.1}}}}\n",
     r"child\.yaml: key 'basic\.urrbmi\.inpatient\.rate\.primary': Input should be greater than or equal to 0"),
    ("critical_illness: {residents: {bands: [{from: 0, rate: 0.6}, {from: 100, rate: 0.7}, {from: 50, rate: 0.8}]}}\n",
     r"key 'critical_illness\.residents': bands must be in ascending order"),
    ("basic: {urrbmi: {inpatient: {annual_cap: 50}}}\n",
     r"key 'basic\.urrbmi\.inpatient': annual_cap 50\.0 is below the primary deductible"),
])
def test_bad_policies_are_refused_with_file_and_key(tmp_path, body, message):
    with pytest.raises(InputError, match=message):
        load_policy(child(tmp_path, body))


def test_add_refuses_existing_keys_and_changes_refuses_new_ones(tmp_path):
    add_existing = tmp_path / "a.yaml"
    add_existing.write_text("name: x\nadd: {basic: {urrbmi: {inpatient: {annual_cap: 1}}}}\n")
    with pytest.raises(InputError, match=r"already has 'basic\.urrbmi\.inpatient\.annual_cap'"):
        load_policy(SIMPLE, [add_existing])
    add_new = tmp_path / "b.yaml"
    add_new.write_text("name: y\nadd: {medical_assistance: {oop_cap: {groups: {dibao: 5000}}}}\n")
    assert load_policy(SIMPLE, [add_new]).data.medical_assistance.oop_cap.groups["dibao"] == 5000
