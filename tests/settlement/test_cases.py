"""Calculator cases that cannot be data: errors a case or a policy is refused with.

The hand-worked cases (one per convention of docs/policy.md) are case files in
tests/settlement/cases/, each settled under tests/fixtures/policy_cases.yaml with the
reforms it names and checked against its `expected:` section by
tests/settlement/test_case_files.py.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from microsim.errors import InputError
from microsim.policy.load import Policy
from microsim.policy.schema import PolicyFile
from microsim.settlement.cases import Case, case_policy, settle_case
from microsim.yamltree import Tree

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "tests" / "fixtures" / "policy_cases.yaml").read_text("utf-8"))
CII = {"threshold": 10_000, "bands": [{"from": 0, "rate": 0.6}], "annual_cap": 300_000}
LARGE = {"base": "above_basic_cap", "threshold": 0, "bands": [{"from": 0, "rate": 0.85}],
         "annual_cap": 400_000}


def policy(changes: dict) -> Policy:
    data = copy.deepcopy(BASE)
    for section, value in changes.items():
        data[section] = value
    return Policy(PolicyFile.model_validate(data), Tree(data), (), ())


def test_rare_disease_drugs_cannot_exceed_the_special_drugs():
    with pytest.raises(ValueError, match="rare_disease_drugs 5000.0 exceeds the special_drugs"):
        settle_case(policy({}), Case.model_validate(dict(
            scheme="urrbmi", age=50, outpatient={"special_drugs": 1000},
            rare_disease_drugs=5000)))


def test_large_expense_cover_refuses_bases_it_does_not_count():
    with pytest.raises(ValueError, match="above_basic_cap .* include_class_b"):
        policy({"critical_illness": {"employees": {**LARGE, "include_class_b": True}}})


def test_a_case_without_a_policy_is_refused_when_none_is_given(tmp_path):
    case = Case.model_validate({"scheme": "urrbmi", "age": 30})
    with pytest.raises(InputError, match=r"case.yaml, key 'policy': the case names no policy"):
        case_policy(case, tmp_path / "case.yaml")


def test_a_missing_policy_or_reform_file_names_the_case_and_the_key(tmp_path):
    case = Case.model_validate({"scheme": "urrbmi", "age": 30, "policy": "nowhere.yaml"})
    with pytest.raises(InputError, match=r"case.yaml, key 'policy': the policy file .*nowhere."
                                         r"yaml does not exist \(got 'nowhere.yaml'\)"):
        case_policy(case, tmp_path / "case.yaml")
    case = Case.model_validate({"scheme": "urrbmi", "age": 30,
                                "policy": str(ROOT / "tests/fixtures/policy_cases.yaml"),
                                "reforms": ["gone.yaml"]})
    with pytest.raises(InputError, match=r"key 'reforms.0': the reform overlay .*gone.yaml does "
                                         r"not exist"):
        case_policy(case, tmp_path / "case.yaml")


def test_an_inline_reform_is_named_by_the_case_file_in_its_errors(tmp_path):
    case = Case.model_validate({"scheme": "urrbmi", "age": 30,
                                "policy": str(ROOT / "tests/fixtures/policy_cases.yaml"),
                                "reforms": [{"name": "r", "changes": {"basic.urrbmi.nope": 1}}]})
    with pytest.raises(InputError, match=r"case.yaml: reforms.0, key 'changes.basic.urrbmi.nope': "
                                         r"the policy has no key"):
        case_policy(case, tmp_path / "case.yaml")


def test_a_policy_given_replaces_the_cases_own_policy_and_reforms(tmp_path):
    # The case's own reform would raise the tertiary rate to 60%: 60% x 19,000 = 11,400;
    # under the policy given, without it, 50% x 19,000 = 9,500.
    case = Case.model_validate({
        "scheme": "urrbmi", "age": 30, "policy": str(ROOT / "tests/fixtures/policy_cases.yaml"),
        "reforms": [{"name": "r", "changes": {"basic.urrbmi.inpatient.rate.tertiary": 0.6}}],
        "admissions": [{"level": "tertiary", "policy_range": 20_000}]})
    own = settle_case(case_policy(case, tmp_path / "case.yaml"), case)
    given = settle_case(case_policy(case, tmp_path / "case.yaml",
                                    ROOT / "tests/fixtures/policy_cases.yaml"), case)
    assert (own.year.paid[0], given.year.paid[0]) == pytest.approx((11_400, 9500))
    assert own.policy == "cases + r" and given.policy == "cases"
