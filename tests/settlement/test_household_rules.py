"""Rules that look at the whole household, worked by hand on two-person households.

Policy: tests/fixtures/policy_simple.yaml (residents: tertiary deductible 1,000, rate 50%),
plus the rules each test adds.
"""

from __future__ import annotations

import numpy as np
import pytest

from microsim.policy.arrays import build_arrays
from microsim.policy.load import load_policy
from microsim.settlement import settle
from tests.builders import build, household, person
from tests.conftest import FIXTURES

MA, OOP = 2, 5


def _overlay(tmp_path, body: str):
    path = tmp_path / "rules.yaml"
    path.write_text("name: rules\n" + body, encoding="utf-8")
    return build_arrays(load_policy(FIXTURES / "policy_simple.yaml", [path]))


def _two_members(status, income=8000.0):
    # A: tertiary 21,000 -> basic 50% x 20,000 = 10,000; self-pay 11,000 passes the CII
    #    threshold 10,000 (no tilt for these statuses): CII 60% x 1,000 = 600; self-pay 10,400.
    # B: tertiary 11,000 -> basic 50% x 10,000 = 5,000; self-pay 6,000.
    return build([household("urban", status, income=income, members=[
        person("urrbmi", 40, admissions=[("tertiary", 21_000, 0, 0)]),
        person("urrbmi", 40, admissions=[("tertiary", 11_000, 0, 0)])])])


def test_household_out_of_pocket_cap_is_shared_in_proportion(tmp_path):
    q = _overlay(tmp_path, "add: {medical_assistance: {oop_cap: {per: household, "
                           "groups: {dibian: 4000}}}}\n")
    hh, ps, ev = _two_members("dibian")
    c = settle(q, hh, ps, ev, seed=1, replicate=0)
    # No assistance group for 低边 in the fixture, only the cap: self-pay 10,400 + 6,000 =
    # 16,400 > 4,000, so assistance pays 12,400 as the same share of every member's self-pay:
    # A keeps 10,400 x 4,000 / 16,400 = 2,536.59, B keeps 6,000 x 4,000 / 16,400 = 1,463.41.
    np.testing.assert_allclose(c.admission_paid[:, OOP], [2536.585366, 1463.414634], atol=1e-5)
    assert c.admission_paid[:, OOP].sum() == pytest.approx(4000)


def test_person_out_of_pocket_cap(tmp_path):
    q = _overlay(tmp_path, "add: {medical_assistance: {oop_cap: {per: person, "
                           "groups: {dibian: 4000}}}}\n")
    hh, ps, ev = _two_members("dibian")
    c = settle(q, hh, ps, ev, seed=1, replicate=0)
    # Each capped at 4,000: A 10,400 -> 4,000 (assistance 6,400), B 6,000 -> 4,000 (2,000).
    np.testing.assert_allclose(c.admission_paid[:, MA], [6400, 2000], atol=1e-6)
    np.testing.assert_allclose(c.admission_paid[:, OOP], [4000, 4000], atol=1e-6)


def test_a_member_share_of_a_household_cap_can_rise_when_another_bill_falls(tmp_path):
    """A household cap binds the household: when one member's bill falls, the household pays
    no more, but another member's share of the capped amount can rise."""
    q = _overlay(tmp_path, "add: {medical_assistance: {oop_cap: {per: household, "
                           "groups: {dibian: 4000}}}}\n")
    hh, ps, ev = _two_members("dibian")
    before = settle(q, hh, ps, ev, seed=1, replicate=0)
    # A's bill falls to 16,000: basic 50% x 15,000 = 7,500, self-pay 8,500 (below the CII
    # threshold). Household self-pay 14,500; B keeps 6,000 x 4,000 / 14,500 = 1,655.17
    # instead of 1,463.41, and the household still 4,000.
    ev.adm_cost[0, 0] = 16_000
    after = settle(q, hh, ps, ev, seed=1, replicate=0)
    assert after.admission_paid[1, OOP] == pytest.approx(6000 * 4000 / 14_500)
    assert after.admission_paid[1, OOP] > before.admission_paid[1, OOP]
    assert after.admission_paid[:, OOP].sum() == pytest.approx(4000)


