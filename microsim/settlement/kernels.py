"""Settlement kernels: one-stop settlement (一站式结算) of a chunk, household by household.

Takes: `PolicyArrays`, household and person columns, the year's events and
scratch arrays. Gives (written into arrays the caller allocates): what each
payer paid for each admission and each outpatient kind, the financing flows
of each person, each household's assistance group and each person's
supplementary enrolment.

A household's bills are first gathered into a scratch list of items, person
by person: the person's admissions in date order, then each outpatient kind
with spending, in `codes.OUTPATIENT_KIND` order. Each item carries its three
unpaid parts (policy-range, class-B self-pay, out-of-catalogue) and what each
payer has paid. Layers, in order, for every person, with running annual totals:
  1. basic insurance: inpatient (deductible per admission by level, repeat,
     TCM and out-of-area rules, banded rates, age bonus, annual cap on payout
     or on eligible cost), outpatient pooling, 两病, 门诊慢特病, special drugs;
  2. critical-illness insurance: a step-rate function of the cumulative base
     above a threshold, tilted for status groups, with an annual cap, and a
     separate deductible, rate and cap for special drugs; the base is the
     self-pay left by basic insurance, or (employees' large-expense cover) the
     admissions' policy-range cost above the point where the basic inpatient
     cap was reached, which basic insurance records per admission;
  3. medical assistance by group (the household's status, or illness hardship
     因病支出型 found from the household's burden after layers 1-2): deductible,
     rate and cap (shared or split between outpatient and inpatient), and a
     tilted second stage;
  4. supplementary insurance liabilities, each on its own base;
  5. the UEBMI individual account on in-catalogue self-pay of listed care, then, where the
     policy lets families share accounts (家庭共济), a share of what members leave in their
     accounts on the other household members' in-catalogue self-pay;
  then medical assistance's household (or person) out-of-pocket cap 支付封顶,
  settled last so that it caps what the family finally pays;
  6. what is left is out of pocket.
Beside the payers, each item records the parts of a payer's amount (`D_*` columns:
critical illness's main base and special-drug track, assistance's stage 1, stage 2 and
out-of-pocket cap, each supplementary liability, own and family-shared account), written
out only when the caller asks for them (the calculator); no layer reads them back.
Every payment is taken from what is still unpaid of the item's parts in the
layer's base, so no layer pays more than what is left and the parts always
add up: total = sum of payers (conservation by construction, checked by
`settle.check_conservation` and the property tests). Outpatient kinds without
spending are not gathered: every layer would pay nothing on them.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from microsim import rng

INF = math.inf
# payer columns (codes.PAYER)
BASIC, CII, MA, SUP, ACCOUNT, OOP = 0, 1, 2, 3, 4, 5
N_PAYERS = 6
# item kinds: 0-6 are codes.OUTPATIENT_KIND, then admissions
N_KINDS = 7
K_SPECIAL_CHRONIC, K_SPECIAL_DRUGS, ADMISSION = 5, 6, 7
# the care row (codes.CARE) of each item kind
ITEM_CARE = np.array([1, 1, 1, 2, 2, 3, 4, 0], dtype=np.int64)
# financing columns (codes.FINANCE)
FIN_INDIVIDUAL, FIN_SUBSIDY, FIN_ASSISTED, FIN_EMPLOYER, FIN_EMPLOYEE = 0, 1, 2, 3, 4
FIN_PREMIUM_HOUSEHOLD, FIN_PREMIUM_GOVERNMENT, FIN_ACCOUNT_CREDIT = 5, 6, 7
N_FINANCE = 8
UNINSURED, UEBMI_EMPLOYED, UEBMI_RETIRED, URRBMI = 0, 1, 2, 3
GROUP_ILLNESS_HARDSHIP = 5
PURPOSE_SUPPLEMENTARY_UPTAKE = 4
# supplementary bases (arrays.SUP_BASES): policy-range residual, class B, in-catalogue
# residual, out of catalogue, special drugs; the parts lo..hi-1 of a bill each one counts
SB_SPECIAL_DRUGS = 4
SUP_PART_LO = np.array([0, 1, 0, 2, 0], dtype=np.int64)
SUP_PART_HI = np.array([1, 2, 2, 3, 3], dtype=np.int64)
NO_BONUS = np.zeros(8)
# detail columns (settle.DETAIL): the payers' parts. Critical illness's main base and its
# special-drug track; assistance's stage 1, tilted stage 2 and out-of-pocket cap; each
# supplementary liability (up to arrays.MAX_LIABILITIES); the person's own account and the
# family-shared accounts. Recorded beside the payments, never read back by any layer.
D_CII_MAIN, D_CII_SPECIAL_DRUGS, D_MA_STAGE1, D_MA_STAGE2, D_MA_OOP_CAP, D_SUP = 0, 1, 2, 3, 4, 5
D_ACCOUNT_OWN, D_ACCOUNT_FAMILY = 11, 12
N_DETAIL = 13

# The kernels allocate nothing: they write into arrays their caller allocates. Compiling
# them without numba's reference-counted runtime (`_nrt=False`) drops the atomic reference
# counting of the policy arrays at every access, which otherwise takes most of the run time,
# and turns any allocation inside a kernel into a compile error.
kernel = nb.njit(cache=True, nogil=True, _nrt=False)


@kernel
def overlap(x0: float, x1: float, lo: float, hi: float) -> float:
    """Length of [x0, x1] inside [lo, hi]."""
    a = x0 if x0 > lo else lo
    b = x1 if x1 < hi else hi
    return b - a if b > a else 0.0


@kernel
def clip_rate(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


@kernel
def unpaid(res: np.ndarray, t: int, parts: int) -> float:
    """What is still unpaid of parts 0 .. parts-1 of item t."""
    s = 0.0
    for c in range(parts):
        s += res[t, c]
    return s


@kernel
def take(res: np.ndarray, paid: np.ndarray, t: int, amount: float, lo: int, hi: int,
         payer: int) -> float:
    """`payer` pays `amount` of item t from its unpaid parts lo, lo+1, ... hi-1, in order;
    returns what it paid (less than `amount` when less was unpaid)."""
    left = amount
    for c in range(lo, hi):
        if left <= 0.0:
            break
        x = res[t, c] if res[t, c] < left else left
        res[t, c] -= x
        left -= x
    got = amount - left
    paid[t, payer] += got
    return got


@kernel
def band_integral(x0: float, x1: float, starts: np.ndarray, rates: np.ndarray,
                  bonus: np.ndarray, add: float, n: int, offset: float, floor: float) -> float:
    """Integral over [max(x0, floor), x1] of a step rate: rates[j] + bonus[j] + add (clipped
    to [0, 1]) on [offset + starts[j], offset + starts[j+1]), the last band open-ended."""
    lo0 = x0 if x0 > floor else floor
    if x1 <= lo0:
        return 0.0
    total = 0.0
    for j in range(n):
        lo = offset + starts[j]
        hi = offset + starts[j + 1] if j + 1 < n else INF
        if hi <= lo0:
            continue
        if lo >= x1:
            break
        total += clip_rate(rates[j] + bonus[j] + add) * overlap(lo0, x1, lo, hi)
    return total


@kernel
def band_reach(target: float, x1: float, starts: np.ndarray, rates: np.ndarray, add: float,
               n: int, floor: float) -> float:
    """Smallest x in [0, x1] where the integral over [floor, x] of the step rate rates[j] + add
    (band j from starts[j], clipped to [0, 1]) reaches `target`; x1 if it never does."""
    if target <= 0.0:
        return 0.0
    acc = 0.0
    for j in range(n):
        lo = starts[j] if starts[j] > floor else floor
        hi = starts[j + 1] if j + 1 < n else INF
        if hi > x1:
            hi = x1
        if hi <= lo:
            continue
        r = clip_rate(rates[j] + add)
        if r > 0.0 and acc + r * (hi - lo) >= target:
            return lo + (target - acc) / r
        acc += r * (hi - lo)
    return x1


@kernel
def basic_inpatient(b, p: int, age: int, adm_level, adm_ooa, adm_tcm, src, t0: int, t1: int,
                    res, paid, over) -> None:
    """Basic insurance for a person's admissions (items t0..t1), in order, with the annual cap.

    Writes over[t]: the admission's policy-range cost above the point where the year's cap
    was reached (the part basic insurance no longer pays because of its cap)."""
    cap_left = b.ip_cap[p]
    room = b.ip_cap[p]          # cost left below the cap when the cap is on eligible cost
    on_eligible = b.ip_cap_on_eligible[p]
    bonus = b.ip_age_bonus_rate[p] if age >= b.ip_age_bonus_from[p] else 0.0
    n = b.ip_n_bands[p]
    for t in range(t0, t1):
        i = src[t]
        lv = adm_level[i]
        tcm = adm_tcm[i]
        out_of_area = adm_ooa[i] and b.ip_has_ooa[p]
        dl = lv - 1 if (tcm and b.ip_tcm_ded[p] and lv > 0) else lv
        rl = lv - 1 if (tcm and b.ip_tcm_rate[p] and lv > 0) else lv
        if out_of_area:
            ded = b.ip_ooa_ded[p, lv]
        elif t > t0:
            ded = b.ip_repeat_ded[p, dl]
        else:
            ded = b.ip_ded[p, dl]
        cut = b.ip_ooa_cut[p] if out_of_area else 0.0
        x1 = res[t, 0]
        over[t] = 0.0
        if on_eligible:             # costs above the year's cost cap get no basic payment
            if x1 > room:
                over[t] = x1 - room
                x1 = room
            room -= x1
        pay = band_integral(0.0, x1, b.ip_band_above[p], b.ip_band_rate[p, :, rl], NO_BONUS,
                            bonus - cut, n, 0.0, ded)
        if not on_eligible:
            if cap_left <= 0.0:
                over[t] = x1
            elif pay > cap_left:    # the cap is reached inside this admission
                over[t] = x1 - band_reach(cap_left, x1, b.ip_band_above[p],
                                          b.ip_band_rate[p, :, rl], bonus - cut, n, ded)
            if pay > cap_left:
                pay = cap_left
            cap_left -= pay
        take(res, paid, t, pay, 0, 1, BASIC)


@kernel
def basic_outpatient(b, p: int, kind, t0: int, t1: int, res, paid) -> None:
    """Outpatient pooling, 两病, 门诊慢特病 and special drugs for one person's year
    (outpatient items t0..t1, in kind order)."""
    ded_left = b.op_ded[p]
    cap_left = b.op_cap[p]
    both_left = b.td_cap_both[p]
    for t in range(t0, t1):
        k = kind[t]
        pr = res[t, 0]
        if k <= 2:                      # general outpatient at level k
            eligible = pr - ded_left if pr > ded_left else 0.0
            ded_left = ded_left - pr if ded_left > pr else 0.0
            pay = b.op_rate[p, k] * eligible
            if pay > cap_left:
                pay = cap_left
            cap_left -= pay
        elif k <= 4:                    # 两病: hypertension, diabetes
            pay = b.td_rate[p] * (pr - b.td_ded[p] if pr > b.td_ded[p] else 0.0)
            if pay > b.td_cap[p, k - 3]:
                pay = b.td_cap[p, k - 3]
            if pay > both_left:
                pay = both_left
            both_left -= pay
        elif k == K_SPECIAL_CHRONIC:
            pay = b.sc_rate[p] * (pr - b.sc_ded[p] if pr > b.sc_ded[p] else 0.0)
            if pay > b.sc_cap[p]:
                pay = b.sc_cap[p]
        else:
            pay = b.sd_rate[p] * pr
            if pay > b.sd_cap[p]:
                pay = b.sd_cap[p]
        take(res, paid, t, pay, 0, 1, BASIC)


@kernel
def critical_illness(c, p: int, g: int, kind, t0: int, t1: int, res, paid, over,
                     rare: float, detail) -> None:
    """大病保险 on the cumulative base above the (tilted) threshold, then special drugs.

    The base is the self-pay left after basic insurance or, with `above_cap`, the admissions'
    policy-range cost above the basic cap (`over`, from `basic_inpatient`). `rare`: the share
    of the person's special drugs that is rare-disease drugs, left out of the special-drug
    track when the plan does not cover them."""
    if not c.on[p]:
        return
    thr = c.thr[p] * c.tilt_factor[p, g]
    cap_left = INF if c.tilt_nocap[p, g] else c.cap[p]
    offset = thr if c.rel[p] else 0.0
    parts = 2 if c.class_b[p] else 1
    n = c.n_bands[p]
    base = 0.0
    for t in range(t0, t1):
        k = kind[t]
        if k != ADMISSION:
            if not c.outpatient[p]:
                break                   # outpatient items follow the admissions
            if k == K_SPECIAL_DRUGS and c.sd_on[p]:
                continue                # settled on its own track below
        inc = over[t] if c.above_cap[p] else unpaid(res, t, parts)
        pay = band_integral(base, base + inc, c.band_from[p], c.band_rate[p], c.tilt_bonus[p, g],
                            0.0, n, offset, thr)
        base += inc
        if pay > cap_left:
            pay = cap_left
        cap_left -= pay
        detail[t, D_CII_MAIN] += take(res, paid, t, pay, 0, parts, CII)
    if c.sd_on[p] and t1 > t0 and kind[t1 - 1] == K_SPECIAL_DRUGS:
        t = t1 - 1
        base = unpaid(res, t, parts)
        if not c.sd_rare[p]:
            base *= 1.0 - rare
        pay = c.sd_rate[p] * overlap(0.0, base, c.sd_ded[p], INF)
        if pay > c.sd_cap[p]:
            pay = c.sd_cap[p]
        detail[t, D_CII_SPECIAL_DRUGS] += take(res, paid, t, pay, 0, parts, CII)


@kernel
def medical_assistance(m, g: int, kind, t0: int, t1: int, res, paid, detail) -> None:
    """医疗救助 stage 1 (deductible, rate, caps) and the tilted stage 2 for one person."""
    if not m.on[g]:
        return
    parts = 2 if m.class_b else 1
    cap_ip = m.cap[g]
    cap_op = m.op_cap[g]
    base = 0.0
    for t in range(t0, t1):
        inc = unpaid(res, t, parts)
        pay = m.rate[g] * overlap(base, base + inc, m.ded[g], INF)
        base += inc
        if m.shared or kind[t] == ADMISSION:
            if pay > cap_ip:
                pay = cap_ip
            cap_ip -= pay
        else:
            if pay > cap_op:
                pay = cap_op
            cap_op -= pay
        detail[t, D_MA_STAGE1] += take(res, paid, t, pay, 0, parts, MA)
    if not m.stage2_on[g]:
        return
    base = 0.0
    cap2 = m.stage2_cap[g]
    for t in range(t0, t1):
        inc = unpaid(res, t, parts)
        pay = m.stage2_rate[g] * overlap(base, base + inc, m.stage2_thr[g], INF)
        base += inc
        if pay > cap2:
            pay = cap2
        cap2 -= pay
        detail[t, D_MA_STAGE2] += take(res, paid, t, pay, 0, parts, MA)


@kernel
def unpaid_items(res, t0: int, t1: int, parts: int) -> float:
    s = 0.0
    for t in range(t0, t1):
        s += unpaid(res, t, parts)
    return s


@kernel
def oop_cap(m, g: int, pstart, n_members: int, res, paid, detail) -> None:
    """支付封顶: assistance pays whatever the household's (or each person's) self-pay left after
    every other layer exceeds the cap, as the same share of every unpaid part in its base."""
    cap = m.oop_cap[g]
    if cap == INF:
        return
    parts = 3 if m.oop_cap_all else 2
    n_pools = 1 if m.oop_cap_household else n_members
    for u in range(n_pools):
        t0 = pstart[0] if m.oop_cap_household else pstart[u]
        t1 = pstart[n_members] if m.oop_cap_household else pstart[u + 1]
        total = unpaid_items(res, t0, t1, parts)
        if total <= cap:
            continue
        share = (total - cap) / total
        for t in range(t0, t1):
            for c in range(parts):
                x = res[t, c] * share
                res[t, c] -= x
                paid[t, MA] += x
                detail[t, D_MA_OOP_CAP] += x


@kernel
def supplementary(s, kind, t0: int, t1: int, res, paid, detail) -> None:
    """惠民保 liabilities, each a step-rate function of its own cumulative base."""
    for k in range(s.n):
        lo = SUP_PART_LO[s.base[k]]
        hi = SUP_PART_HI[s.base[k]]
        only_special_drugs = s.base[k] == SB_SPECIAL_DRUGS
        share = s.share[k]
        ded = s.ded[k]
        cap_left = s.cap[k]
        base = 0.0
        for t in range(t0, t1):
            if not s.care[k, ITEM_CARE[kind[t]]] or (only_special_drugs and
                                                     kind[t] != K_SPECIAL_DRUGS):
                continue
            inc = 0.0
            for c in range(lo, hi):
                inc += res[t, c]
            inc *= share
            pay = band_integral(base, base + inc, s.band_from[k], s.band_rate[k], NO_BONUS, 0.0,
                                s.n_bands[k], ded, ded)
            base += inc
            if pay > cap_left:
                pay = cap_left
            cap_left -= pay
            detail[t, D_SUP + k] += take(res, paid, t, pay, lo, hi, SUP)


@kernel
def individual_account(b, p: int, credit: float, kind, t0: int, t1: int, res, paid, detail,
                       column: int) -> float:
    """The UEBMI individual account pays in-catalogue self-pay of listed care up to its credit
    (recorded in detail `column`: own or family-shared); returns what is left of the credit."""
    for t in range(t0, t1):
        if credit <= 0.0:
            break
        if b.acct_pays[p, ITEM_CARE[kind[t]]]:
            pay = unpaid(res, t, 2)
            if pay > credit:
                pay = credit
            credit -= pay
            detail[t, column] += take(res, paid, t, pay, 0, 2, ACCOUNT)
    return credit


@kernel
def financing(f, p: int, sch: int, status: int, wage: float, row) -> float:
    """A person's contributions (written into `row`); returns the year's account credit."""
    for c in range(N_FINANCE):
        row[c] = 0.0
    if sch == URRBMI:
        own = f.individual[p]
        assisted = f.assist_share[status] * own + f.assist_amount[status]
        if assisted > own:
            assisted = own
        row[FIN_INDIVIDUAL] = own - assisted
        row[FIN_ASSISTED] = assisted
        row[FIN_SUBSIDY] = f.subsidy[p]
        return 0.0
    if sch == UEBMI_EMPLOYED:
        wb = wage
        if wb < f.wage_floor:
            wb = f.wage_floor
        if wb > f.wage_ceiling:
            wb = f.wage_ceiling
        row[FIN_EMPLOYER] = f.employer_rate * wb
        row[FIN_EMPLOYEE] = f.employee_rate * wb
        row[FIN_ACCOUNT_CREDIT] = f.account_share * row[FIN_EMPLOYEE]
        return row[FIN_ACCOUNT_CREDIT]
    if sch == UEBMI_RETIRED:
        row[FIN_ACCOUNT_CREDIT] = f.retiree_credit
        return f.retiree_credit
    return 0.0


@kernel
def gather(j: int, t: int, adm_offsets, adm_cost, outpatient, res, paid, kind, src,
           detail) -> int:
    """Copy person j's bills into scratch items from index t; return the index after them."""
    for i in range(adm_offsets[j], adm_offsets[j + 1]):
        for c in range(3):
            res[t, c] = adm_cost[i, c]
        for c in range(N_PAYERS):
            paid[t, c] = 0.0
        for c in range(N_DETAIL):
            detail[t, c] = 0.0
        kind[t] = ADMISSION
        src[t] = i
        t += 1
    for k in range(N_KINDS):
        if outpatient[j, k, 0] == 0.0 and outpatient[j, k, 1] == 0.0 and \
                outpatient[j, k, 2] == 0.0:
            continue
        for c in range(3):
            res[t, c] = outpatient[j, k, c]
        for c in range(N_PAYERS):
            paid[t, c] = 0.0
        for c in range(N_DETAIL):
            detail[t, c] = 0.0
        kind[t] = k
        src[t] = j
        t += 1
    return t


