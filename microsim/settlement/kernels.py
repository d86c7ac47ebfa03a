"""Settlement kernels: one-stop settlement (一站式结算) of a chunk, household by household.

Takes: `PolicyArrays`, household and person columns, and the year's events.
Gives (written into arrays the caller allocates): what each payer paid for
each admission and each outpatient kind, the financing flows of each person,
each household's assistance group and each person's supplementary enrolment.

Layers, in order, for every person (admissions in date order, then the
year's outpatient kinds), with running annual totals:
  1. basic insurance: inpatient (deductible per admission by level, repeat,
     TCM and out-of-area rules, banded rates, age bonus, annual cap on payout
     or on eligible cost), outpatient pooling, 两病, 门诊慢特病, special drugs;
  2. critical-illness insurance: a step-rate function of the cumulative base
     above a threshold, tilted for status groups, with an annual cap, and a
     separate rate and cap for special drugs;
  3. medical assistance by group: deductible, rate and cap (shared or split
     between outpatient and inpatient), a tilted second stage, then the
     household (or person) out-of-pocket cap 支付封顶;
  4. supplementary insurance liabilities, each on its own base;
  5. the UEBMI individual account on in-catalogue self-pay of listed care;
  6. what is left is out of pocket.
Every payment is taken from what is still unpaid of the bill's parts
(policy-range first, then class-B, then out-of-catalogue, only from parts in
the layer's base), so no layer pays more than what is left and the parts
always add up: total = sum of payers (conservation by construction, and
checked by `settle.check_conservation` and the property tests).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from microsim import rng

INF = math.inf
# payer columns (codes.PAYER)
BASIC, CII, MA, SUP, ACCOUNT, OOP = 0, 1, 2, 3, 4, 5
# outpatient kinds (codes.OUTPATIENT_KIND) and their care rows (codes.CARE)
N_KINDS = 7
KIND_CARE = np.array([1, 1, 1, 2, 2, 3, 4], dtype=np.int64)
KIND_SPECIAL_DRUGS = 6
# financing columns (codes.FINANCE)
FIN_INDIVIDUAL, FIN_SUBSIDY, FIN_ASSISTED, FIN_EMPLOYER, FIN_EMPLOYEE = 0, 1, 2, 3, 4
FIN_PREMIUM_HOUSEHOLD, FIN_PREMIUM_GOVERNMENT = 5, 6
UNINSURED, UEBMI_EMPLOYED, UEBMI_RETIRED, URRBMI = 0, 1, 2, 3
GROUP_ILLNESS_HARDSHIP = 5
PURPOSE_SUPPLEMENTARY_UPTAKE = 4


@nb.njit(cache=True, nogil=True)
def overlap(x0: float, x1: float, lo: float, hi: float) -> float:
    """Length of [x0, x1] inside [lo, hi]."""
    a = x0 if x0 > lo else lo
    b = x1 if x1 < hi else hi
    return b - a if b > a else 0.0


@nb.njit(cache=True, nogil=True)
def take(res: np.ndarray, amount: float, parts: int, paid: np.ndarray, payer: int) -> None:
    """Pay `amount` from the unpaid parts res[0], then res[1], ... res[parts-1]."""
    left = amount
    for q in range(parts):
        if left <= 0.0:
            break
        t = res[q] if res[q] < left else left
        res[q] -= t
        left -= t
    paid[payer] += amount - left


@nb.njit(cache=True, nogil=True)
def unpaid(res: np.ndarray, parts: int) -> float:
    s = 0.0
    for q in range(parts):
        s += res[q]
    return s


@nb.njit(cache=True, nogil=True)
def clip_rate(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


@nb.njit(cache=True, nogil=True)
def step_integral(x0: float, x1: float, starts: np.ndarray, rates: np.ndarray, n: int,
                  offset: float, floor: float, bonus: float) -> float:
    """Integral over [max(x0, floor), x1] of a step rate: rates[j] + bonus on
    [offset + starts[j], offset + starts[j+1]) (the last band open-ended)."""
    lo0 = x0 if x0 > floor else floor
    if x1 <= lo0:
        return 0.0
    total = 0.0
    for j in range(n):
        lo = offset + starts[j]
        hi = offset + starts[j + 1] if j + 1 < n else INF
        total += clip_rate(rates[j] + bonus) * overlap(lo0, x1, lo, hi)
    return total


@nb.njit(cache=True, nogil=True, inline="always")
def basic_inpatient(q, p: int, age: int, level, ooa, tcm, first: int, last: int,
                    adm_res, adm_paid) -> None:
    """Basic insurance for a person's admissions, in order, with the annual cap."""
    cap_left = q.ip_cap[p]
    room = q.ip_cap[p]          # eligible-cost room when the cap is on eligible cost
    bonus = q.ip_age_bonus_rate[p] if age >= q.ip_age_bonus_from[p] else 0.0
    for i in range(first, last):
        lv = level[i]
        out_of_area = ooa[i] and q.ip_has_ooa[p]
        dl = lv - 1 if (tcm[i] and q.ip_tcm_ded[p] and lv > 0) else lv
        rl = lv - 1 if (tcm[i] and q.ip_tcm_rate[p] and lv > 0) else lv
        if out_of_area:
            ded = q.ip_ooa_ded[p, lv]
        elif i > first:
            ded = q.ip_repeat_ded[p, dl]
        else:
            ded = q.ip_ded[p, dl]
        cut = q.ip_ooa_cut[p] if out_of_area else 0.0
        pr = adm_res[i, 0]
        x1 = pr
        if q.ip_cap_on_eligible[p]:
            if x1 > ded + room:
                x1 = ded + room
            if x1 > ded:
                room -= x1 - ded
        pay = 0.0
        n = q.ip_n_bands[p]
        for j in range(n):
            hi = q.ip_band_above[p, j + 1] if j + 1 < n else INF
            pay += clip_rate(q.ip_band_rate[p, j, rl] + bonus - cut) * overlap(
                ded, x1, q.ip_band_above[p, j], hi)
        if not q.ip_cap_on_eligible[p]:
            if pay > cap_left:
                pay = cap_left
            cap_left -= pay
        take(adm_res[i], pay, 1, adm_paid[i], BASIC)


