"""Every indicator family on ten hand-built households, with the answers worked on paper.

The population (weight 1 each, 12 persons; per-capita income ascending, each household in its
own income bin, so the grid ranks persons exactly):

 hh  residence status     members (scheme)                  income   cons   food  OOP    household-paid contributions
 H1  rural     tekun      1 urrbmi                            5,000   6,000  3,000 1,000      0 (assisted 380)
 H2  rural     dibao      1 urrbmi                            7,000   7,500  3,500     0    114 (assisted 266)
 H3  rural     general    2 urrbmi                           15,000  14,000  5,000 4,000    760
 H4  rural     dibian     1 urrbmi                           12,000   9,000  4,000   600    380
 H5  rural     monitored  1 urrbmi                           20,000  15,000  5,000     0    190 (assisted 190)
 H6  urban     general    1 uebmi_employed                   30,000  18,000  6,000 6,000    700 (600 employee + 100 premium)
 H7  urban     general    1 uebmi_retired                    40,000  25,000  7,000     0      0
 H8  urban     general    2 (uebmi_employed, urrbmi)        100,000  60,000 12,000 2,000  1,580 (1,200 employee + 380)
 H9  urban     general    1 uninsured                        80,000  40,000  8,000     0      0
 H10 urban     general    1 uebmi_employed                  150,000  70,000 10,000 3,000  2,000

Bills (parts: policy-range, class-B, out-of-catalogue; payers: basic, critical illness,
assistance, supplementary, account, out of pocket):
 H1  admission 10,000/0/0        basic 6,000  CII 500  MA 2,500                 OOP 1,000
 H3a admission 8,000/1,000/1,000 basic 6,000                                    OOP 4,000
 H4  hypertension 1,000/0/0      basic 400                                      OOP 600
 H6  admission 40,000/0/5,000    basic 30,000 CII 2,000 sup 2,000 account 5,000 OOP 6,000
 H7  门诊慢特病 5,000/0/0         basic 4,000                      account 1,000
 H8a general secondary 3,000/500/500 basic 1,500                  account 500   OOP 2,000
 H10 admission 20,000/2,000/3,000 basic 18,000                    account 4,000 OOP 3,000
Cost 100,000 = basic 65,900 + CII 2,500 + MA 2,500 + sup 2,000 + account 10,500 + OOP 16,600.
Individual-account credits (not contributions paid by households, not fund revenue): H6 600,
H7 1,200 (a retiree's credit), H8a 1,200, H10 2,000 = 5,000.

Lines: poverty line 6,000 yuan per person for both residences; societal poverty line 10,000
per person; subsistence line 4,000 per equivalent adult.
Fund inputs: residents' CII paid by the basic fund, employees' separate; opening balance 20,000
per UEBMI member and 2,000 per URRBMI member; medical-assistance financing 400 per person
and an accumulated medical-assistance balance of 100 per person at the start of the year.
Persons are ranked (in twelfths) H1 0.5, H2 1.5, H3 3, H4 4.5, H5 5.5, H6 6.5, H7 7.5, H8 9,
H9 10.5, H10 11.5 (mid-point of each household's cumulative share of the 12 persons).
"""

from __future__ import annotations

import numpy as np
import pytest

from microsim import codes
from microsim.metrics.accumulate import Layout, accumulate, income_bin_edges, new_accumulators
from microsim.metrics.indicators import FundInputs, compute_all, load_catalogue, make_layout
from microsim.settlement.settle import Claims
from tests.builders import build, household, person

ALL = (2, 5, 5)                     # residence all, quintile all, status all
RURAL, URBAN = (1, 5, 5), (0, 5, 5)
KIND = {k: i for i, k in enumerate(codes.OUTPATIENT_KIND)}
PAYER = {p: i for i, p in enumerate(codes.PAYER)}
FIN = {f: i for i, f in enumerate(codes.FINANCE)}