@kernel
def settle_households(q, key, sup_stream, status, income, first_person, residence,
                      person_id, scheme, age, disabled, sup_flag, wage,
                      adm_offsets, adm_level, adm_ooa, adm_tcm, adm_cost, outpatient,
                      adm_paid, op_paid, finance, hh_group, enrolled,
                      rare_share, res, paid, kind, src, pstart, n_adm, over, detail,
                      record, adm_detail, op_detail) -> None:
    """Settle every bill of every household of a chunk through all layers.

    rare_share: per person, the share of special drugs that is rare-disease drugs;
    res, paid, kind, src, over, detail: scratch items (at least the largest household's
    bills); pstart: scratch offsets of members' items; n_adm: scratch admissions per member.
    record: whether to write each bill's detail columns (D_*) into adm_detail
    (n_admissions, N_DETAIL) and op_detail (n_persons, kinds, N_DETAIL); without it those
    may be empty and are not touched."""
    b, c, m, s, f = q.basic, q.cii, q.ma, q.sup, q.fin
    for h in range(status.size):
        r = residence[h]
        st = status[h]
        p0 = first_person[h]
        n_members = first_person[h + 1] - p0
        t = 0
        for u in range(n_members):
            pstart[u] = t
            n_adm[u] = adm_offsets[p0 + u + 1] - adm_offsets[p0 + u]
            t = gather(p0 + u, t, adm_offsets, adm_cost, outpatient, res, paid, kind, src,
                       detail)
        pstart[n_members] = t
        # Layers 1 and 2: basic and critical-illness insurance, person by person.
        for u in range(n_members):
            j = p0 + u
            if scheme[j] == UNINSURED:
                continue
            p = scheme[j] * 2 + r
            t0, ta, t1 = pstart[u], pstart[u] + n_adm[u], pstart[u + 1]
            basic_inpatient(b, p, age[j], adm_level, adm_ooa, adm_tcm, src, t0, ta, res, paid,
                            over)
            basic_outpatient(b, p, kind, ta, t1, res, paid)
            critical_illness(c, p, st, kind, t0, t1, res, paid, over, rare_share[j], detail)
        # The household's assistance group, including 因病支出型 illness hardship.
        g = st
        if st == 0 and m.on[GROUP_ILLNESS_HARDSHIP] and m.hardship_share < INF:
            if unpaid_items(res, 0, pstart[n_members], 2) > m.hardship_share * income[h]:
                g = GROUP_ILLNESS_HARDSHIP
        hh_group[h] = g
        # Layer 3: medical assistance.
        for u in range(n_members):
            medical_assistance(m, g, kind, pstart[u], pstart[u + 1], res, paid, detail)
        # Layers 4 and 5 and financing, person by person.
        family_pool = 0.0
        family_plan = 0
        for u in range(n_members):
            j = p0 + u
            t0, t1 = pstart[u], pstart[u + 1]
            sch = scheme[j]
            p = sch * 2 + r
            insured = sch != UNINSURED
            gov = insured and s.on and (s.gov_status[st] or age[j] >= s.gov_age
                                        or (s.gov_disabled and disabled[j]))
            if s.enrol_population:
                voluntary = sup_flag[j]
            else:
                voluntary = rng.uniform(key, sup_stream, np.uint64(person_id[j]),
                                        np.uint64(0)) < s.uptake
            is_enrolled = insured and s.on and (gov or voluntary)
            enrolled[j] = is_enrolled
            if is_enrolled:
                supplementary(s, kind, t0, t1, res, paid, detail)
            credit = financing(f, p, sch, st, wage[j], finance[j])
            if is_enrolled:
                finance[j, FIN_PREMIUM_GOVERNMENT if gov else FIN_PREMIUM_HOUSEHOLD] = s.premium
            if sch == UEBMI_EMPLOYED or sch == UEBMI_RETIRED:
                credit += f.account_balance
            if credit > 0.0:
                left = individual_account(b, p, credit, kind, t0, t1, res, paid, detail,
                                          D_ACCOUNT_OWN)
                if f.family_share > 0.0 and left > 0.0:
                    family_pool += f.family_share * left
                    family_plan = p
        # 家庭共济: what members leave in their accounts pays the household's other care.
        if family_pool > 0.0:
            for u in range(n_members):
                family_pool = individual_account(b, family_plan, family_pool, kind, pstart[u],
                                                 pstart[u + 1], res, paid, detail,
                                                 D_ACCOUNT_FAMILY)
        # The out-of-pocket cap caps what is still left after every other layer.
        oop_cap(m, g, pstart, n_members, res, paid, detail)
        # Layer 6: what is left is out of pocket; write the items back.
        for u in range(n_members):
            j = p0 + u
            for k in range(N_KINDS):
                for x in range(N_PAYERS):
                    op_paid[j, k, x] = 0.0
                if record:
                    for x in range(N_DETAIL):
                        op_detail[j, k, x] = 0.0
            for t in range(pstart[u], pstart[u + 1]):
                paid[t, OOP] += unpaid(res, t, 3)
                if kind[t] == ADMISSION:
                    for x in range(N_PAYERS):
                        adm_paid[src[t], x] = paid[t, x]
                    if record:
                        for x in range(N_DETAIL):
                            adm_detail[src[t], x] = detail[t, x]
                else:
                    for x in range(N_PAYERS):
                        op_paid[j, kind[t], x] = paid[t, x]
                    if record:
                        for x in range(N_DETAIL):
                            op_detail[j, kind[t], x] = detail[t, x]
