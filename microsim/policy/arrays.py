"""Policy arrays: a validated policy flattened into the fixed-shape arrays the kernels read.

Takes: a `Policy`. Gives: `PolicyArrays`, a NamedTuple of numpy arrays and
scalars indexed by benefit plan (`codes.plan_index(scheme, residence)`),
facility level, band and assistance group. Absent benefits become rate 0 and
cap 0; "no cap" becomes +inf. This is the only place that knows both the YAML
shape and the kernel layout.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from microsim import codes
from microsim.policy.load import Policy
from microsim.policy.schema import (ASSISTED_GROUPS, CriticalIllnessRules, SchemeRules,
                                    by_level)

N_PLANS = codes.N_PLANS
N_LEVELS = len(codes.LEVEL)
MAX_IP_BANDS = 6
MAX_BANDS = 8
N_GROUPS = 1 + len(ASSISTED_GROUPS)   # 0 = no assistance, then tekun .. illness_hardship
GROUP_ILLNESS_HARDSHIP = 5
MAX_LIABILITIES = 6
SUP_BASES = ("policy_range_residual", "class_b", "in_catalogue_residual", "out_of_catalogue",
             "special_drugs")
NO_AGE = 10_000


class PolicyArrays(NamedTuple):
    # Basic insurance, inpatient (per plan, level, band)
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
    # Basic insurance, outpatient
    op_ded: np.ndarray            # (P,)
    op_rate: np.ndarray           # (P, L)
    op_cap: np.ndarray            # (P,)
    td_ded: np.ndarray            # (P,)
    td_rate: np.ndarray           # (P,)
    td_cap: np.ndarray            # (P, 2) hypertension, diabetes
    sc_ded: np.ndarray            # (P,)
    sc_rate: np.ndarray           # (P,)
    sc_cap: np.ndarray            # (P,)
    sd_rate: np.ndarray           # (P,)
    sd_cap: np.ndarray            # (P,)
    acct_pays: np.ndarray         # (P, N_CARE) bool
    # Critical-illness insurance
    cii_on: np.ndarray            # (P,) bool
    cii_thr: np.ndarray           # (P,)
    cii_rel: np.ndarray           # (P,) bool: band edges are amounts above the threshold
    cii_from: np.ndarray          # (P, B)
    cii_rate: np.ndarray          # (P, B)
    cii_n: np.ndarray             # (P,)
    cii_cap: np.ndarray           # (P,)
    cii_cb: np.ndarray            # (P,) bool: class-B self-pay counts in the base
    cii_op: np.ndarray            # (P,) bool: outpatient self-pay counts in the base
    cii_sd_rate: np.ndarray       # (P,)
    cii_sd_cap: np.ndarray        # (P,)
    cii_tilt_factor: np.ndarray   # (P, G)
    cii_tilt_bonus: np.ndarray    # (P, G)
    cii_tilt_nocap: np.ndarray    # (P, G) bool
    # Medical assistance, by group
    ma_on: np.ndarray             # (G,) bool
    ma_ded: np.ndarray            # (G,)
    ma_rate: np.ndarray           # (G,)
    ma_cap: np.ndarray            # (G,)
    ma_op_cap: np.ndarray         # (G,) used when caps are not shared
    ma_shared: bool
    ma_cb: bool
    ma2_on: np.ndarray            # (G,) bool
    ma2_thr: np.ndarray           # (G,)
    ma2_rate: np.ndarray          # (G,)
    ma2_cap: np.ndarray           # (G,)
    oop_cap: np.ndarray           # (G,) +inf where none
    oop_cap_all: bool             # base is all spending (else in-catalogue)
    oop_cap_household: bool
    ih_share: float               # illness-hardship share of income, +inf if none
    # Supplementary insurance
    sup_on: bool
    sup_enrol_population: bool
    sup_uptake: float
    sup_gov_status: np.ndarray    # (5,) bool by codes.STATUS
    sup_gov_age: int
    sup_gov_disabled: bool
    sup_premium: float
    sup_n: int
    sup_base: np.ndarray          # (K,) index into SUP_BASES
    sup_share: np.ndarray         # (K,)
    sup_ded: np.ndarray           # (K,)
    sup_from: np.ndarray          # (K, B)
    sup_rate: np.ndarray          # (K, B)
    sup_nb: np.ndarray            # (K,)
    sup_cap: np.ndarray           # (K,)
    # Financing
    fin_individual: np.ndarray    # (P,) residents' individual contribution
    fin_subsidy: np.ndarray       # (P,) residents' fiscal subsidy
    fin_assist_share: np.ndarray  # (5,) by status
    fin_assist_amount: np.ndarray  # (5,)
    fin_employer_rate: float
    fin_employee_rate: float
    fin_wage_floor: float         # annual
    fin_wage_ceiling: float       # annual
    fin_acct_share: float
    fin_retiree_credit: float


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


def build_arrays(policy: Policy) -> PolicyArrays:
    """Flatten a validated policy for the settlement kernels."""
    d = policy.data
    P, L, B, G = N_PLANS, N_LEVELS, MAX_BANDS, N_GROUPS
    z = lambda *shape: np.zeros(shape, np.float64)  # noqa: E731
    f = lambda *shape: np.zeros(shape, np.bool_)  # noqa: E731
    a = dict(
        ip_ded=z(P, L), ip_repeat_ded=z(P, L), ip_band_above=np.full((P, MAX_IP_BANDS), np.inf),
        ip_band_rate=z(P, MAX_IP_BANDS, L), ip_n_bands=np.zeros(P, np.int64),
        ip_age_bonus_from=np.full(P, NO_AGE, np.int64), ip_age_bonus_rate=z(P),
        ip_has_ooa=f(P), ip_ooa_ded=z(P, L), ip_ooa_cut=z(P), ip_tcm_ded=f(P), ip_tcm_rate=f(P),
        ip_cap=z(P), ip_cap_on_eligible=f(P),
        op_ded=z(P), op_rate=z(P, L), op_cap=z(P), td_ded=z(P), td_rate=z(P), td_cap=z(P, 2),
        sc_ded=z(P), sc_rate=z(P), sc_cap=z(P), sd_rate=z(P), sd_cap=z(P),
        acct_pays=f(P, len(codes.CARE)),
        cii_on=f(P), cii_thr=z(P), cii_rel=f(P), cii_from=np.full((P, B), np.inf),
        cii_rate=z(P, B), cii_n=np.zeros(P, np.int64), cii_cap=z(P), cii_cb=f(P), cii_op=f(P),
        cii_sd_rate=z(P), cii_sd_cap=z(P), cii_tilt_factor=np.ones((P, G)),
        cii_tilt_bonus=z(P, G), cii_tilt_nocap=f(P, G),
    )
    for p, rules in _plans_of(d.basic).items():
        ip = rules.inpatient
        a["ip_ded"][p] = by_level(ip.deductible)
        a["ip_repeat_ded"][p] = by_level(ip.repeat_deductible or ip.deductible)
        bands = [(0.0, by_level(ip.rate))] + [(b.above, by_level(b.rate)) for b in ip.bands]
        if len(bands) > MAX_IP_BANDS:
            raise ValueError(f"at most {MAX_IP_BANDS - 1} inpatient bands")
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
            a["td_ded"][p] = rules.two_disease.deductible
            a["td_rate"][p] = rules.two_disease.rate
            a["td_cap"][p] = (rules.two_disease.caps.hypertension, rules.two_disease.caps.diabetes)
        if rules.special_chronic is not None:
            a["sc_ded"][p] = rules.special_chronic.deductible
            a["sc_rate"][p] = rules.special_chronic.rate
            a["sc_cap"][p] = rules.special_chronic.annual_cap
        if rules.special_drugs is not None:
            a["sd_rate"][p] = rules.special_drugs.rate
            a["sd_cap"][p] = rules.special_drugs.annual_cap
        for care in rules.account_pays:
            a["acct_pays"][p, codes.CARE.index(care)] = True
        scheme = p // len(codes.RESIDENCE)
        cii = d.critical_illness.residents if scheme == codes.URRBMI else d.critical_illness.employees
        if cii is not None:
            _fill_cii(a, p, cii)

    ma = d.medical_assistance
    m = dict(ma_on=f(G), ma_ded=z(G), ma_rate=z(G), ma_cap=z(G), ma_op_cap=z(G),
             ma2_on=f(G), ma2_thr=z(G), ma2_rate=z(G), ma2_cap=z(G), oop_cap=np.full(G, np.inf))
    for name, grp in ma.groups.items():
        g = 1 + ASSISTED_GROUPS.index(name)
        m["ma_on"][g] = True
        m["ma_ded"][g] = grp.deductible
        m["ma_rate"][g] = grp.rate
        m["ma_cap"][g] = grp.annual_cap
        m["ma_op_cap"][g] = grp.outpatient_cap if grp.outpatient_cap is not None else grp.annual_cap
    for name, grp in ma.tilted.items():
        g = 1 + ASSISTED_GROUPS.index(name)
        m["ma2_on"][g] = True
        m["ma2_thr"][g] = grp.threshold
        m["ma2_rate"][g] = grp.rate
        m["ma2_cap"][g] = grp.annual_cap
    if ma.oop_cap is not None:
        for name, cap in ma.oop_cap.groups.items():
            m["oop_cap"][1 + ASSISTED_GROUPS.index(name)] = cap
    a.update(m)
    a.update(ma_shared=bool(ma.shared_cap), ma_cb=bool(ma.include_class_b),
             oop_cap_all=bool(ma.oop_cap is not None and ma.oop_cap.base == "all"),
             oop_cap_household=bool(ma.oop_cap is None or ma.oop_cap.per == "household"),
             ih_share=float(ma.illness_hardship.share_of_income) if ma.illness_hardship else math.inf)

    sup = d.supplementary
    K = MAX_LIABILITIES
    s = dict(sup_on=sup is not None, sup_enrol_population=True, sup_uptake=0.0,
             sup_gov_status=np.zeros(len(codes.STATUS), np.bool_), sup_gov_age=NO_AGE,
             sup_gov_disabled=False, sup_premium=0.0, sup_n=0,
             sup_base=np.zeros(K, np.int64), sup_share=z(K), sup_ded=z(K),
             sup_from=np.full((K, B), np.inf), sup_rate=z(K, B), sup_nb=np.zeros(K, np.int64),
             sup_cap=z(K))
    if sup is not None:
        s["sup_enrol_population"] = sup.enrolment == "population"
        s["sup_uptake"] = 0.0 if sup.enrolment == "population" else float(sup.enrolment)
        for st in sup.government_paid.statuses:
            s["sup_gov_status"][codes.STATUS.index(st)] = True
        s["sup_gov_age"] = sup.government_paid.from_age if sup.government_paid.from_age is not None else NO_AGE
        s["sup_gov_disabled"] = sup.government_paid.disabled
        s["sup_premium"] = sup.premium
        s["sup_n"] = len(sup.liabilities)
        for k, li in enumerate(sup.liabilities):
            if len(li.bands) > B:
                raise ValueError(f"at most {B} bands per liability")
            s["sup_base"][k] = SUP_BASES.index(li.base)
            s["sup_share"][k] = li.share_of_base
            s["sup_ded"][k] = li.deductible
            s["sup_nb"][k] = len(li.bands)
            for j, band in enumerate(li.bands):
                s["sup_from"][k, j] = band.from_amount
                s["sup_rate"][k, j] = band.rate
            s["sup_cap"][k] = li.annual_cap
    a.update(s)

    fin = d.financing
    individual, subsidy = z(P), z(P)
    for r, res in enumerate(codes.RESIDENCE):
        rf = fin.residents if fin.residents is not None else (fin.urbmi if res == "urban" else fin.ncms)
        p = codes.plan_index(codes.URRBMI, r)
        individual[p] = rf.individual
        subsidy[p] = rf.subsidy
    share, amount = z(len(codes.STATUS)), z(len(codes.STATUS))
    for name, grp in fin.assisted.items():
        share[codes.STATUS.index(name)] = grp.share
        amount[codes.STATUS.index(name)] = grp.amount
    e = fin.employees
    a.update(fin_individual=individual, fin_subsidy=subsidy, fin_assist_share=share,
             fin_assist_amount=amount, fin_employer_rate=float(e.employer_rate),
             fin_employee_rate=float(e.employee_rate), fin_wage_floor=12.0 * e.wage_floor_monthly,
             fin_wage_ceiling=12.0 * e.wage_ceiling_monthly,
             fin_acct_share=float(e.account_share_of_employee),
             fin_retiree_credit=float(e.retiree_account_credit))
    return PolicyArrays(**a)


def _fill_cii(a: dict, p: int, cii: CriticalIllnessRules) -> None:
    if len(cii.bands) > MAX_BANDS:
        raise ValueError(f"at most {MAX_BANDS} critical-illness bands")
    a["cii_on"][p] = True
    a["cii_thr"][p] = cii.threshold_amount()
    a["cii_rel"][p] = cii.bands_on == "above_threshold"
    a["cii_n"][p] = len(cii.bands)
    for j, band in enumerate(cii.bands):
        a["cii_from"][p, j] = band.from_amount
        a["cii_rate"][p, j] = band.rate
    a["cii_cap"][p] = cii.annual_cap
    a["cii_cb"][p] = cii.include_class_b
    a["cii_op"][p] = cii.include_outpatient
    if cii.special_drugs is not None:
        a["cii_sd_rate"][p] = cii.special_drugs.rate
        a["cii_sd_cap"][p] = cii.special_drugs.annual_cap
    for name, tilt in cii.tilt.items():
        g = 1 + ASSISTED_GROUPS.index(name)
        a["cii_tilt_factor"][p, g] = tilt.threshold_factor
        a["cii_tilt_bonus"][p, g] = tilt.rate_bonus
        a["cii_tilt_nocap"][p, g] = tilt.no_cap