# (household, members); each member: (person builder kwargs, payer splits, finance, enrolled)
POPULATION = [
    (dict(residence="rural", status="tekun", income=5_000, consumption=6_000, food=3_000),
     [(dict(scheme="urrbmi", admissions=[("secondary", 10_000, 0, 0)]),
       {"adm": [dict(basic=6_000, critical_illness=500, assistance=2_500, out_of_pocket=1_000)]},
       dict(subsidy=640, assisted=380, premium_government=100), True)]),
    (dict(residence="rural", status="dibao", income=7_000, consumption=7_500, food=3_500),
     [(dict(scheme="urrbmi"), {}, dict(individual=114, assisted=266, subsidy=640), False)]),
    (dict(residence="rural", status="general", income=15_000, consumption=14_000, food=5_000),
     [(dict(scheme="urrbmi", admissions=[("tertiary", 8_000, 1_000, 1_000)]),
       {"adm": [dict(basic=6_000, out_of_pocket=4_000)]},
       dict(individual=380, subsidy=640), False),
      (dict(scheme="urrbmi"), {}, dict(individual=380, subsidy=640), False)]),
    (dict(residence="rural", status="dibian", income=12_000, consumption=9_000, food=4_000),
     [(dict(scheme="urrbmi", outpatient={"hypertension": (1_000, 0, 0)}),
       {"hypertension": dict(basic=400, out_of_pocket=600)},
       dict(individual=380, subsidy=640), False)]),
    (dict(residence="rural", status="monitored", income=20_000, consumption=15_000, food=5_000),
     [(dict(scheme="urrbmi"), {}, dict(individual=190, assisted=190, subsidy=640), False)]),
    (dict(residence="urban", status="general", income=30_000, consumption=18_000, food=6_000),
     [(dict(scheme="uebmi_employed", admissions=[("tertiary", 40_000, 0, 5_000)]),
       {"adm": [dict(basic=30_000, critical_illness=2_000, supplementary=2_000, account=5_000,
                     out_of_pocket=6_000)]},
       dict(employer=1_800, employee=600, premium_household=100, account_credit=600), True)]),
    (dict(residence="urban", status="general", income=40_000, consumption=25_000, food=7_000),
     [(dict(scheme="uebmi_retired", outpatient={"special_chronic": (5_000, 0, 0)}),
       {"special_chronic": dict(basic=4_000, account=1_000)}, dict(account_credit=1_200), False)]),
    (dict(residence="urban", status="general", income=100_000, consumption=60_000, food=12_000),
     [(dict(scheme="uebmi_employed", outpatient={"general_secondary": (3_000, 500, 500)}),
       {"general_secondary": dict(basic=1_500, account=500, out_of_pocket=2_000)},
       dict(employer=3_600, employee=1_200, account_credit=1_200), False),
      (dict(scheme="urrbmi"), {}, dict(individual=380, subsidy=640), False)]),
    (dict(residence="urban", status="general", income=80_000, consumption=40_000, food=8_000),
     [(dict(scheme="uninsured"), {}, {}, False)]),
    (dict(residence="urban", status="general", income=150_000, consumption=70_000, food=10_000),
     [(dict(scheme="uebmi_employed", admissions=[("tertiary", 20_000, 2_000, 3_000)]),
       {"adm": [dict(basic=18_000, account=4_000, out_of_pocket=3_000)]},
       dict(employer=6_000, employee=2_000, account_credit=2_000), False)]),
]


def build_population():
    hh, ps, ev = build([household(weight=1.0, **h, members=[person(**m[0]) for m in members])
                        for h, members in POPULATION])
    members = [m for _, ms in POPULATION for m in ms]
    adm_paid = np.zeros((ev.n_admissions, 6))
    op_paid = np.zeros((len(ps), len(codes.OUTPATIENT_KIND), 6))
    finance = np.zeros((len(ps), len(codes.FINANCE)))
    enrolled = np.zeros(len(ps), bool)
    for j, (_, paid, fin, enrol) in enumerate(members):
        for a, split in enumerate(paid.get("adm", [])):
            for payer, amount in split.items():
                adm_paid[ev.adm_offsets[j] + a, PAYER[payer]] = amount
        for kind, split in paid.items():
            if kind != "adm":
                for payer, amount in split.items():
                    op_paid[j, KIND[kind], PAYER[payer]] = amount
        for flow, amount in fin.items():
            finance[j, FIN[flow]] = amount
        enrolled[j] = enrol
    claims = Claims(adm_paid, op_paid, finance, np.zeros(len(hh), np.int8), enrolled)
    # The hand-built bills respect conservation: every bill equals the sum of its payers.
    np.testing.assert_allclose(ev.adm_cost.sum(1), adm_paid.sum(1))
    np.testing.assert_allclose(ev.outpatient.sum(2), op_paid.sum(2))
    return hh, ps, ev, claims


FUNDS = FundInputs(cii_in_basic_fund=(False, False, False, True),
                   opening_balance=(0.0, 20_000.0, 20_000.0, 2_000.0), assistance_financing=400.0,
                   assistance_opening_balance=100.0)


def layout_with(spl=10_000.0, subsistence=4_000.0) -> Layout:
    catalogue = load_catalogue(("line",))
    layout = make_layout(catalogue, [("line", (6_000.0, 6_000.0))], income_bin_edges())
    return Layout(**{**layout.__dict__, "spl": np.array([spl]),
                     "subsistence": np.array([subsistence])})


@pytest.fixture(scope="module")
def got():
    hh, ps, ev, claims = build_population()
    layout = layout_with()
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims, 0)
    return compute_all(load_catalogue(("line",)), layout, acc, 0, FUNDS)


def v(got, name, cell=ALL):
    return float(got.values[name][cell])


def test_totals_and_out_of_pocket(got):
    assert v(got, "population") == pytest.approx(12)
    assert v(got, "households") == pytest.approx(10)
    # OOP 1,000 + 4,000 + 600 + 6,000 + 2,000 + 3,000 = 16,600 over 12 persons, 10 households.
    assert v(got, "oop_per_person") == pytest.approx(16_600 / 12)
    assert v(got, "oop_per_household") == pytest.approx(1_660)
    # Income 5,000 + 7,000 + 15,000 + 12,000 + 20,000 + 30,000 + 40,000 + 100,000 + 80,000
    # + 150,000 = 459,000; consumption 264,500.
    assert v(got, "oop_share_income") == pytest.approx(100 * 16_600 / 459_000)
    assert v(got, "oop_share_consumption") == pytest.approx(100 * 16_600 / 264_500)
    # Households with OOP: H1, H3 (2), H4, H6, H8 (2), H10 = 8 persons of 12.
    assert v(got, "oop_incidence") == pytest.approx(100 * 8 / 12)
    assert v(got, "cost_per_person") == pytest.approx(100_000 / 12)


