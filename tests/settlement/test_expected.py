"""The `expected:` section of a case file: strict keys, and its check against a settlement.

Worked on tests/settlement/cases/17_tilted_second_stage_and_class_b_in_assistance_p1.yaml:
basic 20,000; assistance stage 1 10,000 and stage 2 5,000; OOP 12,000 (its comments).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from microsim.errors import InputError
from microsim.settlement.cases import case_policy, load_case, settle_case
from microsim.settlement.expected import check_expected

CASES = Path(__file__).resolve().parent / "cases"
TILTED = CASES / "17_tilted_second_stage_and_class_b_in_assistance_p1.yaml"
SUPPLEMENTARY = CASES / "20_supplementary_liabilities_each_on_its_own_base_c1.yaml"


def _with_expected(tmp_path: Path, source: Path, expected) -> Path:
    """A copy of a case file (its policy path made absolute) with another `expected:`."""
    data = yaml.safe_load(source.read_text("utf-8"))
    data["policy"] = str((source.parent / data["policy"]).resolve())
    data["expected"] = expected
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _checks(path: Path):
    case = load_case(path)
    return check_expected(settle_case(case_policy(case, path), case), path)


def test_a_wrong_amount_is_a_mismatch_and_a_right_one_is_not(tmp_path):
    path = _with_expected(tmp_path, TILTED, {
        "year": {"basic": 20_000, "assistance": 15_000, "out_of_pocket": 12_000.004},
        "assistance_stages": {"stage_1": 10_000, "stage_2": 4_000}})
    checks = {c.what: c for c in _checks(path)}
    # 12,000.004 rounds to 12,000.00: agrees to the fen.
    assert checks["year: out_of_pocket"].ok
    # Stage 2 is 50% x (15,000 - 3,000) = 6,000 capped at 5,000, not 4,000.
    bad = [c.what for c in checks.values() if not c.ok]
    assert bad == ["assistance stage 2"]
    assert (checks["assistance stage 2"].expected, checks["assistance stage 2"].computed) == \
        pytest.approx((4000, 5000))


def test_a_payer_left_out_of_a_row_is_expected_to_pay_nothing(tmp_path):
    # The admission's assistance (15,000) is left out: expected 0, a mismatch.
    path = _with_expected(tmp_path, TILTED, {"admissions": [{"basic": 20_000,
                                                             "out_of_pocket": 12_000}]})
    bad = [(c.what, c.computed) for c in _checks(path) if not c.ok]
    assert bad == [("admission 1 (tertiary): assistance", pytest.approx(15_000))]


def test_an_unknown_payer_is_refused_with_the_file_and_the_key(tmp_path):
    path = _with_expected(tmp_path, TILTED, {"year": {"basic": 20_000, "oop": 12_000}})
    with pytest.raises(InputError, match=r"case.yaml: key 'expected.year': unknown payer 'oop' "
                                         r"\(the payers: basic, critical_illness, assistance, "
                                         r"supplementary, account, out_of_pocket\)"):
        load_case(path)


def test_an_unknown_section_or_stage_is_refused(tmp_path):
    path = _with_expected(tmp_path, TILTED, {"assistance_stages": {"stage_3": 1}})
    with pytest.raises(InputError, match=r"key 'expected.assistance_stages.stage_3'"):
        load_case(path)
    path = _with_expected(tmp_path, TILTED, {"years": {"basic": 1}})
    with pytest.raises(InputError, match=r"key 'expected.years'"):
        load_case(path)


def test_an_empty_expected_and_rows_that_do_not_fit_the_bills_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"key 'expected': .*names nothing to check"):
        load_case(_with_expected(tmp_path, TILTED, {}))
    with pytest.raises(InputError, match=r"expected.admissions lists 2 admission\(s\) and the "
                                         r"case has 1"):
        load_case(_with_expected(tmp_path, TILTED, {"admissions": [None, None]}))
    with pytest.raises(InputError, match=r"expected.outpatient.diabetes: the case has no "
                                         r"diabetes spending"):
        load_case(_with_expected(tmp_path, TILTED, {"outpatient": {"diabetes": {}}}))


def test_a_liability_the_policy_lacks_is_refused_naming_the_policys_liabilities(tmp_path):
    path = _with_expected(tmp_path, SUPPLEMENTARY, {"supplementary_liabilities": {"drugs": 3000}})
    with pytest.raises(InputError, match=r"case.yaml, key 'expected.supplementary_liabilities."
                                         r"drugs': the policy 'cases \+ supplementary liabilities "
                                         r"each on its own base' has no supplementary liability "
                                         r"named 'drugs' \(its liabilities: 'in-catalogue', "
                                         r"'class B', 'listed drugs'\)"):
        _checks(path)


def test_liabilities_left_out_are_expected_to_pay_nothing(tmp_path):
    # In-catalogue 65,000, class B 2,250, listed drugs 3,000 (the case's comments).
    path = _with_expected(tmp_path, SUPPLEMENTARY, {"supplementary_liabilities":
                                                    {"in-catalogue": 65_000, "class B": 2250}})
    bad = [(c.what, c.computed) for c in _checks(path) if not c.ok]
    assert bad == [("supplementary liability 'listed drugs'", pytest.approx(3000))]


def test_a_case_without_expected_cannot_be_checked():
    case = load_case(CASES.parent.parent / "fixtures" / "cases" / "employee_wage_60000.yaml")
    given = CASES.parent.parent / "fixtures" / "policy_cases.yaml"
    result = settle_case(case_policy(case, TILTED, given), case)
    with pytest.raises(InputError, match=r"x.yaml, key 'expected': the case has no 'expected:' "
                                         r"section to check"):
        check_expected(result, "x.yaml")