@nb.njit(cache=True, nogil=True, inline="always")
def basic_outpatient(q, p: int, op_res, op_paid) -> None:
    """Outpatient pooling, 两病, 门诊慢特病 and special drugs for one person's year.

    op_res and op_paid are the person's (kinds, parts) and (kinds, payers) rows."""
    ded_left = q.op_ded[p]
    cap_left = q.op_cap[p]
    for lv in range(3):
        pr = op_res[lv, 0]
        eligible = pr - ded_left if pr > ded_left else 0.0
        ded_left = ded_left - pr if ded_left > pr else 0.0
        pay = q.op_rate[p, lv] * eligible
        if pay > cap_left:
            pay = cap_left
        cap_left -= pay
        take(op_res[lv], pay, 1, op_paid[lv], BASIC)
    for d in range(2):
        k = 3 + d
        pr = op_res[k, 0]
        pay = q.td_rate[p] * (pr - q.td_ded[p] if pr > q.td_ded[p] else 0.0)
        if pay > q.td_cap[p, d]:
            pay = q.td_cap[p, d]
        take(op_res[k], pay, 1, op_paid[k], BASIC)
    pr = op_res[5, 0]
    pay = q.sc_rate[p] * (pr - q.sc_ded[p] if pr > q.sc_ded[p] else 0.0)
    if pay > q.sc_cap[p]:
        pay = q.sc_cap[p]
    take(op_res[5], pay, 1, op_paid[5], BASIC)
    pay = q.sd_rate[p] * op_res[6, 0]
    if pay > q.sd_cap[p]:
        pay = q.sd_cap[p]
    take(op_res[6], pay, 1, op_paid[6], BASIC)