def test_payments_by_layer_add_up_to_the_cost(got):
    shares = {p: v(got, f"cost_share_{p}") for p in codes.PAYER}
    assert shares == pytest.approx({"basic": 65.9, "critical_illness": 2.5, "assistance": 2.5,
                                    "supplementary": 2.0, "account": 10.5, "out_of_pocket": 16.6})
    assert sum(shares.values()) == pytest.approx(100.0)
    assert v(got, "paid_per_person_account") == pytest.approx(10_500 / 12)
    # Effective reimbursement: (65,900 + 2,500 + 2,500 + 2,000) / 100,000 (accounts excluded).
    assert v(got, "effective_reimbursement") == pytest.approx(72.9)


def test_catastrophic_spending_sdg_2024(got):
    # OOP / consumption: H1 1/6, H3 4/14, H4 1/15, H6 1/3, H8 1/30, H10 3/70.
    # Above 10%: H1 (1 person), H3 (2), H6 (1) = 4 of 12; above 25%: H3, H6 = 3.
    assert v(got, "che10") == pytest.approx(100 * 4 / 12)
    assert v(got, "che25") == pytest.approx(100 * 3 / 12)
    assert v(got, "che10_households") == pytest.approx(30.0)
    assert v(got, "che25_households") == pytest.approx(20.0)
    # OOP / income: H1 20%, H3 4,000/15,000 = 26.7%, H4 5%, H6 20%, H8 2%, H10 2%.
    assert v(got, "che10_income") == pytest.approx(100 * 4 / 12)
    assert v(got, "che25_income") == pytest.approx(100 * 2 / 12)
    assert v(got, "che25_income_households") == pytest.approx(10.0)
    # Overshoot at 10% of consumption: H1 1/6 - 1/10 = 1/15; H3 2 x (2/7 - 1/10) = 13/35;
    # H6 1/3 - 1/10 = 7/30; sum 14/210 + 78/210 + 49/210 = 141/210 over 12 persons.
    assert v(got, "overshoot10") == pytest.approx(100 * 141 / 210 / 12)
    assert v(got, "mpo10") == pytest.approx(100 * 141 / 210 / 4)
    # At 25%: H3 2 x (2/7 - 1/4) = 1/14; H6 1/3 - 1/4 = 1/12; sum 13/84.
    assert v(got, "overshoot25") == pytest.approx(100 * 13 / 84 / 12)
    assert v(got, "mpo25") == pytest.approx(100 * 13 / 84 / 3)
    # By residence: rural CHE10 = H1 + H3 = 3 of 6 persons; urban H6 = 1 of 6.
    assert v(got, "che10", RURAL) == pytest.approx(50.0)
    assert v(got, "che10", URBAN) == pytest.approx(100 / 6)


def test_catastrophic_spending_capacity_to_pay(got):
    # Subsistence 4,000 x size^0.56; capacity = consumption - subsistence, or - food where
    # food is lower: H1 food 3,000 < 4,000 -> 6,000 - 3,000 = 3,000 (OOP 33%: no);
    # H3 food 5,000 < 4,000 x 2^0.56 = 5,897 -> 14,000 - 5,000 = 9,000 (OOP 44%: yes);
    # H4 9,000 - 4,000 = 5,000 (12%: no); H6 18,000 - 4,000 = 14,000 (43%: yes);
    # H8 60,000 - 5,897 (3.7%: no); H10 66,000 (4.5%: no). Catastrophic: H3 (2) + H6 (1).
    assert v(got, "che40_ctp") == pytest.approx(100 * 3 / 12)
    assert v(got, "che40_ctp_households") == pytest.approx(20.0)
    # Overshoot: H3 2 x (4/9 - 2/5) = 4/45; H6 3/7 - 2/5 = 1/35; sum 28/315 + 9/315 = 37/315.
    assert v(got, "overshoot40_ctp") == pytest.approx(100 * 37 / 315 / 12)
    assert v(got, "mpo40_ctp") == pytest.approx(100 * 37 / 315 / 3)
    # Capacity summed: 3,000 + 4,000 (H2: 7,500 - 3,500) + 9,000 + 5,000 + 11,000 + 14,000
    # + 21,000 + (60,000 - 4,000 x 2^0.56) + 36,000 + 66,000.
    assert v(got, "capacity_to_pay_per_person") == pytest.approx(
        (229_000 - 4_000 * 2 ** 0.56) / 12)


def test_catastrophic_spending_sdg_2025(got):
    # Discretionary budget = consumption - 10,000 x size: H1 -4,000, H2 -2,500, H3 -6,000,
    # H4 -1,000, H5 5,000, H6 8,000, H7 15,000, H8 40,000, H9 30,000, H10 60,000.
    # Positive OOP with a budget <= 0: H1, H3, H4 (impoverishing: 4 persons); H6 6,000 >
    # 40% x 8,000 but not above 8,000 (large, 1 person); H8 2,000 < 16,000; H10 3,000 < 24,000.
    assert v(got, "sdg2025") == pytest.approx(100 * 5 / 12)
    assert v(got, "sdg2025_impoverishing") == pytest.approx(100 * 4 / 12)
    assert v(got, "sdg2025_large") == pytest.approx(100 * 1 / 12)
    assert v(got, "sdg2025_households") == pytest.approx(40.0)
    # Below the line before OOP: H1, H2, H3 (2), H4 = 5 persons.
    assert v(got, "below_societal_poverty_line") == pytest.approx(100 * 5 / 12)


