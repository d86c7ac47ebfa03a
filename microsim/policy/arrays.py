"""Policy arrays: a validated policy flattened into the fixed-shape arrays the kernels read.

Takes: a `Policy`. Gives: `PolicyArrays`, one NamedTuple per layer (basic,
critical illness, assistance, supplementary, financing) of numpy arrays and
scalars, indexed by benefit plan (`codes.plan_index(scheme, residence)`),
facility level, band and assistance group. Absent benefits become rate 0 and
cap 0; "no cap" becomes +inf. This is the only place that knows both the
YAML shape and the kernel layout.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from microsim import codes
from microsim.policy.load import Policy
from microsim.policy.schema import ASSISTED_GROUPS, CriticalIllnessRules, SchemeRules, by_level

N_PLANS = codes.N_PLANS
N_LEVELS = len(codes.LEVEL)
N_CARE = len(codes.CARE)
MAX_IP_BANDS = 6          # the base rate and up to five bands
MAX_BANDS = 8
N_GROUPS = 1 + len(ASSISTED_GROUPS)   # 0 = no assistance, then tekun .. illness_hardship
MAX_LIABILITIES = 6
SUP_BASES = ("policy_range_residual", "class_b", "in_catalogue_residual", "out_of_catalogue",
             "special_drugs")
NO_AGE = 10_000


class BasicArrays(NamedTuple):
    """Basic insurance by plan P, level L, band B."""

    ip_ded: np.ndarray            # (P, L)
    ip_repeat_ded: np.ndarray     # (P, L)
    ip_band_above: np.ndarray     # (P, B) band lower edges on admission policy-range cost
    ip_band_rate: np.ndarray      # (P, B, L)
    ip_n_bands: np.ndarray        # (P,)
    ip_age_bonus_from: np.ndarray  # (P,)
    ip_age_bonus_rate: np.ndarray  # (P,)
    ip_has_ooa: np.ndarray        # (P,) bool
    ip_ooa_ded: np.ndarray        # (P, L)
    ip_ooa_cut: np.ndarray        # (P,)
    ip_tcm_ded: np.ndarray        # (P,) bool
    ip_tcm_rate: np.ndarray       # (P,) bool
    ip_cap: np.ndarray            # (P,)
    ip_cap_on_eligible: np.ndarray  # (P,) bool
    op_ded: np.ndarray            # (P,)
    op_rate: np.ndarray           # (P, L)
    op_cap: np.ndarray            # (P,)
    td_ded: np.ndarray            # (P,)
    td_rate: np.ndarray           # (P,)
    td_cap: np.ndarray            # (P, 2) hypertension, diabetes
    td_cap_both: np.ndarray       # (P,) cap on the sum of both, +inf if none
    sc_ded: np.ndarray            # (P,)
    sc_rate: np.ndarray           # (P,)
    sc_cap: np.ndarray            # (P,)
    sd_rate: np.ndarray           # (P,)
    sd_cap: np.ndarray            # (P,)
    acct_pays: np.ndarray         # (P, N_CARE) bool


class CriticalIllnessArrays(NamedTuple):
    """大病保险 by plan P, band B and assistance group G."""

    on: np.ndarray                # (P,) bool
    thr: np.ndarray               # (P,)
    rel: np.ndarray               # (P,) bool: band edges are amounts above the threshold
    above_cap: np.ndarray         # (P,) bool: the base is admission cost above the basic cap
    band_from: np.ndarray         # (P, B)
    band_rate: np.ndarray         # (P, B)
    n_bands: np.ndarray           # (P,)
    cap: np.ndarray               # (P,)
    class_b: np.ndarray           # (P,) bool: class-B self-pay counts in the base
    outpatient: np.ndarray        # (P,) bool: outpatient self-pay counts in the base
    sd_on: np.ndarray             # (P,) bool: special drugs have their own track
    sd_ded: np.ndarray            # (P,)
    sd_rate: np.ndarray           # (P,)
    sd_cap: np.ndarray            # (P,)
    sd_rare: np.ndarray           # (P,) bool: the track covers rare-disease drugs
    tilt_factor: np.ndarray       # (P, G)
    tilt_bonus: np.ndarray        # (P, G, B)
    tilt_nocap: np.ndarray        # (P, G) bool


class AssistanceArrays(NamedTuple):
    """医疗救助 by assistance group G."""

    on: np.ndarray                # (G,) bool
    ded: np.ndarray               # (G,)
    rate: np.ndarray              # (G,)
    cap: np.ndarray               # (G,)
    op_cap: np.ndarray            # (G,) used when caps are not shared
    shared: bool
    class_b: bool
    stage2_on: np.ndarray         # (G,) bool
    stage2_thr: np.ndarray        # (G,)
    stage2_rate: np.ndarray       # (G,)
    stage2_cap: np.ndarray        # (G,)
    oop_cap: np.ndarray           # (G,) +inf where none
    oop_cap_all: bool             # base is all spending (else in-catalogue)
    oop_cap_household: bool
    hardship_share: float         # illness-hardship share of income, +inf if none


class SupplementaryArrays(NamedTuple):
    """惠民保 liabilities K with bands B."""

    on: bool
    enrol_population: bool
    uptake: float
    gov_status: np.ndarray        # (5,) bool by codes.STATUS
    gov_age: int
    gov_disabled: bool
    premium: float
    n: int
    base: np.ndarray              # (K,) index into SUP_BASES
    share: np.ndarray             # (K,)
    ded: np.ndarray               # (K,)
    band_from: np.ndarray         # (K, B)
    band_rate: np.ndarray         # (K, B)
    n_bands: np.ndarray           # (K,)
    cap: np.ndarray               # (K,)
    care: np.ndarray              # (K, N_CARE) bool


class FinancingArrays(NamedTuple):
    individual: np.ndarray        # (P,) residents' individual contribution
    subsidy: np.ndarray           # (P,) residents' fiscal subsidy
    assist_share: np.ndarray      # (5,) by status
    assist_amount: np.ndarray     # (5,)
    employer_rate: float
    employee_rate: float
    wage_floor: float             # annual
    wage_ceiling: float           # annual
    account_share: float
    retiree_credit: float
    account_balance: float        # accumulated account balance a member may also spend
    family_share: float           # share of what is left that pays household members' care


class PolicyArrays(NamedTuple):
    basic: BasicArrays
    cii: CriticalIllnessArrays
    ma: AssistanceArrays
    sup: SupplementaryArrays
    fin: FinancingArrays


def _plans_of(basic) -> dict[int, SchemeRules]:
    """Benefit plan index -> the scheme rules that apply there."""
    out: dict[int, SchemeRules] = {}
    for r, res in enumerate(codes.RESIDENCE):
        out[codes.plan_index(codes.UEBMI_EMPLOYED, r)] = basic.uebmi_employed
        out[codes.plan_index(codes.UEBMI_RETIRED, r)] = basic.uebmi_retired
        residents = basic.urrbmi if basic.urrbmi is not None else (
            basic.urbmi if res == "urban" else basic.ncms)
        out[codes.plan_index(codes.URRBMI, r)] = residents
    return out


def _zeros(*shape):
    return np.zeros(shape, np.float64)


def _false(*shape):
    return np.zeros(shape, np.bool_)


def build_arrays(policy: Policy) -> PolicyArrays:
    """Flatten a validated policy for the settlement kernels."""
    d = policy.data
    plans = _plans_of(d.basic)
    return PolicyArrays(basic=_basic(plans), cii=_critical_illness(d.critical_illness),
                        ma=_assistance(d.medical_assistance), sup=_supplementary(d.supplementary),
                        fin=_financing(d.financing))


def _basic(plans: dict[int, SchemeRules]) -> BasicArrays:
    P, L, B = N_PLANS, N_LEVELS, MAX_IP_BANDS
    a = dict(
        ip_ded=_zeros(P, L), ip_repeat_ded=_zeros(P, L), ip_band_above=np.full((P, B), np.inf),
        ip_band_rate=_zeros(P, B, L), ip_n_bands=np.zeros(P, np.int64),
        ip_age_bonus_from=np.full(P, NO_AGE, np.int64), ip_age_bonus_rate=_zeros(P),
        ip_has_ooa=_false(P), ip_ooa_ded=_zeros(P, L), ip_ooa_cut=_zeros(P),
        ip_tcm_ded=_false(P), ip_tcm_rate=_false(P), ip_cap=_zeros(P),
        ip_cap_on_eligible=_false(P),
        op_ded=_zeros(P), op_rate=_zeros(P, L), op_cap=_zeros(P), td_ded=_zeros(P),
        td_rate=_zeros(P), td_cap=_zeros(P, 2), td_cap_both=np.full(P, np.inf), sc_ded=_zeros(P),
        sc_rate=_zeros(P), sc_cap=_zeros(P), sd_rate=_zeros(P), sd_cap=_zeros(P),
        acct_pays=_false(P, N_CARE))
    for p, rules in plans.items():
        ip = rules.inpatient
        a["ip_ded"][p] = by_level(ip.deductible)
        a["ip_repeat_ded"][p] = by_level(ip.repeat_deductible or ip.deductible)
        bands = [(0.0, by_level(ip.rate))] + [(b.above, by_level(b.rate)) for b in ip.bands]
        a["ip_n_bands"][p] = len(bands)
        for j, (above, rates) in enumerate(bands):
            a["ip_band_above"][p, j] = above
            a["ip_band_rate"][p, j] = rates
        if ip.age_bonus is not None:
            a["ip_age_bonus_from"][p] = ip.age_bonus.from_age
            a["ip_age_bonus_rate"][p] = ip.age_bonus.rate
        if ip.out_of_area is not None:
            a["ip_has_ooa"][p] = True
            a["ip_ooa_ded"][p] = by_level(ip.out_of_area.deductible)
            a["ip_ooa_cut"][p] = ip.out_of_area.rate_cut
        if ip.tcm_tier_down is not None:
            a["ip_tcm_ded"][p] = ip.tcm_tier_down.deductible
            a["ip_tcm_rate"][p] = ip.tcm_tier_down.rate
        a["ip_cap"][p] = ip.annual_cap
        a["ip_cap_on_eligible"][p] = ip.cap_on == "eligible_cost"
        if rules.outpatient is not None:
            a["op_ded"][p] = rules.outpatient.deductible
            a["op_rate"][p] = by_level(rules.outpatient.rate)
            a["op_cap"][p] = rules.outpatient.annual_cap
        if rules.two_disease is not None:
            td = rules.two_disease
            a["td_ded"][p] = td.deductible
            a["td_rate"][p] = td.rate
            a["td_cap"][p] = (td.caps.hypertension, td.caps.diabetes)
            if td.caps.combined is not None:
                a["td_cap_both"][p] = td.caps.combined
        if rules.special_chronic is not None:
            a["sc_ded"][p] = rules.special_chronic.deductible
            a["sc_rate"][p] = rules.special_chronic.rate
            a["sc_cap"][p] = rules.special_chronic.annual_cap
        if rules.special_drugs is not None:
            a["sd_rate"][p] = rules.special_drugs.rate
            a["sd_cap"][p] = rules.special_drugs.annual_cap
        for care in rules.account_pays:
            a["acct_pays"][p, codes.CARE.index(care)] = True
    return BasicArrays(**a)


def _critical_illness(ci) -> CriticalIllnessArrays:
    P, B, G = N_PLANS, MAX_BANDS, N_GROUPS
    a = dict(on=_false(P), thr=_zeros(P), rel=_false(P), above_cap=_false(P), band_from=np.full((P, B), np.inf),
             band_rate=_zeros(P, B), n_bands=np.zeros(P, np.int64), cap=_zeros(P),
             class_b=_false(P), outpatient=_false(P), sd_on=_false(P), sd_ded=_zeros(P),
             sd_rate=_zeros(P), sd_cap=_zeros(P), sd_rare=_false(P), tilt_factor=np.ones((P, G)),
             tilt_bonus=_zeros(P, G, B), tilt_nocap=_false(P, G))
    for scheme in (codes.UEBMI_EMPLOYED, codes.UEBMI_RETIRED, codes.URRBMI):
        rules = ci.residents if scheme == codes.URRBMI else ci.employees
        if rules is None:
            continue
        for r, residence in enumerate(codes.RESIDENCE):
            _fill_cii(a, codes.plan_index(scheme, r), rules, residence)
    return CriticalIllnessArrays(**a)


def _fill_cii(a: dict, p: int, cii: CriticalIllnessRules, residence: str) -> None:
    a["on"][p] = True
    a["thr"][p] = cii.threshold_amount(residence)
    a["rel"][p] = cii.bands_on == "above_threshold"
    a["above_cap"][p] = cii.base == "above_basic_cap"
    a["n_bands"][p] = len(cii.bands)
    for j, band in enumerate(cii.bands):
        a["band_from"][p, j] = band.from_amount
        a["band_rate"][p, j] = band.rate
    a["cap"][p] = cii.annual_cap
    a["class_b"][p] = cii.include_class_b
    a["outpatient"][p] = cii.include_outpatient
    if cii.special_drugs is not None:
        a["sd_on"][p] = True
        a["sd_ded"][p] = cii.special_drugs.deductible
        a["sd_rate"][p] = cii.special_drugs.rate
        a["sd_cap"][p] = cii.special_drugs.annual_cap
        a["sd_rare"][p] = cii.special_drugs.rare_disease
    for name, tilt in cii.tilt.items():
        g = 1 + ASSISTED_GROUPS.index(name)
        a["tilt_factor"][p, g] = tilt.threshold_factor
        a["tilt_bonus"][p, g, :len(cii.bands)] = tilt.bonuses(len(cii.bands))
        a["tilt_nocap"][p, g] = tilt.no_cap


def _assistance(ma) -> AssistanceArrays:
    G = N_GROUPS
    m = dict(on=_false(G), ded=_zeros(G), rate=_zeros(G), cap=_zeros(G), op_cap=_zeros(G),
             stage2_on=_false(G), stage2_thr=_zeros(G), stage2_rate=_zeros(G),
             stage2_cap=_zeros(G), oop_cap=np.full(G, np.inf))
    for name, grp in ma.groups.items():
        g = 1 + ASSISTED_GROUPS.index(name)
        m["on"][g] = True
        m["ded"][g] = grp.deductible
        m["rate"][g] = grp.rate
        m["cap"][g] = grp.annual_cap
        m["op_cap"][g] = grp.outpatient_cap if grp.outpatient_cap is not None else grp.annual_cap
    for name, grp in ma.tilted.items():
        g = 1 + ASSISTED_GROUPS.index(name)
        m["stage2_on"][g] = True
        m["stage2_thr"][g] = grp.threshold
        m["stage2_rate"][g] = grp.rate
        m["stage2_cap"][g] = grp.annual_cap
    if ma.oop_cap is not None:
        for name, cap in ma.oop_cap.groups.items():
            m["oop_cap"][1 + ASSISTED_GROUPS.index(name)] = cap
    return AssistanceArrays(
        **m, shared=bool(ma.shared_cap), class_b=bool(ma.include_class_b),
        oop_cap_all=bool(ma.oop_cap is not None and ma.oop_cap.base == "all"),
        oop_cap_household=bool(ma.oop_cap is None or ma.oop_cap.per == "household"),
        hardship_share=float(ma.illness_hardship.share_of_income) if ma.illness_hardship
        else math.inf)


def _supplementary(sup) -> SupplementaryArrays:
    K, B = MAX_LIABILITIES, MAX_BANDS
    s = dict(on=sup is not None, enrol_population=True, uptake=0.0,
             gov_status=_false(len(codes.STATUS)), gov_age=NO_AGE, gov_disabled=False,
             premium=0.0, n=0, base=np.zeros(K, np.int64), share=_zeros(K), ded=_zeros(K),
             band_from=np.full((K, B), np.inf), band_rate=_zeros(K, B),
             n_bands=np.zeros(K, np.int64), cap=_zeros(K), care=_false(K, N_CARE))
    if sup is not None:
        s["enrol_population"] = sup.enrolment == "population"
        s["uptake"] = 0.0 if sup.enrolment == "population" else float(sup.enrolment)
        for st in sup.government_paid.statuses:
            s["gov_status"][codes.STATUS.index(st)] = True
        if sup.government_paid.from_age is not None:
            s["gov_age"] = int(sup.government_paid.from_age)
        s["gov_disabled"] = bool(sup.government_paid.disabled)
        s["premium"] = float(sup.premium)
        s["n"] = len(sup.liabilities)
        for k, li in enumerate(sup.liabilities):
            s["base"][k] = SUP_BASES.index(li.base)
            s["share"][k] = li.share_of_base
            s["ded"][k] = li.deductible
            s["n_bands"][k] = len(li.bands)
            for j, band in enumerate(li.bands):
                s["band_from"][k, j] = band.from_amount
                s["band_rate"][k, j] = band.rate
            s["cap"][k] = li.annual_cap
            for care in li.care:
                s["care"][k, codes.CARE.index(care)] = True
    return SupplementaryArrays(**s)


def _financing(fin) -> FinancingArrays:
    individual, subsidy = _zeros(N_PLANS), _zeros(N_PLANS)
    for r, res in enumerate(codes.RESIDENCE):
        rf = fin.residents if fin.residents is not None else (
            fin.urbmi if res == "urban" else fin.ncms)
        p = codes.plan_index(codes.URRBMI, r)
        individual[p] = rf.individual
        subsidy[p] = rf.subsidy
    share, amount = _zeros(len(codes.STATUS)), _zeros(len(codes.STATUS))
    for name, grp in fin.assisted.items():
        share[codes.STATUS.index(name)] = grp.share
        amount[codes.STATUS.index(name)] = grp.amount
    e = fin.employees
    return FinancingArrays(
        individual=individual, subsidy=subsidy, assist_share=share, assist_amount=amount,
        employer_rate=float(e.employer_rate), employee_rate=float(e.employee_rate),
        wage_floor=12.0 * e.wage_floor_monthly, wage_ceiling=12.0 * e.wage_ceiling_monthly,
        account_share=float(e.account_share_of_employee),
        retiree_credit=float(e.retiree_account_credit),
        account_balance=float(e.account_balance_per_member),
        family_share=float(e.account_family_share))