def test_illness_hardship_looks_at_the_household_burden(tmp_path):
    q = _overlay(tmp_path, "add: {medical_assistance: {illness_hardship: {share_of_income: 0.5}, "
                           "groups: {illness_hardship: {deductible: 5000, rate: 0.5, "
                           "annual_cap: 50000}}}}\n")
    # Household income 30,000: eligible above 15,000 of in-catalogue self-pay. A 10,400
    # (after CII) + B 6,000 = 16,400: eligible, though neither member alone would be.
    hh, ps, ev = _two_members("general", income=30_000)
    c = settle(q, hh, ps, ev, seed=1, replicate=0)
    assert c.group.tolist() == [5]
    # Each member's own deductible: A 50% x (10,400 - 5,000) = 2,700, B 50% x 1,000 = 500.
    np.testing.assert_allclose(c.admission_paid[:, MA], [2700, 500], atol=1e-6)
    # Income 40,000: threshold 20,000 > 16,400: not eligible.
    hh, ps, ev = _two_members("general", income=40_000)
    c = settle(q, hh, ps, ev, seed=1, replicate=0)
    assert c.group.tolist() == [0] and c.admission_paid[:, MA].sum() == 0


def test_uptake_share_draws_the_same_people_in_every_scenario(tmp_path):
    def enrolled(uptake: float, replicate: int = 0):
        q = _overlay(tmp_path, "add: {supplementary: {name: s, premium: 100, enrolment: "
                               f"{uptake}, liabilities: [{{name: l, base: class_b, bands: "
                               "[{from: 0, rate: 0.5}], annual_cap: 1000}]}}\n")
        hh, ps, ev = build([household(members=[person("urrbmi", 40)]) for _ in range(4000)])
        return settle(q, hh, ps, ev, seed=3, replicate=replicate).enrolled

    low, high = enrolled(0.3), enrolled(0.5)
    # Binomial(4,000, 0.3): standard deviation sqrt(0.3 x 0.7 / 4,000) = 0.0072; 5 sd = 0.036;
    # at 0.5, sqrt(0.25 / 4,000) = 0.0079, 5 sd = 0.040.
    assert abs(low.mean() - 0.3) < 0.036 and abs(high.mean() - 0.5) < 0.04
    # Common random numbers: whoever buys at 30% uptake also buys at 50%.
    assert (high >= low).all()
    assert (enrolled(0.3) == low).all()
    assert (enrolled(0.3, replicate=1) != low).any()


@pytest.mark.parametrize("share, own_bill, child_account, child_oop", [
    # The employee's wage of 60,000 lies inside the base (36,000 .. 180,000): 2% = 1,200 is
    # credited to the account. The child (URRBMI) has one tertiary admission of 3,000 in the
    # policy range: basic pays 50% x (3,000 - 1,000) = 1,000, leaving 2,000 in-catalogue.
    (0.0, False, 0.0, 2000.0),      # no family sharing: the child pays the 2,000
    (0.5, False, 600.0, 1400.0),    # half of the unused 1,200 pays the child's care
    (1.0, False, 1200.0, 800.0),    # all of it
    # The employee's own tertiary outpatient bill of 700: basic 60% x (700 - 200) = 300, the
    # account pays the other 400 first; 800 is left for the child.
    (1.0, True, 800.0, 1200.0),
])
def test_family_members_share_what_is_left_in_an_account(tmp_path, share, own_bill,
                                                        child_account, child_oop):
    q = _overlay(tmp_path, f"changes: {{}}\nadd: {{financing: {{employees: "
                           f"{{account_family_share: {share}}}}}}}\n") if share else \
        build_arrays(load_policy(FIXTURES / "policy_simple.yaml"))
    employee = person("uebmi_employed", 40, wage=60_000.0, outpatient=(
        {"general_tertiary": (700.0, 0.0, 0.0)} if own_bill else None))
    child = person("urrbmi", 8, admissions=[("tertiary", 3_000, 0, 0)])
    hh, ps, ev = build([household("urban", "general", members=[employee, child])])
    c = settle(q, hh, ps, ev, seed=1, replicate=0)
    ACCOUNT = 4
    assert c.admission_paid[0, ACCOUNT] == pytest.approx(child_account)
    assert c.admission_paid[0, OOP] == pytest.approx(child_oop)
    if own_bill:
        kind = 2   # general_tertiary
        assert c.outpatient_paid[0, kind, ACCOUNT] == pytest.approx(400.0)
    # every bill is conserved: what the layers and the family paid add up to its cost
    assert c.admission_paid[0].sum() == pytest.approx(3_000.0)
