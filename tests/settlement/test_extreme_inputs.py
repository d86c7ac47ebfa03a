"""Extreme but valid inputs through settlement and the indicators, on tiny hand-built households.

One household; a household of 20; zero income; an income of 1e9 yuan; a bill of 1e8 yuan;
policies with every rate 0 or 1 and with every cap 0; nobody ill. In every case: each bill
equals the sum of its payers to 0.01 yuan, nothing is infinite, and an indicator whose
denominator is empty is NaN with a reason (never a crash or a silent zero).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from microsim import codes
from microsim.metrics.accumulate import (accumulate, check_range, income_bin_edges,
                                         new_accumulators)
from microsim.metrics.indicators import compute_all, fund_inputs, load_catalogue, make_layout
from microsim.policy.arrays import build_arrays
from microsim.policy.load import load_policy
from microsim.settlement.settle import check_conservation, settle
from tests.builders import build, household, person
from tests.extremes import assert_finite_or_explained, extreme_policy

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = ROOT / "policies" / "china" / "national_2023.yaml"
JIAXING = ROOT / "policies" / "zhejiang" / "jiaxing_2025_plan.yaml"   # every layer, OOP cap
B, CII, MA, SUP, ACC, OOP = range(6)
ALL = (2, 5, 5)                     # residence all, quintile all, status all
LINE = 6_000.0
CATALOGUE = load_catalogue(("poverty",))
LAYOUT = dataclasses.replace(
    make_layout(CATALOGUE, [("poverty", (LINE, LINE))], income_bin_edges()),
    spl=np.array([10_000.0]), subsistence=np.array([4_000.0]))
KINDS = {"general_primary": (300.0, 20.0, 10.0), "hypertension": (900.0, 0.0, 0.0),
         "special_chronic": (12_000.0, 500.0, 300.0), "special_drugs": (40_000.0, 0.0, 20_000.0)}


def sick(scheme="urrbmi", age=50, **kw):
    """A person with an admission at each level and four kinds of outpatient spending."""
    adm = [("primary", 3_000.0, 100.0, 50.0), ("secondary", 20_000.0, 1_500.0, 800.0),
           ("tertiary", 150_000.0, 9_000.0, 30_000.0, True, False)]
    return person(scheme=scheme, age=age, admissions=adm, outpatient=KINDS, **kw)


def households_status(households, j: int) -> int:
    """The status code of the household of the j-th person (persons in household order)."""
    n = 0
    for h in households:
        n += len(h["members"])
        if j < n:
            return codes.STATUS.index(h["status"])
    raise IndexError(j)


def measure(households, policy):
    """Settle, check conservation per bill, accumulate and compute every indicator."""
    hh, ps, ev = build(households)
    claims = settle(build_arrays(policy), hh, ps, ev, seed=11, replicate=0)
    worst = check_conservation(ev, claims, tolerance=0.01)     # raises above a cent per bill
    for arr in (claims.admission_paid, claims.outpatient_paid, claims.finance):
        assert np.isfinite(arr).all()
    acc = new_accumulators(LAYOUT)
    accumulate(acc, LAYOUT, hh, ps, ev, claims)
    check_range(acc)
    got = compute_all(CATALOGUE, LAYOUT, acc, 0, fund_inputs(policy.data))
    assert_finite_or_explained(got.values, got.reasons)
    return ev, claims, got, worst


@pytest.fixture(scope="module")
def national():
    return load_policy(NATIONAL)


def test_one_household_of_one_person(national):
    ev, claims, got, _ = measure([household(members=[sick()])], national)
    # One person of weight 1: population 1; what was paid adds up to the cost.
    assert got.values["population"][ALL] == 1.0
    cost = ev.adm_cost.sum() + ev.outpatient.sum()
    assert got.values["cost_per_person"][ALL] == pytest.approx(cost, abs=0.01)
    # Rural cells are empty: their ratios are NaN, with the reason recorded.
    assert np.isnan(got.values["oop_per_person"][1, 5, 5])
    assert "oop_per_person" in got.reasons


def test_a_household_of_twenty(national):
    members = [sick(scheme=s, age=5 + 4 * i, wage=50_000.0 if s == "uebmi_employed" else 0.0)
               for i, s in enumerate(["urrbmi", "uebmi_employed", "uebmi_retired",
                                      "uninsured"] * 5)]
    ev, claims, got, _ = measure([household(status="dibao", income=20_000.0, members=members)],
                                 national)
    assert len(members) == 20
    # 20 persons in one household of weight 1.
    assert got.values["population"][ALL] == 20.0 and got.values["households"][ALL] == 1.0
    # The payers' shares of the cost sum to 100%, up to the fixed-point rounding of the sums:
    # each of at most 20 persons x 5 kinds of care x 6 payers addends is off by at most
    # 1/2048 yuan, 0.3 yuan in all, on a cost of about 20 x 256,000 yuan: 6e-6 %.
    cost = ev.adm_cost.sum() + ev.outpatient.sum()
    shares = sum(got.values[f"cost_share_{p}"][ALL] for p in codes.PAYER)
    assert shares == pytest.approx(100.0, abs=100 * (20 * 5 * 6 / 2048) / cost)


def test_zero_income_and_consumption_make_any_oop_catastrophic(national):
    ev, claims, got, _ = measure([household(income=0.0, consumption=0.0, food=0.0,
                                            members=[sick()])], national)
    assert claims.admission_paid[:, OOP].sum() > 0
    # A budget that is not positive makes any positive OOP catastrophic (docs/indicators.md):
    # the one person is catastrophic at 10% and 25%, of consumption and of income.
    for name in ("che10", "che25", "che10_income", "che25_income"):
        assert got.values[name][ALL] == 100.0
    # OOP as a share of zero income has an empty denominator: NaN with its reason.
    assert np.isnan(got.values["oop_share_income"][ALL])
    assert got.reasons["oop_share_income"]
    # Below the 6,000 line before and after OOP: poor, not newly impoverished.
    assert got.values["poverty_before_poverty"][ALL] == 100.0
    assert got.values["impoverished_poverty"][ALL] == 0.0


def test_an_income_of_a_billion_yuan(national):
    ev, claims, got, _ = measure([household(income=1e9, consumption=2e8, food=1e7,
                                            members=[sick()])], national)
    oop = claims.admission_paid[:, OOP].sum() + claims.outpatient_paid[0, :, OOP].sum()
    assert 0 < oop < 1e6
    # OOP is below 0.1% of income: not catastrophic, not impoverishing; the share is finite.
    assert got.values["che10_income"][ALL] == 0.0 and got.values["che10"][ALL] == 0.0
    assert got.values["oop_share_income"][ALL] == pytest.approx(100 * oop / 1e9, rel=1e-6)
    assert got.values["income_per_person"][ALL] == pytest.approx(1e9, rel=1e-12)


def test_a_bill_of_a_hundred_million_yuan(national):
    ev, claims, got, worst = measure([household(members=[person(
        scheme="urrbmi", admissions=[("tertiary", 1e8, 0.0, 0.0)])])], national)
    rules = national.data.basic.urrbmi.inpatient
    cii = national.data.critical_illness.residents
    # Basic insurance stops at its annual cap; critical illness at its own.
    assert claims.admission_paid[0, B] == pytest.approx(rules.annual_cap, abs=0.01)
    assert claims.admission_paid[0, CII] == pytest.approx(cii.annual_cap, abs=0.01)
    # The rest, to the cent, is out of pocket: 1e8 - the two caps.
    assert claims.admission_paid[0, OOP] == pytest.approx(
        1e8 - rules.annual_cap - cii.annual_cap, abs=0.01)
    assert worst <= 0.01


@pytest.mark.parametrize("kind", ["rates0", "rates1", "caps0"])
@pytest.mark.parametrize("base", [NATIONAL, JIAXING], ids=["national", "jiaxing_2025"])
def test_policies_with_every_rate_0_or_1_or_every_cap_0(base, kind):
    policy = extreme_policy(base, kind)
    statuses = ["general", "tekun", "dibao", "dibian", "monitored"]
    households = [household(residence=("urban", "rural")[i % 2], status=s,
                            income=8_000.0 * (i + 1), members=[
                                sick("urrbmi", 70), sick("uebmi_employed", 40, wage=80_000.0),
                                sick("uebmi_retired", 65), sick("uninsured", 30)])
                  for i, s in enumerate(statuses)]
    ev, claims, got, _ = measure(households, policy)
    paid = np.concatenate([claims.admission_paid, claims.outpatient_paid.reshape(-1, 6)])
    if kind == "rates0":
        # Every layer pays a rate of nothing; only the individual account (a credit, not a
        # rate) and an out-of-pocket cap for poor families (Jiaxing) may pay.
        assert paid[:, [B, CII, SUP]].sum() == 0.0
        if base == NATIONAL:
            assert paid[:, MA].sum() == 0.0
    elif kind == "caps0":
        # Caps of 0 on every layer's payout: basic and supplementary pay nothing; critical
        # illness pays only residents of groups whose tilt lifts its cap (no_cap).
        assert paid[:, [B, SUP]].sum() == 0.0
        tilt = policy.data.critical_illness.residents.tilt
        for j in range(len(claims.enrolled)):
            status = codes.STATUS[households_status(households, j)]
            lifted = status in tilt and tilt[status].no_cap and j % 4 == 0   # residents
            first, last = ev.adm_offsets[j], ev.adm_offsets[j + 1]
            cii = claims.admission_paid[first:last, CII].sum() + claims.outpatient_paid[j, :, CII].sum()
            assert (cii > 0) == lifted, (j, status)
    else:
        # Every rate 1: basic pays all policy-range cost above deductibles, up to its caps.
        assert paid[:, B].sum() > 0 and got.values["cost_share_basic"][ALL] > 0
        if base == NATIONAL:
            # The URRBMI member of the first (general) household: deductibles 100 at primary
            # and 400 at secondary level, so basic pays 3,000 - 100 and 20,000 - 400; the
            # tertiary admission is out of area, whose rate cut (now 1) leaves a rate of 0.
            rules = policy.data.basic.urrbmi
            first = ev.adm_offsets[0]
            assert (rules.inpatient.deductible.primary, rules.inpatient.deductible.secondary,
                    rules.inpatient.out_of_area.rate_cut) == (100, 400, 1.0)
            np.testing.assert_allclose(claims.admission_paid[first:first + 3, B],
                                       [2_900.0, 19_600.0, 0.0], rtol=0, atol=1e-9)
            # Outpatient, no deductibles: each kind's whole policy-range spending up to its
            # cap (general primary 300, hypertension 900, 门诊慢特病 12,000, special drugs
            # 40,000 against caps of 100, 400, 509.65 and 5,096.5 in the file).
            op = claims.outpatient_paid[0, :, B]
            kinds = [codes.OUTPATIENT_KIND.index(k) for k in KINDS]
            caps = [rules.outpatient.annual_cap, rules.two_disease.caps.hypertension,
                    rules.special_chronic.annual_cap, rules.special_drugs.annual_cap]
            np.testing.assert_allclose(op[kinds], np.minimum(caps, [300, 900, 12_000, 40_000]),
                                       rtol=0, atol=1e-9)
    if base == NATIONAL:
        # The uninsured member of the general household pays every bill in full, whatever
        # the rates or caps: 3,150, 22,300 and 189,000 for the admissions.
        j = 3
        a0, a1 = ev.adm_offsets[j], ev.adm_offsets[j + 1]
        np.testing.assert_array_equal(claims.admission_paid[a0:a1, OOP],
                                      [3_150.0, 22_300.0, 189_000.0])
        np.testing.assert_array_equal(claims.outpatient_paid[j, :, OOP],
                                      ev.outpatient[j].sum(axis=1))
        assert claims.admission_paid[a0:a1, :OOP].sum() == 0.0
    if kind == "rates0" and base == NATIONAL:
        # With every rate 0 nobody but an individual account pays: the URRBMI member (no
        # account) pays every bill in full.
        a0, a1 = ev.adm_offsets[0], ev.adm_offsets[1]
        np.testing.assert_array_equal(claims.admission_paid[a0:a1, OOP], ev.adm_cost[a0:a1].sum(1))
        np.testing.assert_array_equal(claims.outpatient_paid[0, :, OOP],
                                      ev.outpatient[0].sum(axis=1))


def test_nobody_ill_gives_zeros_for_counts_and_nan_with_reasons_for_ratios(national):
    households = [household(status=s, members=[person(scheme=sch) for sch in
                                               ("urrbmi", "uebmi_employed", "uninsured")])
                  for s in ("general", "dibao")]
    ev, claims, got, _ = measure(households, national)
    assert claims.admission_paid.size == 0 and claims.outpatient_paid.sum() == 0
    # Counts and shares of persons are zero, not NaN: there are persons, none with a bill.
    for name in ("cost_per_person", "oop_per_person", "che10", "che25", "admission_rate",
                 "impoverished_poverty"):
        assert got.values[name][ALL] == 0.0, name
    # Ratios over costs have an empty denominator: NaN, each with its reason, never 0.
    for name in ("inpatient_pr_reimbursement", "effective_reimbursement",
                 "chronic_outpatient_reimbursement", "comprehensive_coverage",
                 "cost_share_out_of_pocket", "mpo10", "ci_oop"):
        assert np.isnan(got.values[name][ALL]), name
        assert got.reasons[name], name