def test_impoverishment_by_income(got):
    # Line 6,000 per person. Per-capita income before -> after OOP: H1 5,000 -> 4,000 (poor
    # before, further impoverished); H3 7,500 -> 5,500 (pushed below, 2 persons); H4
    # 12,000 -> 11,400; others stay above.
    assert v(got, "poverty_before_line") == pytest.approx(100 * 1 / 12)
    assert v(got, "poverty_after_line") == pytest.approx(100 * 3 / 12)
    assert v(got, "impoverished_line") == pytest.approx(100 * 2 / 12)
    assert v(got, "further_impoverished_line") == pytest.approx(100 * 1 / 12)
    # Gap before: H1 1,000; after: H1 2,000 + H3 2 x 500 = 3,000; per person of 12.
    assert v(got, "poverty_gap_before_line") == pytest.approx(1_000 / 12)
    assert v(got, "poverty_gap_after_line") == pytest.approx(3_000 / 12)
    assert v(got, "poverty_gap_increase_line") == pytest.approx(2_000 / 12)
    # Normalised: before 1,000/6,000 = 1/6; after 2,000/6,000 + 2 x 500/6,000 = 1/2.
    assert v(got, "poverty_gap_index_before_line") == pytest.approx(100 / 6 / 12)
    assert v(got, "poverty_gap_index_after_line") == pytest.approx(100 / 2 / 12)


def test_impoverishment_by_consumption(got):
    # Per-capita consumption: H1 6,000 (not below a line of 6,000) -> 5,000 (pushed);
    # H3 7,000 -> 5,000 (pushed, 2 persons); H4 9,000 -> 8,400; nobody poor before.
    assert v(got, "poverty_before_consumption_line") == pytest.approx(0.0)
    assert v(got, "impoverished_consumption_line") == pytest.approx(100 * 3 / 12)
    assert v(got, "further_impoverished_consumption_line") == pytest.approx(0.0)
    # Gap after: H1 1,000 + H3 2 x 1,000 = 3,000.
    assert v(got, "poverty_gap_increase_consumption_line") == pytest.approx(3_000 / 12)


def test_policy_ratios(got):
    # Inpatient: basic + CII over policy-range cost of insured admissions:
    # (6,000 + 500 + 6,000 + 30,000 + 2,000 + 18,000) / (10,000 + 8,000 + 40,000 + 20,000).
    assert v(got, "inpatient_pr_reimbursement") == pytest.approx(100 * 62_500 / 78_000)
    assert v(got, "inpatient_pr_reimbursement_employees") == pytest.approx(100 * 50_000 / 60_000)
    assert v(got, "inpatient_pr_reimbursement_residents") == pytest.approx(100 * 12_500 / 18_000)
    # Chronic outpatient: (400 two-disease + 4,000 门诊慢特病) / (1,000 + 5,000).
    assert v(got, "chronic_outpatient_reimbursement") == pytest.approx(100 * 4_400 / 6_000)
    assert v(got, "chronic_outpatient_reimbursement_employees") == pytest.approx(80.0)
    assert v(got, "chronic_outpatient_reimbursement_residents") == pytest.approx(40.0)
    assert v(got, "chronic_outpatient_reimbursement_primary") == pytest.approx(40.0)
    # 门诊慢特病 alone (Lishui's definition): H7's 4,000 of 5,000, 两病 left out; no resident
    # has 门诊慢特病 spending, so the residents' ratio does not exist.
    assert v(got, "special_chronic_reimbursement") == pytest.approx(80.0)
    assert v(got, "special_chronic_reimbursement_employees") == pytest.approx(80.0)
    assert np.isnan(v(got, "special_chronic_reimbursement_residents"))
    # Comprehensive coverage (basic + CII + MA over policy-range cost), 特困 (H1):
    # (6,000 + 500 + 2,500) / 10,000; 低边 (H4) 400 / 1,000; all: 70,900 / 87,000.
    tekun, dibian = codes.STATUS.index("tekun"), codes.STATUS.index("dibian")
    assert v(got, "comprehensive_coverage", (2, 5, tekun)) == pytest.approx(90.0)
    assert v(got, "comprehensive_coverage", (2, 5, dibian)) == pytest.approx(40.0)
    assert v(got, "comprehensive_coverage") == pytest.approx(100 * 70_900 / 87_000)
    # Supplementary: 2,000 of 100,000 spending; enrolled H1 and H6 of 12; premiums 200.
    assert v(got, "supplementary_payout_share") == pytest.approx(2.0)
    assert v(got, "supplementary_enrolment") == pytest.approx(100 * 2 / 12)
    assert v(got, "supplementary_loss_ratio") == pytest.approx(1_000.0)