@nb.njit(cache=True, nogil=True, inline="always")
def critical_illness(q, p: int, g: int, first: int, last: int, adm_res, adm_paid,
                     op_res, op_paid) -> None:
    """大病保险 on the cumulative base above the (tilted) threshold, then special drugs."""
    if not q.cii_on[p]:
        return
    thr = q.cii_thr[p] * q.cii_tilt_factor[p, g]
    bonus = q.cii_tilt_bonus[p, g]
    cap_left = INF if q.cii_tilt_nocap[p, g] else q.cii_cap[p]
    offset = thr if q.cii_rel[p] else 0.0
    parts = 2 if q.cii_cb[p] else 1
    n = q.cii_n[p]
    base = 0.0
    n_items = (last - first) + (6 if q.cii_op[p] else 0)
    for t in range(n_items):
        if t < last - first:
            res = adm_res[first + t]
            paid = adm_paid[first + t]
        else:
            res = op_res[t - (last - first)]
            paid = op_paid[t - (last - first)]
        inc = unpaid(res, parts)
        pay = step_integral(base, base + inc, q.cii_from[p], q.cii_rate[p], n, offset, thr, bonus)
        base += inc
        if pay > cap_left:
            pay = cap_left
        cap_left -= pay
        take(res, pay, parts, paid, CII)
    pay = q.cii_sd_rate[p] * unpaid(op_res[KIND_SPECIAL_DRUGS], parts)
    if pay > q.cii_sd_cap[p]:
        pay = q.cii_sd_cap[p]
    take(op_res[KIND_SPECIAL_DRUGS], pay, parts, op_paid[KIND_SPECIAL_DRUGS], CII)


@nb.njit(cache=True, nogil=True, inline="always")
def medical_assistance(q, g: int, first: int, last: int, adm_res, adm_paid, op_res,
                       op_paid) -> None:
    """医疗救助 stage 1 (deductible, rate, caps) and the tilted stage 2 for one person."""
    if not q.ma_on[g]:
        return
    parts = 2 if q.ma_cb else 1
    cap_ip = q.ma_cap[g]
    cap_op = q.ma_op_cap[g]
    base = 0.0
    ded = q.ma_ded[g]
    n_items = (last - first) + N_KINDS
    for t in range(n_items):
        inpatient = t < last - first
        if inpatient:
            res = adm_res[first + t]
            paid = adm_paid[first + t]
        else:
            res = op_res[t - (last - first)]
            paid = op_paid[t - (last - first)]
        inc = unpaid(res, parts)
        eligible = overlap(base, base + inc, ded, INF)
        base += inc
        pay = q.ma_rate[g] * eligible
        if q.ma_shared or inpatient:
            if pay > cap_ip:
                pay = cap_ip
            cap_ip -= pay
        else:
            if pay > cap_op:
                pay = cap_op
            cap_op -= pay
        take(res, pay, parts, paid, MA)
    if not q.ma2_on[g]:
        return
    base = 0.0
    cap2 = q.ma2_cap[g]
    for t in range(n_items):
        if t < last - first:
            res = adm_res[first + t]
            paid = adm_paid[first + t]
        else:
            res = op_res[t - (last - first)]
            paid = op_paid[t - (last - first)]
        inc = unpaid(res, parts)
        pay = q.ma2_rate[g] * overlap(base, base + inc, q.ma2_thr[g], INF)
        base += inc
        if pay > cap2:
            pay = cap2
        cap2 -= pay
        take(res, pay, parts, paid, MA)


@nb.njit(cache=True, nogil=True)
def person_unpaid(parts: int, first: int, last: int, j: int, adm_res, op_res) -> float:
    s = 0.0
    for i in range(first, last):
        s += unpaid(adm_res[i], parts)
    for k in range(N_KINDS):
        s += unpaid(op_res[j, k], parts)
    return s


@nb.njit(cache=True, nogil=True)
def pay_share(share: float, parts: int, first: int, last: int, j: int, adm_res, adm_paid,
              op_res, op_paid, payer: int) -> None:
    """Pay the same share of every unpaid part in the base of all of a person's items."""
    for i in range(first, last):
        for q_ in range(parts):
            t = adm_res[i, q_] * share
            adm_res[i, q_] -= t
            adm_paid[i, payer] += t
    for k in range(N_KINDS):
        for q_ in range(parts):
            t = op_res[j, k, q_] * share
            op_res[j, k, q_] -= t
            op_paid[j, k, payer] += t


