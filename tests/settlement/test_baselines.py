"""The shipped baselines settle single cases as their documents say (calculator cases).

Takes: the shipped policy files and the case files in tests/fixtures/cases. Checks, with
values worked by hand from each file's rules, the defects the baselines once had: a gap in
national employees' large-expense cover above the basic cap; Xinjiang's dual track below the
75% its opinion keeps; Jiaxing 2021 on national instead of Zhejiang rules; Weihai 2020
already covering the rare diseases added in 2021, and an employer-rate pilot that raised the
rate it lowered; two-disease caps that made Jiaxing's 60% floor inert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microsim.policy.load import load_policy
from microsim.settlement.cases import Case, load_case, settle_case

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
CASES = ROOT / "tests" / "fixtures" / "cases"


def year(policy: str, case: str, *reforms: str):
    pol = load_policy(POLICIES / policy, [POLICIES / r for r in reforms])
    return settle_case(pol, load_case(CASES / case))


@pytest.mark.parametrize("cost, cii", [(120_000, 7_417.26), (150_000, 32_917.26),
                                       (200_000, 75_417.26)])
def test_national_employees_large_expense_cover_has_no_gap_above_the_basic_cap(cost, cii):
    r = year("china/national_2023.yaml", f"employee_tertiary_{cost}.yaml")
    # Tertiary (calibration/national_2023.yaml): deductible 160.23, rate 89.998%, basic cap
    # 100,000 reached at 160.23 + 100,000 / 0.89998 = 111,273.81. Large expense pays 85% of
    # the cost above it: 0.85 x (cost - 111,273.81): 7,417.26 at 120,000; 32,917.26 at
    # 150,000; 75,417.26 at 200,000 (with a threshold of 100,000 on the self-pay instead,
    # nothing until the self-pay reached 100,000).
    b, c = r.year.paid[0], r.year.paid[1]
    np.testing.assert_allclose([b, c], [100_000, cii], atol=0.005)
    # Basic plus large expense stays above 89% of cost (89.51%, 88.61%, 87.71%).
    assert (b + c) / cost > 0.87


@pytest.mark.parametrize("policy, cii", [
    # 2020: basic special drugs 50% capped at 5,096.5 (the national residents' cap as
    # calibration/national_2023.yaml fitted it, inherited); the 294,903.5 left is all
    # rare-disease drugs, which critical-illness insurance did not cover before 2021: nothing.
    ("shandong/weihai_2020.yaml", 0),
    # 2021: the three rare diseases' drugs added: 80% x 294,903.5 = 235,922.8 (cap 400,000).
    ("shandong/weihai_2021.yaml", 235_922.8),
])
def test_weihai_covers_rare_disease_drugs_only_from_2021(policy, cii):
    r = year(policy, "rare_disease_resident.yaml")
    np.testing.assert_allclose(r.year.paid, [5_096.5, cii, 0, 0, 0, 294_903.5 - cii],
                               atol=0.005)


@pytest.mark.parametrize("reforms, employer", [
    # The city rate including maternity, 8% x 60,000 = 4,800 ...
    ((), 4_800),
    # ... lowered by the Nanhai pilot to 7.5% x 60,000 = 4,500.
    (("reforms/weihai_employer_rate_pilot.yaml",), 4_500),
])
def test_weihai_employer_rate_pilot_lowers_the_city_rate(reforms, employer):
    r = year("shandong/weihai_2021.yaml", "employee_wage_60000.yaml", *reforms)
    assert r.finance["employer"] == pytest.approx(employer)


@pytest.mark.parametrize("case, basic", [
    # A rural (NCMS) resident, secondary admission of 10,000: deductible 300, rate 88%:
    # 0.88 x 9,700 = 8,536 (the earlier 75% paid 7,275).
    ({"residence": "rural", "level": "secondary"}, 8_536),
    # An urban (URBMI) resident, tertiary admission of 10,000: deductible 1,000, rate 86%:
    # 0.86 x 9,000 = 7,740 (the earlier 60% paid 5,400).
    ({"residence": "urban", "level": "tertiary"}, 7_740),
])
def test_xinjiang_dual_track_rates_pay_about_75_percent(case, basic):
    pol = load_policy(POLICIES / "xinjiang/xinjiang_2017_pre_integration.yaml")
    r = settle_case(pol, Case.model_validate({
        "scheme": "urrbmi", "age": 40, "residence": case["residence"],
        "admissions": [{"level": case["level"], "policy_range": 10_000}]}))
    assert r.year.paid[0] == pytest.approx(basic, abs=0.005)


def test_jiaxing_2021_zhejiang_rates_assistance_and_subsidy():
    pol = load_policy(POLICIES / "zhejiang/jiaxing_2021.yaml")
    r = settle_case(pol, Case.model_validate({
        "scheme": "urrbmi", "status": "dibian", "age": 50,
        "admissions": [{"level": "tertiary", "policy_range": 20_000}]}))
    # Basic: deductible 600, tertiary rate 63% (chosen for Zhejiang's 70%): 0.63 x 19,400
    #   = 12,222; self-pay 7,778, below the critical-illness threshold (50% x 32,189 =
    #   16,094.5; 低边 have no tilt): nothing.
    # Assistance for 低边: the national deductible 1,000 + 1,251.8 (calibration/
    # national_2023.yaml, inherited), Zhejiang's 70%: 0.7 x (7,778 - 2,251.8) = 3,868.34.
    # 大病无忧 (premium paid by the government) starts at 20,000 of self-pay: nothing.
    # OOP 20,000 - 12,222 - 3,868.34 = 3,909.66.
    np.testing.assert_allclose(r.year.paid, [12_222, 0, 3_868.34, 0, 0, 3_909.66], atol=0.005)
    # Financing: Zhejiang's subsidy 641; the 320 contribution paid in full by assistance.
    assert (r.finance["subsidy"], r.finance["assisted"], r.finance["individual"]) == \
        pytest.approx((641, 320, 0))


@pytest.mark.parametrize("policy, basic", [
    # 2021: 50% x 3,000 = 1,500, capped at the inherited 400 (a Jiangxi example): 13.3%.
    ("zhejiang/jiaxing_2021.yaml", 400),
    # 2025 plan: the 60% minimum without a cap: 0.6 x 3,000 = 1,800.
    ("zhejiang/jiaxing_2025_plan.yaml", 1_800),
])
def test_jiaxing_2025_two_disease_care_gets_its_60_percent_floor(policy, basic):
    pol = load_policy(POLICIES / policy)
    r = settle_case(pol, Case.model_validate({"scheme": "urrbmi", "age": 60,
                                              "outpatient": {"hypertension": 3_000}}))
    assert r.year.paid[0] == pytest.approx(basic, abs=0.005)