def test_fund_balances(got):
    # URRBMI members: H1, H2, H3 (2), H4, H5, H8b = 7; revenue 7 x (640 subsidy + 380
    # contributions, individual or assisted) = 7,140. Expenditure: basic 6,000 + 6,000 + 400
    # plus residents' CII 500 (paid by the basic fund) = 12,900.
    assert v(got, "insured_urrbmi") == pytest.approx(7e-6)
    assert v(got, "fund_revenue_urrbmi") == pytest.approx(7_140e-9)
    assert v(got, "fund_subsidies_urrbmi") == pytest.approx(4_480e-9)
    assert v(got, "fund_expenditure_urrbmi") == pytest.approx(12_900e-9)
    assert v(got, "fund_balance_urrbmi") == pytest.approx(-5_760e-9)
    # Reserve months: (7 x 2,000 opening + 7,140 - 12,900) / (12,900 / 12).
    assert v(got, "reserve_months_urrbmi") == pytest.approx(12 * 8_240 / 12_900)
    assert v(got, "expenditure_per_insured_urrbmi") == pytest.approx(12_900 / 7)
    # UEBMI: H6, H7, H8a, H10; revenue employer 11,400 + employee 3,800 = 15,200;
    # expenditure basic 30,000 + 4,000 + 1,500 + 18,000 + accounts 10,500 = 64,000 (their
    # CII 2,000 is paid separately); reserve months 12 x (80,000 - 48,800) / 64,000.
    assert v(got, "fund_revenue_uebmi") == pytest.approx(15_200e-9)
    assert v(got, "fund_expenditure_uebmi") == pytest.approx(64_000e-9)
    assert v(got, "reserve_months_uebmi") == pytest.approx(12 * 31_200 / 64_000)
    assert v(got, "payout_critical_illness_uebmi") == pytest.approx(2_000e-9)
    # Medical assistance: payouts 2,500 + assisted contributions 380 + 266 + 190 = 3,336;
    # financing 12 x 400 = 4,800; accumulated balance at the end of the year: opening
    # 12 x 100 = 1,200 + 4,800 - 3,336 = 2,664, over the year's financing 4,800 (the year's
    # own balance alone would be 1,464 / 4,800).
    assert v(got, "assistance_expenditure") == pytest.approx(3_336e-9)
    assert v(got, "assistance_contribution_share") == pytest.approx(100 * 836 / 3_336)
    assert v(got, "assistance_balance_share") == pytest.approx(100 * 2_664 / 4_800)


def test_concentration_and_kakwani_indices(got):
    r = np.array([0.5, 1.5, 3, 4.5, 5.5, 6.5, 7.5, 9, 10.5, 11.5]) / 12   # fractional ranks
    # CI of OOP: 2 sum(y r) / Y - 1 = 2 x 106,700/12 / 16,600 - 1 = 14,200 / 199,200.
    oop = np.array([1_000, 0, 4_000, 600, 0, 6_000, 0, 2_000, 0, 3_000])
    assert 2 * (oop * r).sum() / oop.sum() - 1 == pytest.approx(14_200 / 199_200)
    assert v(got, "ci_oop") == pytest.approx(14_200 / 199_200)
    # Erreygers, CHE at 10% of consumption: persons with CHE 1 (H1), 2 (H3), 1 (H6);
    # C = 2 x (0.5 + 6 + 6.5)/12 / 4 - 1 = -22/48; E = 4 x mean (4/12) x C = -11/18.
    assert v(got, "erreygers_che10") == pytest.approx(-11 / 18)
    # Gini of income: 2 x 4,182,000/12 / 459,000 - 1 = 14/27.
    assert v(got, "gini_income") == pytest.approx(14 / 27)
    # Kakwani: payments = contributions + OOP = 1,000, 114, 4,760, 980, 190, 6,700, 0,
    # 3,580, 0, 5,000 (sum 22,324; sum of payments x 12 r = 153,676);
    # C = 2 x 153,676 / (12 x 22,324) - 1 = 39,464 / 267,888; K = C - 14/27.
    assert v(got, "kakwani_financing") == pytest.approx(39_464 / 267_888 - 14 / 27)
    # Gini after OOP, re-ranked: H1 4,000, H3 5,500 (2), H2 7,000, H4 11,400, then as before
    # less OOP; sum y x 12 r = 4,078,300; Y = 442,400; G = 2,847,800 / 5,308,800.
    assert v(got, "gini_income_after_oop") == pytest.approx(2_847_800 / 5_308_800)
    # Each household sits alone in its bin, so the grid ranks exactly; the stated bound is
    # still the sum over bins of OOP share x person share: (1,000 x 1 + 4,000 x 2 + 600 x 1
    # + 6,000 x 1 + 2,000 x 2 + 3,000 x 1) / (16,600 x 12) = 22,600 / 199,200.
    assert float(got.bounds["ci_oop"][ALL]) == pytest.approx(22_600 / 199_200)
    # By quintile the indices are not defined (NaN with the reason).
    assert np.isnan(got.values["ci_oop"][2, 0, 5])
    assert any("quintile" in why for why in got.reasons["ci_oop"])


def test_quintile_split(got):
    # Q1 holds the first 2.4 of 12 persons: H1, H2 and 0.4 of H3's 2 persons (20% of it):
    # OOP 1,000 + 0.2 x 4,000 = 1,800 over 2.4 persons.
    assert float(got.values["population"][2, 0, 5]) == pytest.approx(2.4)
    assert float(got.values["oop_per_person"][2, 0, 5]) == pytest.approx(750.0)


def test_empty_groups_and_missing_lines_are_nan_with_a_reason(got):
    monitored = codes.STATUS.index("monitored")
    # H5 (monitored) has no spending: the comprehensive coverage ratio has no denominator.
    assert np.isnan(got.values["comprehensive_coverage"][2, 5, monitored])
    assert got.reasons["comprehensive_coverage"] == {"the group has no policy-range medical spending"}
    hh, ps, ev, claims = build_population()
    layout = layout_with(spl=np.nan, subsistence=np.nan)
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims, 0)
    bare = compute_all(load_catalogue(("line",)), layout, acc, 0)
    assert np.isnan(bare.values["sdg2025"]).all()
    assert any("societal poverty line" in why for why in bare.reasons["sdg2025"])
    assert np.isnan(bare.values["che40_ctp"]).all()
    # Without fund inputs balances are not invented: reserve months and MA balance are NaN.
    assert np.isnan(bare.values["reserve_months_urrbmi"][ALL])
    assert np.isnan(bare.values["assistance_balance_share"][ALL])
    # Indicators that do not need the lines are unchanged.
    assert float(bare.values["che10"][ALL]) == pytest.approx(100 * 4 / 12)