@nb.njit(cache=True, nogil=True, inline="always")
def supplementary(q, first: int, last: int, adm_res, adm_paid, op_res, op_paid) -> None:
    """惠民保 liabilities, each a step-rate function of its own cumulative base."""
    n_items = (last - first) + N_KINDS
    for k in range(q.sup_n):
        kind = q.sup_base[k]
        base = 0.0
        ded = q.sup_ded[k]
        cap_left = q.sup_cap[k]
        for t in range(n_items):
            if t < last - first:
                res = adm_res[first + t]
                paid = adm_paid[first + t]
                is_sd = False
            else:
                res = op_res[t - (last - first)]
                paid = op_paid[t - (last - first)]
                is_sd = t - (last - first) == KIND_SPECIAL_DRUGS
            if kind == 4 and not is_sd:
                continue
            if kind == 0:
                inc = res[0]
            elif kind == 1:
                inc = res[1]
            elif kind == 3:
                inc = res[2] * q.sup_share[k]
            else:
                inc = res[0] + res[1]
            if kind != 3:
                inc *= q.sup_share[k]
            pay = step_integral(base, base + inc, q.sup_from[k], q.sup_rate[k], q.sup_nb[k],
                                ded, ded, 0.0)
            base += inc
            if pay > cap_left:
                pay = cap_left
            cap_left -= pay
            if kind == 1:
                t_ = res[1] if res[1] < pay else pay
                res[1] -= t_
                paid[SUP] += t_
            elif kind == 3:
                t_ = res[2] if res[2] < pay else pay
                res[2] -= t_
                paid[SUP] += t_
            else:
                take(res, pay, 2, paid, SUP)


