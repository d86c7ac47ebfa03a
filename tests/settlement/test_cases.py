"""Calculator cases, each worked by hand from the rules (arithmetic in the comments).

Every case is one person settled by `microsim.settlement.cases.settle_case`
under BASE (round numbers, below) with the changes the case names. Payers
are asserted in codes.PAYER order: basic, critical illness, assistance,
supplementary, account, out of pocket.

BASE:
  employees (UEBMI, employed and retired): inpatient deductible 200 / 500 / 800
    (primary / secondary / tertiary), rate 90% / 85% / 80%, annual cap 100,000;
    outpatient pooling deductible 200, rate 60%, cap 2,000; the account pays nothing.
  residents (URRBMI): inpatient deductible 100 / 500 / 1,000, rate 90% / 70% / 50%,
    annual cap 50,000; outpatient pooling no deductible, 50% / 40% / 30%, cap 300.
  no critical-illness insurance, assistance or supplementary insurance unless a
  case adds them; residents pay 350 and the treasury 610; employers 6% and
  employees 2% of a wage base of 3,000-15,000 a month.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from microsim.policy.load import Policy
from microsim.policy.schema import PolicyFile
from microsim.settlement.cases import Case, CaseResult, settle_case
from microsim.yamltree import Tree

EMPLOYEES = {
    "inpatient": {"deductible": {"primary": 200, "secondary": 500, "tertiary": 800},
                  "rate": {"primary": 0.9, "secondary": 0.85, "tertiary": 0.8},
                  "annual_cap": 100_000},
    "outpatient": {"deductible": 200, "rate": {"primary": 0.6, "secondary": 0.6, "tertiary": 0.6},
                   "annual_cap": 2000},
}
BASE = {
    "name": "cases", "year": 2023, "region": "test",
    "basic": {
        "uebmi_employed": EMPLOYEES, "uebmi_retired": EMPLOYEES,
        "urrbmi": {
            "inpatient": {"deductible": {"primary": 100, "secondary": 500, "tertiary": 1000},
                          "rate": {"primary": 0.9, "secondary": 0.7, "tertiary": 0.5},
                          "annual_cap": 50_000},
            "outpatient": {"deductible": 0,
                           "rate": {"primary": 0.5, "secondary": 0.4, "tertiary": 0.3},
                           "annual_cap": 300}}},
    "financing": {"residents": {"individual": 350, "subsidy": 610},
                  "employees": {"employer_rate": 0.06, "employee_rate": 0.02,
                                "wage_floor_monthly": 3000, "wage_ceiling_monthly": 15000}},
}
CII = {"threshold": 10_000, "bands": [{"from": 0, "rate": 0.6}], "annual_cap": 300_000}


def _merge(into: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def policy(*changes: dict) -> Policy:
    data = copy.deepcopy(BASE)
    for change in changes:
        _merge(data, change)
    return Policy(PolicyFile.model_validate(data), Tree(data), (), ())


def settled(pol: Policy, **case) -> CaseResult:
    return settle_case(pol, Case.model_validate(case))


def paid(row, basic=0.0, cii=0.0, ma=0.0, sup=0.0, account=0.0, oop=0.0) -> None:
    np.testing.assert_allclose(row.paid, [basic, cii, ma, sup, account, oop], atol=0.005, rtol=0)


def resident(**changes) -> dict:
    return {"basic": {"urrbmi": changes}}


# 1. Inpatient rates in bands of an admission's cost ------------------------------------------

def test_rates_in_bands_of_each_admission():
    # Deductible 200; 200-10,000 at 80%; above 10,000 at 85% (tertiary), per admission.
    pol = policy(resident(inpatient={"deductible": {"primary": 200, "secondary": 200,
                                                    "tertiary": 200},
                                     "rate": {"tertiary": 0.8},
                                     "bands": [{"above": 10_000, "rate": 0.85}]}))
    r = settled(pol, scheme="urrbmi", age=50, admissions=[
        {"level": "tertiary", "policy_range": 30_000, "class_b": 1000, "out_of_catalogue": 500},
        {"level": "tertiary", "policy_range": 8000}])
    # Admission 1: 80% x (10,000 - 200) + 85% x (30,000 - 10,000) = 7,840 + 17,000 = 24,840;
    #   out of pocket 30,000 - 24,840 + 1,000 class B + 500 out of catalogue = 6,660.
    paid(r.admissions[0], basic=24_840, oop=6660)
    # Admission 2: bands restart with each admission: 80% x (8,000 - 200) = 6,240; OOP 1,760.
    paid(r.admissions[1], basic=6240, oop=1760)
    paid(r.year, basic=31_080, oop=8420)


# 2. Repeat deductible and the annual cap on payout -------------------------------------------

def test_repeat_deductible_and_annual_cap_on_payout():
    pol = policy(resident(inpatient={"repeat_deductible": {"primary": 50, "secondary": 250,
                                                           "tertiary": 500},
                                     "annual_cap": 20_000}))
    r = settled(pol, scheme="urrbmi", age=50, admissions=[
        {"level": "secondary", "policy_range": 10_000},
        {"level": "tertiary", "policy_range": 20_000},
        {"level": "secondary", "policy_range": 12_000}])
    # 1st: full deductible 500: 70% x 9,500 = 6,650 (cap left 13,350); OOP 3,350.
    paid(r.admissions[0], basic=6650, oop=3350)
    # 2nd: repeat deductible 500 (tertiary): 50% x 19,500 = 9,750 (cap left 3,600); OOP 10,250.
    paid(r.admissions[1], basic=9750, oop=10_250)
    # 3rd: repeat deductible 250: 70% x 11,750 = 8,225, capped at 3,600; OOP 8,400.
    paid(r.admissions[2], basic=3600, oop=8400)
    assert r.year.paid[0] == pytest.approx(20_000)


# 3. TCM hospitals one tier lower (Weihai) and out-of-area admissions -------------------------

def test_tcm_tier_down_and_out_of_area():
    pol = policy({"basic": {
        "uebmi_employed": {"inpatient": {"tcm_tier_down": {"deductible": True, "rate": True},
                                         "out_of_area": {"deductible": 1500, "rate_cut": 0.1}}},
        "urrbmi": {"inpatient": {"tcm_tier_down": {"deductible": True, "rate": False}}}}})
    r = settled(pol, scheme="uebmi_employed", age=45, wage=60_000, admissions=[
        {"level": "tertiary", "policy_range": 10_000, "tcm": True},
        {"level": "tertiary", "policy_range": 10_000, "out_of_area": True},
        {"level": "primary", "policy_range": 1000, "tcm": True}])
    # Employees, tertiary TCM hospital: secondary deductible 500 and rate 85%:
    #   85% x 9,500 = 8,075; OOP 1,925 (the account pays nothing under BASE).
    paid(r.admissions[0], basic=8075, oop=1925)
    # Out of area: own deductible 1,500, rate 80% - 10 points = 70%: 70% x 8,500 = 5,950.
    paid(r.admissions[1], basic=5950, oop=4050)
    # A primary TCM hospital has no lower tier: deductible 200, 90% x 800 = 720.
    paid(r.admissions[2], basic=720, oop=280)
    # Residents: only the deductible goes one tier down: 500 (secondary), rate 50% (tertiary):
    #   50% x 9,500 = 4,750.
    r = settled(pol, scheme="urrbmi", age=45, admissions=[
        {"level": "tertiary", "policy_range": 10_000, "tcm": True}])
    paid(r.admissions[0], basic=4750, oop=5250)


# 4. Age bonus; annual cap on eligible cost, the excess flowing on to critical illness --------

def test_age_bonus_and_cap_on_eligible_cost_flowing_to_critical_illness():
    pol = policy(resident(inpatient={"age_bonus": {"from_age": 70, "rate": 0.05},
                                     "annual_cap": 30_000, "cap_on": "eligible_cost"}),
                 {"critical_illness": {"residents": CII}})
    r = settled(pol, scheme="urrbmi", age=75, admissions=[
        {"level": "tertiary", "policy_range": 50_000}])
    # Cost counts towards the 30,000 cap from the first yuan: 1,000 deductible, then
    #   29,000 at 50% + 5 = 55%: basic 15,950. Residual 34,050; critical illness
    #   60% x (34,050 - 10,000) = 14,430; OOP 19,620.
    paid(r.admissions[0], basic=15_950, cii=14_430, oop=19_620)
    r = settled(pol, scheme="urrbmi", age=60, admissions=[
        {"level": "tertiary", "policy_range": 50_000}])
    # Aged 60, no bonus: 50% x 29,000 = 14,500; CII 60% x (35,500 - 10,000) = 15,300.
    paid(r.admissions[0], basic=14_500, cii=15_300, oop=20_200)


# 5. Outpatient pooling: one annual deductible, rate by level, annual cap --------------------

def test_outpatient_pooling():
    pol = policy(resident(outpatient={"deductible": 100}))
    r = settled(pol, scheme="urrbmi", age=30, outpatient={
        "general_primary": 150, "general_secondary": 500, "general_tertiary": 1000})
    # Primary: 150 - 100 deductible = 50 at 50% = 25. Secondary: 40% x 500 = 200 (total 225).
    # Tertiary: 30% x 1,000 = 300, capped at 300 - 225 = 75.
    paid(r.outpatient[0], basic=25, oop=125)
    paid(r.outpatient[1], basic=200, oop=300)
    paid(r.outpatient[2], basic=75, oop=925)


# 6. "两病" caps per disease (Weihai raised 500/1,000 to 1,000/1,500) and a combined cap -------

@pytest.mark.parametrize("caps, expected", [
    # 70% x 1,200 = 840 and 70% x 2,000 = 1,400, capped at 500 and 1,000.
    ({"hypertension": 500, "diabetes": 1000}, (500, 1000)),
    # After the rise to 1,000 / 1,500 neither cap binds.
    ({"hypertension": 1000, "diabetes": 1500}, (840, 1400)),
    # A combined cap of 1,500 for a person with both: 840, then min(1,400, 1,000, 660) = 660.
    ({"hypertension": 1000, "diabetes": 1000, "combined": 1500}, (840, 660)),
])
def test_two_disease_caps(caps, expected):
    pol = policy(resident(two_disease={"rate": 0.7, "caps": caps}))
    r = settled(pol, scheme="urrbmi", age=66, outpatient={"hypertension": 1200, "diabetes": 2000})
    paid(r.outpatient[0], basic=expected[0], oop=1200 - expected[0])
    paid(r.outpatient[1], basic=expected[1], oop=2000 - expected[1])


# 7. 门诊慢特病 and special drugs in basic insurance -------------------------------------------

def test_special_chronic_and_special_drugs():
    pol = policy(resident(special_chronic={"deductible": 500, "rate": 0.6, "annual_cap": 8000},
                          special_drugs={"rate": 0.7, "annual_cap": 50_000}))
    r = settled(pol, scheme="urrbmi", age=55, outpatient={
        "special_chronic": {"policy_range": 20_000, "class_b": 1000},
        "special_drugs": 100_000})
    # 门诊慢特病: 60% x (20,000 - 500) = 11,700, capped at 8,000; OOP 12,000 + 1,000 class B.
    paid(r.outpatient[0], basic=8000, oop=13_000)
    # Special drugs: 70% x 100,000 = 70,000, capped at 50,000.
    paid(r.outpatient[1], basic=50_000, oop=50_000)


# 8. Class-B self-pay: paid by the person first, counted or not by critical illness -----------

@pytest.mark.parametrize("include_class_b, cii, oop", [
    # Basic 50% x 39,000 = 19,500; residual 20,500. Without class B: 60% x 10,500 = 6,300;
    #   OOP 14,200 + 5,000 class B + 3,000 out of catalogue = 22,200.
    (False, 6300, 22_200),
    # With class B the base is 25,500: 60% x 15,500 = 9,300; OOP 48,000 - 19,500 - 9,300.
    (True, 9300, 19_200),
])
def test_class_b_in_the_critical_illness_base(include_class_b, cii, oop):
    pol = policy({"critical_illness": {"residents": {**CII, "include_class_b": include_class_b}}})
    r = settled(pol, scheme="urrbmi", age=50, admissions=[
        {"level": "tertiary", "policy_range": 40_000, "class_b": 5000, "out_of_catalogue": 3000}])
    paid(r.admissions[0], basic=19_500, cii=cii, oop=oop)


# 9. Threshold as a share of income; bands on the cumulative base or above the threshold -----

@pytest.mark.parametrize("bands_on, income, residence, cii", [
    # Threshold 50% x 36,000 = 18,000. Above the threshold: 60% on 18,000-68,000, then 70%:
    #   60% x 50,000 + 70% x (101,000 - 68,000) = 30,000 + 23,100 = 53,100.
    ("above_threshold", 36_000, "urban", 53_100),
    # Cumulative: 60% on 18,000-50,000, then 70%: 19,200 + 70% x 51,000 = 19,200 + 35,700.
    ("cumulative", 36_000, "urban", 54_900),
    # Income by residence, rural 20,000: threshold 10,000; 60% x 50,000 + 70% x 41,000 = 58,700.
    ("above_threshold", {"urban": 49_000, "rural": 20_000}, "rural", 58_700),
    # ... urban 49,000: threshold 24,500; 60% x 50,000 + 70% x (101,000 - 74,500) = 48,550.
    ("above_threshold", {"urban": 49_000, "rural": 20_000}, "urban", 48_550),
])
def test_threshold_share_of_income_and_band_conventions(bands_on, income, residence, cii):
    pol = policy(resident(inpatient={"annual_cap": 200_000}), {"critical_illness": {"residents": {
        "threshold": {"share_of_income": 0.5, "income": income}, "bands_on": bands_on,
        "bands": [{"from": 0, "rate": 0.6}, {"from": 50_000, "rate": 0.7}],
        "annual_cap": 300_000}}})
    r = settled(pol, scheme="urrbmi", age=50, residence=residence, admissions=[
        {"level": "tertiary", "policy_range": 201_000}])
    # Basic: 50% x 200,000 = 100,000; residual 101,000.
    paid(r.admissions[0], basic=100_000, cii=cii, oop=101_000 - cii)


# 10. Critical illness over the year's cumulative base, its cap; special drugs' own track -----

def test_critical_illness_accumulates_over_the_year_up_to_its_cap():
    pol = policy({"critical_illness": {"residents": {**CII, "annual_cap": 15_000}}})
    r = settled(pol, scheme="urrbmi", age=50, admissions=[
        {"level": "secondary", "policy_range": 26_500},
        {"level": "tertiary", "policy_range": 81_000}])
    # 1st: basic 70% x 26,000 = 18,200; residual 8,300, below the 10,000 threshold: no CII.
    paid(r.admissions[0], basic=18_200, oop=8300)
    # 2nd: basic 50% x 80,000 = 40,000, but only 50,000 - 18,200 = 31,800 is left of the cap.
    #   Residual 49,200; the base reaches 57,500: 60% x 47,500 = 28,500, capped at 15,000.
    #   OOP 81,000 - 31,800 - 15,000 = 34,200.
    paid(r.admissions[1], basic=31_800, cii=15_000, oop=34_200)


@pytest.mark.parametrize("special_drugs, cii", [
    # Weihai before 2021: 60%, cap 200,000. Basic 50% x 1,000,000 = 500,000; residual 500,000;
    #   60% x 500,000 = 300,000, capped at 200,000.
    ({"rate": 0.6, "annual_cap": 200_000}, 200_000),
    # Weihai from 2021: 80%, cap 400,000: 400,000 (the cap is just reached).
    ({"rate": 0.8, "annual_cap": 400_000}, 400_000),
    # With a 20,000 deductible: 80% x 480,000 = 384,000.
    ({"deductible": 20_000, "rate": 0.8, "annual_cap": 400_000}, 384_000),
])
def test_special_drugs_on_their_own_critical_illness_track(special_drugs, cii):
    pol = policy(resident(special_drugs={"rate": 0.5, "annual_cap": "none"}),
                 {"critical_illness": {"residents": {**CII, "include_outpatient": True,
                                                     "special_drugs": special_drugs}}})
    r = settled(pol, scheme="urrbmi", age=50, outpatient={"special_drugs": 1_000_000})
    # The special drugs do not enter the main base (threshold 10,000, 60%): only their track pays.
    paid(r.outpatient[0], basic=500_000, cii=cii, oop=500_000 - cii)


@pytest.mark.parametrize("include_outpatient, cii", [
    # Without a special-drug track, outpatient special drugs join the main base when
    #   outpatient costs count: 60% x (500,000 - 10,000) = 294,000 (cap 300,000).
    (True, 294_000),
    # ... and get nothing when they do not.
    (False, 0),
])
def test_special_drugs_in_the_main_base_without_their_own_track(include_outpatient, cii):
    pol = policy(resident(special_drugs={"rate": 0.5, "annual_cap": "none"}),
                 {"critical_illness": {"residents": {**CII, "include_outpatient": include_outpatient}}})
    r = settled(pol, scheme="urrbmi", age=50, outpatient={"special_drugs": 1_000_000})
    paid(r.outpatient[0], basic=500_000, cii=cii, oop=500_000 - cii)


@pytest.mark.parametrize("rare_disease, cii", [
    # Weihai from 2021, rare-disease drugs covered: basic 50% x 300,000 = 150,000; the track
    #   pays 80% of the 150,000 left = 120,000.
    (True, 120_000),
    # Weihai 2020, not covered: of the 150,000 left, 200,000 / 300,000 is rare-disease drugs;
    #   the track pays 80% x 150,000 x 1/3 = 40,000, and the main base does not take the rest.
    (False, 40_000),
])
def test_rare_disease_drugs_left_out_of_the_special_drug_track(rare_disease, cii):
    pol = policy(resident(special_drugs={"rate": 0.5, "annual_cap": "none"}),
                 {"critical_illness": {"residents": {
                     **CII, "include_outpatient": True,
                     "special_drugs": {"rate": 0.8, "annual_cap": 400_000,
                                       "rare_disease": rare_disease}}}})
    r = settled(pol, scheme="urrbmi", age=50, outpatient={"special_drugs": 300_000},
                rare_disease_drugs=200_000)
    paid(r.outpatient[0], basic=150_000, cii=cii, oop=150_000 - cii)


def test_rare_disease_drugs_cannot_exceed_the_special_drugs():
    with pytest.raises(ValueError, match="rare_disease_drugs 5000.0 exceeds the special_drugs"):
        settled(policy(), scheme="urrbmi", age=50, outpatient={"special_drugs": 1000},
                rare_disease_drugs=5000)


# 11. Employees' critical illness (Weihai 2021: all employees' inpatient costs, cap 500,000) ---

def test_employees_critical_illness_and_account():
    pol = policy({"basic": {"uebmi_employed": {"account_pays": ["inpatient"]}},
                  "critical_illness": {"employees": {
                      "threshold": 20_000, "bands": [{"from": 0, "rate": 0.6}],
                      "annual_cap": 500_000}}})
    r = settled(pol, scheme="uebmi_employed", age=50, wage=60_000, admissions=[
        {"level": "tertiary", "policy_range": 1_000_000}])
    # Basic: 80% x 999,200 = 799,360, capped at 100,000; residual 900,000.
    # CII: 60% x (900,000 - 20,000) = 528,000, capped at 500,000.
    # Account: 2% x 60,000 = 1,200 pays in-catalogue self-pay; OOP 900,000 - 500,000 - 1,200.
    paid(r.admissions[0], basic=100_000, cii=500_000, account=1200, oop=398_800)
    assert r.finance["employer"] == pytest.approx(3600)     # 6% x 60,000
    assert r.finance["employee"] == pytest.approx(1200)     # 2% x 60,000


# 12. Critical-illness tilt for the poor: threshold halved, bonus per band, no cap ----------

def test_critical_illness_tilt_then_assistance():
    pol = policy({"critical_illness": {"residents": {
        "threshold": 10_000, "bands": [{"from": 0, "rate": 0.6}, {"from": 20_000, "rate": 0.7}],
        "annual_cap": 30_000,
        "tilt": {"dibao": {"threshold_factor": 0.5, "rate_bonus": [0.05, 0.10],
                           "no_cap": True}}}},
        "medical_assistance": {"groups": {"dibao": {"rate": 0.7, "annual_cap": 20_000}}}})
    bill = [{"level": "tertiary", "policy_range": 110_000}]
    # Basic: 50% x 109,000 = 54,500, capped at 50,000; residual 60,000.
    r = settled(pol, scheme="urrbmi", age=50, status="dibao", admissions=bill)
    # 低保: threshold 5,000; 65% on 5,000-25,000 and 80% above, no cap:
    #   65% x 20,000 + 80% x 35,000 = 13,000 + 28,000 = 41,000. Residual 19,000;
    #   assistance 70% x 19,000 = 13,300; OOP 5,700.
    paid(r.admissions[0], basic=50_000, cii=41_000, ma=13_300, oop=5700)
    assert r.group == "dibao"
    r = settled(pol, scheme="urrbmi", age=50, status="general", admissions=bill)
    # General: 60% x 20,000 + 70% x 30,000 = 33,000, capped at 30,000; no assistance.
    paid(r.admissions[0], basic=50_000, cii=30_000, oop=30_000)
    assert r.group == "none"


# 13. Assistance deductible; one cap shared by outpatient and inpatient care, or two --------

@pytest.mark.parametrize("shared, outpatient_ma", [
    # Shared cap 5,000: the admission took 3,600, 1,400 is left for 60% x 4,000 = 2,400.
    (True, 1400),
    # Split (Jiangsu before 2022): outpatient cap 3,000 of its own: 2,400.
    (False, 2400),
])
def test_assistance_deductible_and_shared_or_split_caps(shared, outpatient_ma):
    group = {"deductible": 1000, "rate": 0.6, "annual_cap": 5000}
    if not shared:
        group["outpatient_cap"] = 3000
    pol = policy({"medical_assistance": {"shared_cap": shared, "groups": {"dibian": group}}})
    r = settled(pol, scheme="urrbmi", age=40, status="dibian",
                admissions=[{"level": "tertiary", "policy_range": 13_000}],
                outpatient={"special_chronic": 4000})
    # Basic 50% x 12,000 = 6,000; residual 7,000; assistance 60% x (7,000 - 1,000) = 3,600.
    paid(r.admissions[0], basic=6000, ma=3600, oop=3400)
    # No basic 门诊慢特病 benefit: 4,000 residual.
    paid(r.outpatient[0], ma=outpatient_ma, oop=4000 - outpatient_ma)


# 14. Tilted second stage of assistance (倾斜救助); class-B self-pay in the assistance base ---

@pytest.mark.parametrize("include_class_b, ma, oop", [
    # Base 21,000 + 4,000 class B: stage 1 70% x 25,000 = 17,500, capped at 10,000 (from the
    #   policy-range part first): 11,000 + 4,000 left. Stage 2: 50% x (15,000 - 3,000) = 6,000,
    #   capped at 5,000. Assistance 15,000; OOP 6,000 + 4,000 + 2,000 out of catalogue.
    (True, 15_000, 12_000),
    # Without class B: stage 1 70% x 21,000 = 14,700 -> 10,000; stage 2 50% x (11,000 - 3,000)
    #   = 4,000. Assistance 14,000; OOP 7,000 + 4,000 + 2,000.
    (False, 14_000, 13_000),
])
def test_tilted_second_stage_and_class_b_in_assistance(include_class_b, ma, oop):
    pol = policy({"medical_assistance": {
        "include_class_b": include_class_b,
        "groups": {"dibao": {"rate": 0.7, "annual_cap": 10_000}},
        "tilted": {"dibao": {"threshold": 3000, "rate": 0.5, "annual_cap": 5000}}}})
    r = settled(pol, scheme="urrbmi", age=40, status="dibao", admissions=[
        {"level": "tertiary", "policy_range": 41_000, "class_b": 4000, "out_of_catalogue": 2000}])
    # Basic 50% x 40,000 = 20,000; policy-range residual 21,000.
    paid(r.admissions[0], basic=20_000, ma=ma, oop=oop)


# 15. The out-of-pocket cap for poor families (支付封顶, Jiaxing) -----------------------------

@pytest.mark.parametrize("base, ma, oop", [
    # In-catalogue self-pay after stage 1: 21,000 + 5,000 class B = 26,000 > 3,000: assistance
    #   pays 23,000 more; OOP 3,000 + 10,000 out of catalogue.
    ("in_catalogue", 33_000, 13_000),
    # On all spending: 36,000 > 3,000: assistance pays 33,000 more; OOP 3,000.
    ("all", 43_000, 3000),
])
def test_out_of_pocket_cap_for_poor_families(base, ma, oop):
    pol = policy({"medical_assistance": {
        "groups": {"tekun": {"rate": 0.8, "annual_cap": 10_000}},
        "oop_cap": {"base": base, "per": "person", "groups": {"tekun": 3000}}}})
    r = settled(pol, scheme="urrbmi", age=80, status="tekun", admissions=[
        {"level": "tertiary", "policy_range": 61_000, "class_b": 5000,
         "out_of_catalogue": 10_000}])
    # Basic 50% x 60,000 = 30,000; residual 31,000; stage 1: 80% x 31,000 = 24,800 -> 10,000.
    paid(r.admissions[0], basic=30_000, ma=ma, oop=oop)


# 16. Illness hardship (因病支出型), and the cliff of its eligibility -------------------------

def test_illness_hardship_eligibility_and_its_cliff():
    hardship = {"medical_assistance": {
        "groups": {"illness_hardship": {"deductible": 5000, "rate": 0.5, "annual_cap": 50_000}},
        "illness_hardship": {"share_of_income": 0.5}}}
    case = dict(scheme="urrbmi", age=50, household_income=20_000,
                admissions=[{"level": "tertiary", "policy_range": 22_000}])
    r = settled(policy(hardship), **case)
    # Basic 50% x 21,000 = 10,500; self-pay 11,500 > 50% x 20,000 = 10,000: eligible.
    #   Assistance 50% x (11,500 - 5,000) = 3,250; OOP 8,250.
    assert r.group == "illness_hardship"
    paid(r.admissions[0], basic=10_500, ma=3250, oop=8250)
    # A more generous basic policy (tertiary 60%): 60% x 21,000 = 12,600; self-pay 9,400 is
    #   below 10,000: no assistance, and the out-of-pocket amount RISES from 8,250 to 9,400.
    r = settled(policy(hardship, resident(inpatient={"rate": {"tertiary": 0.6}})), **case)
    assert r.group == "none"
    paid(r.admissions[0], basic=12_600, oop=9400)
    # Without a household income the calculator cannot test eligibility: none.
    r = settled(policy(hardship), **{**case, "household_income": None})
    assert r.group == "none"


# 16b. Layers on different parts of the bill: a more generous basic policy can raise OOP ------

@pytest.mark.parametrize("assistance_counts_class_b, oop_before, oop_after", [
    # Critical illness counts class-B self-pay, assistance (70%) does not:
    #   before: basic 50% x 20,000 = 10,000; self-pay 11,000 passes the 10,000 threshold:
    #     CII 60% x 1,000 = 600 (admission 1); the 1,000 class-B of admission 2 takes the base
    #     to 12,000: CII 600 of it. Assistance 70% x 10,400 = 7,280.
    #     OOP 3,120 + 400 = 3,520.
    #   after (tertiary 60%): basic 12,000; self-pay 9,000 and then 10,000: no CII at all.
    #     Assistance 70% x 9,000 = 6,300. OOP 2,700 + 1,000 class B = 3,700: it RISES.
    (False, 3520, 3700),
    # Assistance counting class-B self-pay too: before 30% x (10,400 + 400) = 3,240;
    #   after 30% x (9,000 + 1,000) = 3,000: it falls, as with one base it always does.
    (True, 3240, 3000),
])
def test_layers_on_different_parts_can_make_a_generous_reform_cost_more(
        assistance_counts_class_b, oop_before, oop_after):
    rules = {"critical_illness": {"residents": {**CII, "include_class_b": True}},
             "medical_assistance": {"include_class_b": assistance_counts_class_b,
                                    "groups": {"dibao": {"rate": 0.7, "annual_cap": "none"}}}}
    case = dict(scheme="urrbmi", age=60, status="dibao", admissions=[
        {"level": "tertiary", "policy_range": 21_000},
        {"level": "primary", "class_b": 1000}])
    before = settled(policy(rules), **case)
    after = settled(policy(rules, resident(inpatient={"rate": {"tertiary": 0.6}})), **case)
    assert before.year.paid[5] == pytest.approx(oop_before)
    assert after.year.paid[5] == pytest.approx(oop_after)


# 17. Supplementary liabilities: banded in-catalogue residual, class-B share, listed drugs ---

def test_supplementary_liabilities_each_on_its_own_base():
    pol = policy({"supplementary": {"name": "惠民保", "premium": 100, "liabilities": [
        {"name": "in-catalogue", "base": "in_catalogue_residual", "deductible": 20_000,
         "bands": [{"from": 0, "rate": 0.6}, {"from": 50_000, "rate": 0.7}],
         "annual_cap": 1_000_000},
        {"name": "class B", "base": "class_b", "share_of_base": 0.5,
         "bands": [{"from": 0, "rate": 0.5}], "annual_cap": 10_000},
        {"name": "listed drugs", "base": "out_of_catalogue", "share_of_base": 0.3,
         "bands": [{"from": 0, "rate": 0.5}], "annual_cap": 100_000}]}})
    bill = [{"level": "tertiary", "policy_range": 161_000, "class_b": 9000,
             "out_of_catalogue": 20_000}]
    r = settled(pol, scheme="urrbmi", age=40, supplementary=True, admissions=bill)
    # Basic 50% x 160,000 = 80,000, capped at 50,000. Left: 111,000 + 9,000 + 20,000.
    # In-catalogue: base 120,000, 100,000 above the deductible: 60% x 50,000 + 70% x 50,000
    #   = 65,000 (from the policy-range part): 46,000 + 9,000 left.
    # Class B: half the class-B self-pay is covered: 50% x 4,500 = 2,250: 6,750 left.
    # Listed drugs: 30% of 20,000 is on the list: 50% x 6,000 = 3,000: 17,000 left.
    # Supplementary 70,250; OOP 46,000 + 6,750 + 17,000 = 69,750.
    paid(r.admissions[0], basic=50_000, sup=70_250, oop=69_750)
    assert r.enrolled and r.finance["premium_household"] == 100
    r = settled(pol, scheme="urrbmi", age=40, supplementary=False, admissions=bill)
    paid(r.admissions[0], basic=50_000, oop=140_000)
    assert not r.enrolled and r.finance["premium_household"] == 0


# 18. Supplementary special drugs, care filters and government-paid premiums (Jiaxing) -------

@pytest.mark.parametrize("status, age, disabled, voluntary, enrolled, by_government", [
    ("dibao", 40, False, False, True, True),       # 特困 / 低保 / 低边 paid by the government
    ("general", 65, False, False, True, True),     # 60 and over (the 2025 plan)
    ("general", 40, True, False, True, True),      # disabled
    ("general", 40, False, True, True, False),     # bought it
    ("general", 40, False, False, False, False),   # did not
])
def test_supplementary_special_drugs_and_government_paid_premiums(
        status, age, disabled, voluntary, enrolled, by_government):
    pol = policy({"supplementary": {
        "name": "大病无忧", "premium": 150,
        "government_paid": {"statuses": ["tekun", "dibao", "dibian"], "from_age": 60,
                            "disabled": True},
        "liabilities": [
            {"name": "special drugs", "base": "special_drugs", "deductible": 10_000,
             "bands": [{"from": 0, "rate": 0.6}], "annual_cap": 500_000},
            {"name": "inpatient residual", "base": "in_catalogue_residual", "deductible": 5000,
             "bands": [{"from": 0, "rate": 0.5}], "annual_cap": 100_000, "care": ["inpatient"]}]}})
    r = settled(pol, scheme="urrbmi", age=age, status=status, disabled=disabled,
                supplementary=voluntary,
                admissions=[{"level": "secondary", "policy_range": 25_500}],
                outpatient={"general_primary": 1000,
                            "special_drugs": {"policy_range": 100_000, "out_of_catalogue": 50_000}})
    assert r.enrolled == enrolled
    assert r.finance["premium_government"] == (150 if by_government else 0)
    assert r.finance["premium_household"] == (150 if enrolled and not by_government else 0)
    # Admission: basic 70% x 25,000 = 17,500; residual 8,000; inpatient liability
    #   50% x (8,000 - 5,000) = 1,500.
    paid(r.admissions[0], basic=17_500, sup=1500 if enrolled else 0,
         oop=6500 if enrolled else 8000)
    # General outpatient: basic 50% x 1,000 = 500, capped at 300; the inpatient-only
    #   liability does not pay the 700 left.
    paid(r.outpatient[0], basic=300, oop=700)
    # Special drugs (no basic benefit under BASE): in- and out-of-catalogue 150,000;
    #   60% x (150,000 - 10,000) = 84,000; OOP 66,000.
    paid(r.outpatient[1], sup=84_000 if enrolled else 0, oop=66_000 if enrolled else 150_000)


# 19. The UEBMI individual account pays in-catalogue self-pay of listed care ----------------

def test_individual_account():
    pol = policy({"basic": {"uebmi_employed": {"account_pays": ["outpatient"]},
                            "uebmi_retired": {"account_pays": ["outpatient"]}},
                  "financing": {"employees": {"retiree_account_credit": 840}}})
    r = settled(pol, scheme="uebmi_employed", age=40, wage=300_000,
                admissions=[{"level": "secondary", "policy_range": 3000}],
                outpatient={"general_secondary": 1000})
    # Wage 300,000 above the ceiling 15,000 x 12 = 180,000: employer 6% = 10,800, employee
    #   2% = 3,600, all credited to the account.
    assert (r.finance["employer"], r.finance["employee"]) == pytest.approx((10_800, 3600))
    # Admission: 85% x 2,500 = 2,125; inpatient is not listed: OOP 875.
    paid(r.admissions[0], basic=2125, oop=875)
    # Outpatient: 60% x (1,000 - 200) = 480; the account pays the 520 left.
    paid(r.outpatient[0], basic=480, account=520)
    r = settled(pol, scheme="uebmi_retired", age=70,
                outpatient={"general_primary": {"policy_range": 2000, "class_b": 500}})
    # Retiree: 60% x 1,800 = 1,080; in-catalogue self-pay 920 + 500 class B = 1,420;
    #   the 840 credit pays part: OOP 580. Retirees pay no contributions.
    paid(r.outpatient[0], basic=1080, account=840, oop=580)
    assert r.finance["employee"] == 0 and r.finance["employer"] == 0
    r = settled(pol, scheme="uebmi_employed", age=25, wage=10_000)
    # Below the floor 3,000 x 12 = 36,000: employer 2,160, employee 720.
    assert (r.finance["employer"], r.finance["employee"]) == pytest.approx((2160, 720))


# 20. Before integration: URBMI for urban and NCMS for rural residents (Xinjiang 2016) -------

def test_urban_and_rural_schemes_before_integration():
    data = copy.deepcopy(BASE)
    del data["basic"]["urrbmi"], data["financing"]["residents"]
    data["basic"]["urbmi"] = {"inpatient": {
        "deductible": {"primary": 300, "secondary": 600, "tertiary": 1000},
        "rate": {"primary": 0.85, "secondary": 0.75, "tertiary": 0.6}, "annual_cap": 100_000}}
    data["basic"]["ncms"] = {"inpatient": {
        "deductible": {"primary": 100, "secondary": 300, "tertiary": 800},
        "rate": {"primary": 0.9, "secondary": 0.75, "tertiary": 0.5}, "annual_cap": 80_000}}
    data["financing"]["urbmi"] = {"individual": 180, "subsidy": 450}
    data["financing"]["ncms"] = {"individual": 150, "subsidy": 450}
    pol = Policy(PolicyFile.model_validate(data), Tree(data), (), ())
    bill = [{"level": "tertiary", "policy_range": 20_000}]
    urban = settled(pol, scheme="urrbmi", age=40, residence="urban", admissions=bill)
    rural = settled(pol, scheme="urrbmi", age=40, residence="rural", admissions=bill)
    # URBMI: 60% x (20,000 - 1,000) = 11,400. NCMS: 50% x (20,000 - 800) = 9,600.
    paid(urban.admissions[0], basic=11_400, oop=8600)
    paid(rural.admissions[0], basic=9600, oop=10_400)
    assert (urban.finance["individual"], urban.finance["subsidy"]) == (180, 450)
    assert (rural.finance["individual"], rural.finance["subsidy"]) == (150, 450)


# 21. Subsidised contributions by group (资助参保) ---------------------------------------------

@pytest.mark.parametrize("status, individual, assisted", [
    ("tekun", 0, 350),        # full: 100% of 350
    ("dibao", 75, 275),       # 50% x 350 + 100 fixed = 275
    ("dibian", 0, 350),       # fixed 500, never more than the contribution 350
    ("monitored", 250, 100),  # fixed 100
    ("general", 350, 0),
])
def test_assisted_contributions(status, individual, assisted):
    pol = policy({"financing": {"assisted": {
        "tekun": {"share": 1.0}, "dibao": {"share": 0.5, "amount": 100},
        "dibian": {"amount": 500}, "monitored": {"amount": 100}}}})
    r = settled(pol, scheme="urrbmi", age=30, status=status)
    assert (r.finance["individual"], r.finance["assisted"], r.finance["subsidy"]) == \
        pytest.approx((individual, assisted, 610))


# 24. Employees' large-expense cover on the cost above the basic cap (职工大额) --------------

LARGE = {"critical_illness": {"employees": {
    "base": "above_basic_cap", "threshold": 0, "bands": [{"from": 0, "rate": 0.85}],
    "annual_cap": 400_000}}}


def test_large_expense_cover_starts_where_the_basic_cap_ends():
    r = settled(policy(LARGE), scheme="uebmi_employed", age=50, wage=60_000, admissions=[
        {"level": "tertiary", "policy_range": 200_000}])
    # Basic: 80% x (x - 800) reaches the 100,000 cap at x = 800 + 125,000 = 125,800.
    # Above it 200,000 - 125,800 = 74,200 of cost; large expense 85% x 74,200 = 63,070.
    # OOP 200,000 - 100,000 - 63,070 = 36,930 (the 20% co-pay below the cap stays).
    paid(r.admissions[0], basic=100_000, cii=63_070, oop=36_930)
    # The same cover as a threshold on the self-pay left by basic (the old national file):
    # the residual is 200,000 - 100,000 = 100,000, so a 100,000 threshold pays nothing.
    old = {"critical_illness": {"employees": {**LARGE["critical_illness"]["employees"],
                                              "base": "self_pay", "threshold": 100_000}}}
    r = settled(policy(old), scheme="uebmi_employed", age=50, wage=60_000, admissions=[
        {"level": "tertiary", "policy_range": 200_000}])
    paid(r.admissions[0], basic=100_000, cii=0, oop=100_000)


def test_large_expense_cover_over_several_admissions_and_a_cap_on_eligible_cost():
    r = settled(policy(LARGE), scheme="uebmi_employed", age=50, wage=60_000, admissions=[
        {"level": "secondary", "policy_range": 60_000},
        {"level": "tertiary", "policy_range": 100_000},
        {"level": "primary", "policy_range": 5_000}])
    # 1st: 85% x 59,500 = 50,575, below the cap (49,425 left): nothing above the cap.
    paid(r.admissions[0], basic=50_575, oop=9_425)
    # 2nd: 80% x (x - 800) reaches 49,425 at x = 800 + 61,781.25 = 62,581.25; above it
    #   37,418.75 of cost: large expense 85% x 37,418.75 = 31,805.9375;
    #   OOP 100,000 - 49,425 - 31,805.9375 = 18,769.0625.
    paid(r.admissions[1], basic=49_425, cii=31_805.9375, oop=18_769.0625)
    # 3rd, cap already spent: all 5,000 is above it (no deductible counts): 85% = 4,250.
    paid(r.admissions[2], cii=4_250, oop=750)
    # Cap on eligible cost (100,000 of cost): basic 80% x 99,200 = 79,360 on the first
    #   100,000; the 50,000 above gets 85% = 42,500; OOP 150,000 - 79,360 - 42,500 = 28,140.
    pol = policy(LARGE, {"basic": {"uebmi_employed": {"inpatient": {"cap_on": "eligible_cost"}}}})
    r = settled(pol, scheme="uebmi_employed", age=50, wage=60_000, admissions=[
        {"level": "tertiary", "policy_range": 150_000}])
    paid(r.admissions[0], basic=79_360, cii=42_500, oop=28_140)


def test_large_expense_cover_refuses_bases_it_does_not_count():
    bad = {"critical_illness": {"employees": {**LARGE["critical_illness"]["employees"],
                                              "include_class_b": True}}}
    with pytest.raises(ValueError, match="above_basic_cap .* include_class_b"):
        policy(bad)