def test_assistance_balance_needs_the_accumulated_balance_it_starts_from():
    hh, ps, ev, claims = build_population()
    layout = layout_with()
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims, 0)
    # Financing stated, opening balance not: the accumulated balance is unknown, so NaN (the
    # year's own balance, 1,464 / 4,800, is not reported in its place).
    funds = FundInputs(cii_in_basic_fund=FUNDS.cii_in_basic_fund,
                       opening_balance=FUNDS.opening_balance, assistance_financing=400.0)
    out = compute_all(load_catalogue(("line",)), layout, acc, 0, funds)
    assert np.isnan(out.values["assistance_balance_share"][ALL])
    assert any("opening balance" in why for why in out.reasons["assistance_balance_share"])
    # A zero opening balance gives the year's balance: (4,800 - 3,336) / 4,800.
    funds = FundInputs(**{**funds.__dict__, "assistance_opening_balance": 0.0})
    out = compute_all(load_catalogue(("line",)), layout, acc, 0, funds)
    assert float(out.values["assistance_balance_share"][ALL]) == pytest.approx(100 * 1_464 / 4_800)


# Persons (12): P1 H1 urrbmi, P2 H2 urrbmi, P3-P4 H3 urrbmi, P5 H4 urrbmi, P6 H5 urrbmi,
# P7 H6 uebmi_employed, P8 H7 uebmi_retired, P9 H8a uebmi_employed, P10 H8b urrbmi,
# P11 H9 uninsured, P12 H10 uebmi_employed: 7 URRBMI members, 3 employed and 1 retired UEBMI.

def test_population_shares_and_consumption(got):
    # Income 459,000 and consumption 264,500 over 12 persons; insured 11 of 12; admitted P1,
    # P3, P7, P12.
    assert v(got, "income_per_person") == pytest.approx(459_000 / 12)
    assert v(got, "consumption_per_person") == pytest.approx(264_500 / 12)
    assert v(got, "insured_share") == pytest.approx(100 * 11 / 12)
    assert v(got, "admission_rate") == pytest.approx(100 * 4 / 12)


def test_what_households_pay_for_cover_over_their_income(got):
    # Contributions paid by households: H2 114 + H3 760 + H4 380 + H5 190 + H6 700 + H8 1,580
    # + H10 2,000 = 5,724; with OOP 16,600: 22,324; income 459,000.
    assert v(got, "contributions_share_income") == pytest.approx(100 * 5_724 / 459_000)
    assert v(got, "financing_share_income") == pytest.approx(100 * 22_324 / 459_000)


def test_catastrophic_spending_by_income_overshoot(got):
    # OOP / income above 10%: H1 20%, H3 4,000 / 15,000 = 4/15, H6 20%: 3 of 10 households,
    # 4 persons. Overshoot at 10%: H1 1/10 + H3 2 x (4/15 - 1/10) = 1/3 + H6 1/10 = 8/15.
    assert v(got, "che10_income_households") == pytest.approx(30.0)
    assert v(got, "overshoot10_income") == pytest.approx(100 * 8 / 15 / 12)
    assert v(got, "mpo10_income") == pytest.approx(100 * 8 / 15 / 4)
    # At 25%: H3 only, 2 x (4/15 - 1/4) = 1/30, over 2 persons with CHE.
    assert v(got, "overshoot25_income") == pytest.approx(100 / 30 / 12)
    assert v(got, "mpo25_income") == pytest.approx(100 / 30 / 2)


def test_impoverishment_by_consumption_levels_and_gaps(got):
    # Line 6,000; per-capita consumption after OOP: H1 5,000, H3 5,000 (2 persons), others
    # above 6,000. Poor after: 3 of 12. Gap before 0 (nobody below 6,000); after H1 1,000 +
    # H3 2 x 1,000 = 3,000; normalised after 1,000/6,000 x 3 = 1/2.
    assert v(got, "poverty_after_consumption_line") == pytest.approx(100 * 3 / 12)
    assert v(got, "poverty_gap_before_consumption_line") == pytest.approx(0.0)
    assert v(got, "poverty_gap_after_consumption_line") == pytest.approx(3_000 / 12)
    assert v(got, "poverty_gap_index_before_consumption_line") == pytest.approx(0.0)
    assert v(got, "poverty_gap_index_after_consumption_line") == pytest.approx(100 / 2 / 12)


def test_policy_ratios_of_residents_and_admissions(got):
    # Residents' admissions P1 10,000 and P3 8,000 policy-range, basic 6,000 each.
    assert v(got, "inpatient_pr_basic_residents") == pytest.approx(100 * 12_000 / 18_000)
    # Residents' 两病: P5 basic 400 of 1,000.
    assert v(got, "chronic_outpatient_reimbursement_primary_residents") == pytest.approx(40.0)
    # Admissions: basic 6,000 + 6,000 + 30,000 + 18,000, CII 500 + 2,000, MA 2,500 = 65,000
    # over policy-range 10,000 + 8,000 + 40,000 + 20,000 = 78,000.
    assert v(got, "comprehensive_coverage_inpatient") == pytest.approx(100 * 65_000 / 78_000)


