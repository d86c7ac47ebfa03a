"""The shipped baselines settle single cases as their documents say (calculator cases).

Takes: the shipped policy files and the case files in tests/fixtures/cases. Checks, with
values worked by hand from each file's rules, the defects the baselines once had: a gap in
employees' large-expense cover, and so on (one test per rule)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microsim.policy.load import load_policy
from microsim.settlement.cases import load_case, settle_case

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
CASES = ROOT / "tests" / "fixtures" / "cases"


def year(policy: str, case: str, *reforms: str):
    pol = load_policy(POLICIES / policy, [POLICIES / r for r in reforms])
    return settle_case(pol, load_case(CASES / case))


@pytest.mark.parametrize("cost, cii", [(120_000, 1_320), (150_000, 26_820), (200_000, 69_320)])
def test_national_employees_large_expense_cover_has_no_gap_above_the_basic_cap(cost, cii):
    r = year("china/national_2023.yaml", f"employee_tertiary_{cost}.yaml")
    # Tertiary: deductible 800, 85%, basic cap 100,000 reached at 800 + 100,000 / 0.85 =
    # 118,447.06. Large expense pays 85% of the cost above it: 0.85 x (cost - 118,447.06)
    # = 0.85 x (cost - 800) - 100,000: 1,320 at 120,000; 26,820 at 150,000; 69,320 at 200,000
    # (before: nothing until the self-pay reached 100,000, i.e. cost 200,000).
    b, c = r.year.paid[0], r.year.paid[1]
    np.testing.assert_allclose([b, c], [100_000, cii], atol=0.005)
    # Basic plus large expense stays above 84% of cost (84.43%, 84.55%, 84.66%).
    assert (b + c) / cost > 0.84


@pytest.mark.parametrize("policy, cii", [
    # 2020: basic special drugs 50% capped at 20,000 (national residents' rule, inherited);
    # the 280,000 left is all rare-disease drugs, which critical-illness insurance did not
    # cover before 2021: nothing.
    ("shandong/weihai_2020.yaml", 0),
    # 2021: the three rare diseases' drugs added: 80% x 280,000 = 224,000 (cap 400,000).
    ("shandong/weihai_2021.yaml", 224_000),
])
def test_weihai_covers_rare_disease_drugs_only_from_2021(policy, cii):
    r = year(policy, "rare_disease_resident.yaml")
    np.testing.assert_allclose(r.year.paid, [20_000, cii, 0, 0, 0, 280_000 - cii], atol=0.005)


@pytest.mark.parametrize("reforms, employer", [
    # The city rate including maternity, 8% x 60,000 = 4,800 ...
    ((), 4_800),
    # ... lowered by the Nanhai pilot to 7.5% x 60,000 = 4,500.
    (("reforms/weihai_employer_rate_pilot.yaml",), 4_500),
])
def test_weihai_employer_rate_pilot_lowers_the_city_rate(reforms, employer):
    r = year("shandong/weihai_2021.yaml", "employee_wage_60000.yaml", *reforms)
    assert r.finance["employer"] == pytest.approx(employer)