@nb.njit(cache=True, nogil=True)
def settle_households(q, key, sup_stream, status, income, first_person, residence,
                      person_id, scheme, age, disabled, sup_flag, wage,
                      adm_offsets, adm_level, adm_ooa, adm_tcm, adm_cost, outpatient,
                      adm_res, adm_paid, op_res, op_paid, finance, hh_group, enrolled) -> None:
    """Settle every bill of every household of a chunk through all layers."""
    for h in range(status.size):
        r = residence[h]
        s = status[h]
        p0 = first_person[h]
        p1 = first_person[h + 1]
        # Layers 1 and 2: basic and critical-illness insurance, person by person.
        for j in range(p0, p1):
            first = adm_offsets[j]
            last = adm_offsets[j + 1]
            for i in range(first, last):
                for c in range(3):
                    adm_res[i, c] = adm_cost[i, c]
                for c in range(6):
                    adm_paid[i, c] = 0.0
            for k in range(N_KINDS):
                for c in range(3):
                    op_res[j, k, c] = outpatient[j, k, c]
                for c in range(6):
                    op_paid[j, k, c] = 0.0
            if scheme[j] == UNINSURED:
                continue
            p = scheme[j] * 2 + r
            basic_inpatient(q, p, age[j], adm_level, adm_ooa, adm_tcm, first, last, adm_res, adm_paid)
            basic_outpatient(q, p, op_res[j], op_paid[j])
            critical_illness(q, p, s, first, last, adm_res, adm_paid, op_res[j], op_paid[j])
        # The household's assistance group, including 因病支出型 illness hardship.
        g = s
        if s == 0 and q.ma_on[GROUP_ILLNESS_HARDSHIP] and q.ih_share < INF:
            burden = 0.0
            for j in range(p0, p1):
                burden += person_unpaid(2, adm_offsets[j], adm_offsets[j + 1], j, adm_res, op_res)
            if burden > q.ih_share * income[h]:
                g = GROUP_ILLNESS_HARDSHIP
        hh_group[h] = g
        # Layer 3: medical assistance, then the out-of-pocket cap.
        for j in range(p0, p1):
            medical_assistance(q, g, adm_offsets[j], adm_offsets[j + 1], adm_res, adm_paid,
                               op_res[j], op_paid[j])
        cap = q.oop_cap[g]
        if cap < INF:
            parts = 3 if q.oop_cap_all else 2
            if q.oop_cap_household:
                total = 0.0
                for j in range(p0, p1):
                    total += person_unpaid(parts, adm_offsets[j], adm_offsets[j + 1], j, adm_res, op_res)
                if total > cap:
                    share = (total - cap) / total
                    for j in range(p0, p1):
                        pay_share(share, parts, adm_offsets[j], adm_offsets[j + 1], j, adm_res,
                                  adm_paid, op_res, op_paid, MA)
            else:
                for j in range(p0, p1):
                    total = person_unpaid(parts, adm_offsets[j], adm_offsets[j + 1], j, adm_res, op_res)
                    if total > cap:
                        pay_share((total - cap) / total, parts, adm_offsets[j], adm_offsets[j + 1],
                                  j, adm_res, adm_paid, op_res, op_paid, MA)
        # Layers 4-6 and financing, person by person.
        for j in range(p0, p1):
            first = adm_offsets[j]
            last = adm_offsets[j + 1]
            sch = scheme[j]
            p = sch * 2 + r
            gov = sch != UNINSURED and q.sup_on and (
                q.sup_gov_status[s] or age[j] >= q.sup_gov_age or (q.sup_gov_disabled and disabled[j]))
            if q.sup_enrol_population:
                voluntary = sup_flag[j]
            else:
                voluntary = rng.uniform(key, sup_stream, np.uint64(person_id[j]), np.uint64(0)) < q.sup_uptake
            is_enrolled = sch != UNINSURED and q.sup_on and (gov or voluntary)
            enrolled[j] = is_enrolled
            if is_enrolled:
                supplementary(q, first, last, adm_res, adm_paid, op_res[j], op_paid[j])
            # Financing flows.
            for c in range(7):
                finance[j, c] = 0.0
            credit = 0.0
            if sch == URRBMI:
                own = q.fin_individual[p]
                assisted = q.fin_assist_share[s] * own + q.fin_assist_amount[s]
                if assisted > own:
                    assisted = own
                finance[j, FIN_INDIVIDUAL] = own - assisted
                finance[j, FIN_ASSISTED] = assisted
                finance[j, FIN_SUBSIDY] = q.fin_subsidy[p]
            elif sch == UEBMI_EMPLOYED:
                wb = wage[j]
                if wb < q.fin_wage_floor:
                    wb = q.fin_wage_floor
                if wb > q.fin_wage_ceiling:
                    wb = q.fin_wage_ceiling
                finance[j, FIN_EMPLOYER] = q.fin_employer_rate * wb
                finance[j, FIN_EMPLOYEE] = q.fin_employee_rate * wb
                credit = q.fin_acct_share * finance[j, FIN_EMPLOYEE]
            elif sch == UEBMI_RETIRED:
                credit = q.fin_retiree_credit
            if is_enrolled:
                if gov:
                    finance[j, FIN_PREMIUM_GOVERNMENT] = q.sup_premium
                else:
                    finance[j, FIN_PREMIUM_HOUSEHOLD] = q.sup_premium
            # Layer 5: the individual account pays in-catalogue self-pay of listed care.
            if credit > 0.0:
                for i in range(first, last):
                    if credit <= 0.0:
                        break
                    if q.acct_pays[p, 0]:
                        pay = unpaid(adm_res[i], 2)
                        if pay > credit:
                            pay = credit
                        credit -= pay
                        take(adm_res[i], pay, 2, adm_paid[i], ACCOUNT)
                for k in range(N_KINDS):
                    if credit <= 0.0:
                        break
                    if q.acct_pays[p, KIND_CARE[k]]:
                        pay = unpaid(op_res[j, k], 2)
                        if pay > credit:
                            pay = credit
                        credit -= pay
                        take(op_res[j, k], pay, 2, op_paid[j, k], ACCOUNT)
            # Layer 6: what is left is out of pocket.
            for i in range(first, last):
                adm_paid[i, OOP] += unpaid(adm_res[i], 3)
                for c in range(3):
                    adm_res[i, c] = 0.0
            for k in range(N_KINDS):
                op_paid[j, k, OOP] += unpaid(op_res[j, k], 3)
                for c in range(3):
                    op_res[j, k, c] = 0.0