def test_fund_members_contributions_and_balances(got):
    assert v(got, "insured_total") == pytest.approx(11e-6)
    assert v(got, "insured_uebmi_employed") == pytest.approx(3e-6)
    assert v(got, "insured_uebmi_retired") == pytest.approx(1e-6)
    # URRBMI contributions net of assisted: P2 114 + 380 x 4 (P3, P4, P5, P10) + P6 190 =
    # 1,824; with assisted 380 + 266 + 190: 2,660 = 7 x 380.
    assert v(got, "fund_contributions_urrbmi") == pytest.approx(1_824e-9)
    assert v(got, "fund_individual_contributions_urrbmi") == pytest.approx(2_660e-9)
    # UEBMI: employer 11,400 + employee 3,800.
    assert v(got, "fund_contributions_uebmi") == pytest.approx(15_200e-9)
    assert v(got, "fund_subsidies_uebmi") == pytest.approx(0.0)
    # Balance shares: URRBMI (7,140 - 12,900) / 7,140; UEBMI (15,200 - 64,000) / 15,200.
    assert v(got, "fund_balance_share_urrbmi") == pytest.approx(-100 * 5_760 / 7_140)
    assert v(got, "fund_balance_share_uebmi") == pytest.approx(-100 * 48_800 / 15_200)
    assert v(got, "fund_balance_uebmi") == pytest.approx(-48_800e-9)
    # Opening balance 20,000 x 4 members; closing 80,000 - 48,800.
    assert v(got, "fund_opening_balance_uebmi") == pytest.approx(80_000e-9)
    assert v(got, "fund_closing_balance_uebmi") == pytest.approx(31_200e-9)
    # Revenue per member: 7,140 / 7 = 1,020; 15,200 / 4 = 3,800; expenditure 64,000 / 4.
    assert v(got, "revenue_per_insured_urrbmi") == pytest.approx(1_020.0)
    assert v(got, "revenue_per_insured_uebmi") == pytest.approx(3_800.0)
    assert v(got, "expenditure_per_insured_uebmi") == pytest.approx(16_000.0)
    # Pooled fund and accounts: credits 600 + 1,200 + 1,200 + 2,000 = 5,000 leave the pooled
    # revenue 15,200 - 5,000 = 10,200; accounts paid 5,000 + 1,000 + 500 + 4,000 = 10,500 of
    # the expenditure 64,000, the pooled fund 53,500.
    assert v(got, "account_revenue_uebmi") == pytest.approx(5_000e-9)
    assert v(got, "fund_revenue_pooled_uebmi") == pytest.approx(10_200e-9)
    assert v(got, "account_expenditure_uebmi") == pytest.approx(10_500e-9)
    assert v(got, "fund_expenditure_pooled_uebmi") == pytest.approx(53_500e-9)


def test_admissions_and_their_cost_by_fund(got):
    # UEBMI admissions P7 (45,000) and P12 (25,000) among 4 members (3 employed, 1 retired);
    # URRBMI P1 (10,000) and P3 (10,000) among 7.
    assert v(got, "admissions_per_insured_uebmi") == pytest.approx(50.0)
    assert v(got, "admissions_per_insured_urrbmi") == pytest.approx(100 * 2 / 7)
    assert v(got, "admissions_per_insured_uebmi_employed") == pytest.approx(100 * 2 / 3)
    assert v(got, "admissions_per_insured_uebmi_retired") == pytest.approx(0.0)
    assert v(got, "cost_per_admission_uebmi") == pytest.approx(35_000.0)
    assert v(got, "cost_per_admission_urrbmi") == pytest.approx(10_000.0)
    # Basic + CII over in-catalogue cost: UEBMI (30,000 + 18,000 + 2,000) / (40,000 + 20,000
    # + 2,000 class B); URRBMI (6,000 + 500 + 6,000) / (10,000 + 8,000 + 1,000).
    assert v(got, "inpatient_catalogue_fund_ratio_uebmi") == pytest.approx(100 * 50_000 / 62_000)
    assert v(got, "inpatient_catalogue_fund_ratio_urrbmi") == pytest.approx(100 * 12_500 / 19_000)
    # Over the whole cost: 50,000 / 70,000 and 12,500 / 20,000.
    assert v(got, "inpatient_actual_reimbursement_uebmi") == pytest.approx(100 * 5 / 7)
    assert v(got, "inpatient_actual_reimbursement_urrbmi") == pytest.approx(62.5)


def test_payouts_by_layer_and_critical_illness_beneficiaries(got):
    payouts = {p: v(got, f"payout_{p}") for p in ("basic", "critical_illness", "assistance",
                                                  "supplementary", "account")}
    assert payouts == pytest.approx({"basic": 65_900e-9, "critical_illness": 2_500e-9,
                                     "assistance": 2_500e-9, "supplementary": 2_000e-9,
                                     "account": 10_500e-9})
    assert v(got, "payout_critical_illness_urrbmi") == pytest.approx(500e-9)
    # CII paid P1 500 (URRBMI) and P7 2,000 (UEBMI): one beneficiary each.
    assert v(got, "cii_beneficiaries_urrbmi") == pytest.approx(1e-6)
    assert v(got, "cii_beneficiaries_uebmi") == pytest.approx(1e-6)
    assert v(got, "cii_payment_per_beneficiary_urrbmi") == pytest.approx(500.0)
    assert v(got, "cii_payment_per_beneficiary_uebmi") == pytest.approx(2_000.0)


def test_medical_assistance_financing_and_balances(got):
    # Spending 3,336 (payouts 2,500 + assisted contributions 836) over 12 persons; financing
    # 400 x 12; opening 100 x 12; closing 1,200 + 4,800 - 3,336.
    assert v(got, "assistance_per_person") == pytest.approx(278.0)
    assert v(got, "assistance_financing") == pytest.approx(4_800e-9)
    assert v(got, "assistance_opening_balance") == pytest.approx(1_200e-9)
    assert v(got, "assistance_closing_balance") == pytest.approx(2_664e-9)


def test_erreygers_indices_of_every_catastrophic_measure(got):
    # E = 4 x mean x C, C = 2 x sum(y x r) / Y - 1 over persons ranked by per-capita income
    # (twelfths: H1 0.5, H2 1.5, H3 3, H4 4.5, H5 5.5, H6 6.5, ...).
    # CHE25 (consumption) and CHE40 of capacity to pay: H3 (2) and H6 (1): sum y r = 12.5/12,
    # C = 25/36 - 1 = -11/36, mean 1/4: E = -11/36.
    assert v(got, "erreygers_che25") == pytest.approx(-11 / 36)
    assert v(got, "erreygers_che40_ctp") == pytest.approx(-11 / 36)
    # CHE10 of income: H1, H3 (2), H6, as CHE10 of consumption: -11/18.
    assert v(got, "erreygers_che10_income") == pytest.approx(-11 / 18)
    # CHE25 of income: H3 (2): C = 2 x (6/12) / 2 - 1 = -1/2, mean 1/6: E = -1/3.
    assert v(got, "erreygers_che25_income") == pytest.approx(-1 / 3)
    # SDG 2025: H1, H3 (2), H4, H6: sum y r = 17.5/12, C = 35/60 - 1 = -5/12, mean 5/12:
    # E = 4 x 5/12 x -5/12 = -25/36.
    assert v(got, "erreygers_sdg2025") == pytest.approx(-25 / 36)
    # CHE10 with persons ranked by per-capita consumption (H1 6,000 at 0.5, H3 7,000 at 2,
    # H2 7,500 at 3.5, H4 4.5, H5 5.5, H6 6.5, H7 7.5, H8 9, H9 10.5, H10 11.5):
    # sum y r = (0.5 + 2 x 2 + 6.5)/12 = 11/12, C = 22/48 - 1 = -13/24, E = 4/3 x -13/24.
    assert v(got, "erreygers_che10_by_consumption") == pytest.approx(-13 / 18)


def test_concentration_gini_and_kakwani_indices_by_consumption_and_contributions(got):
    # OOP ranked by consumption: 1,000 x 0.5 + 4,000 x 2 + 600 x 4.5 + 6,000 x 6.5 + 2,000 x 9
    # + 3,000 x 11.5 = 102,700 (twelfths); C = 2 x 102,700 / (12 x 16,600) - 1 = 6,200/199,200.
    assert v(got, "ci_oop_by_consumption") == pytest.approx(6_200 / 199_200)
    # Gini of consumption: 6,000 x 0.5 + 14,000 x 2 + 7,500 x 3.5 + 9,000 x 4.5 + 15,000 x 5.5
    # + 18,000 x 6.5 + 25,000 x 7.5 + 60,000 x 9 + 40,000 x 10.5 + 70,000 x 11.5 = 2,249,750;
    # G = 2 x 2,249,750 / (12 x 264,500) - 1 = 1,325,500 / 3,174,000.
    gini_consumption = 1_325_500 / 3_174_000
    assert v(got, "gini_consumption") == pytest.approx(gini_consumption)
    # After OOP, per capita: H1 5,000 and H3 5,000 share a bin (persons 0-3, mid-rank 1.5),
    # H2 7,500 (3.5), H4 8,400 (4.5), H6 12,000 (5.5), H5 15,000 (6.5), H7 25,000 (7.5),
    # H8 29,000 (9), H9 40,000 (10.5), H10 67,000 (11.5); household values x rank:
    # 15,000 x 1.5 + 7,500 x 3.5 + 8,400 x 4.5 + 12,000 x 5.5 + 15,000 x 6.5 + 25,000 x 7.5
    # + 58,000 x 9 + 40,000 x 10.5 + 67,000 x 11.5 = 2,150,050; Y = 247,900;
    # G = 2 x 2,150,050 / (12 x 247,900) - 1 = 1,325,300 / 2,974,800.
    assert v(got, "gini_consumption_after_oop") == pytest.approx(1_325_300 / 2_974_800)
    gini_income = 14 / 27
    # Kakwani of OOP: C(OOP) - G(income) (both worked in the test above).
    assert v(got, "kakwani_oop") == pytest.approx(14_200 / 199_200 - gini_income)
    # Contributions paid by households ranked by income: 114 x 1.5 + 760 x 3 + 380 x 4.5
    # + 190 x 5.5 + 700 x 6.5 + 1,580 x 9 + 2,000 x 11.5 = 46,976;
    # C = 2 x 46,976 / (12 x 5,724) - 1 = 25,264 / 68,688.
    assert v(got, "kakwani_contributions") == pytest.approx(25_264 / 68_688 - gini_income)
    # Contributions + OOP ranked by consumption: 1,000 x 0.5 + 4,760 x 2 + 114 x 3.5
    # + 980 x 4.5 + 190 x 5.5 + 6,700 x 6.5 + 3,580 x 9 + 5,000 x 11.5 = 149,144;
    # C = 2 x 149,144 / (12 x 22,324) - 1 = 30,400 / 267,888; K = C - G(consumption).
    assert v(got, "kakwani_financing_by_consumption") == pytest.approx(
        30_400 / 267_888 - gini_consumption)
