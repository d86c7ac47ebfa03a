"""Accumulators: a chunk's people and bills added into fixed-point sums on a group grid.

Takes: `Households`, `Persons`, `Events`, `Claims`, a `Layout` (the grid and
the poverty lines). Gives: `Accumulators` of int64 sums, merged by addition.

Grid: household sums `hh[stat, residence, status, income bin]` and person sums
`person[stat, residence, status, scheme, income bin]`, where the income bin is
that of the household's per-capita income on fixed log-spaced edges (so
quintiles and rank-based indices can be derived after merging; see
`indicators.py`).

Every addend is weight x value rounded to 1/1024 (yuan or persons) and summed
as an integer, so sums are exact and associative: results are bit-identical
whatever the chunk size, the number of workers or the order of merging. The
rounding changes a national total by less than a yuan per million addends,
and the range of int64 leaves room for 9e15 yuan-weights (a national run adds
about 6e13); `merge` refuses sums that come close to overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from microsim import codes
from microsim.health.events import Events
from microsim.population.tables import Households, Persons
from microsim.settlement.settle import Claims

SCALE = 1024.0
OVERFLOW_GUARD = 2 ** 62

HH_BASE_STATS = (
    "households", "persons", "income", "consumption", "food", "oop", "account", "cost",
    "contributions", "oop_positive_p",
    "che10_cons_p", "che25_cons_p", "che10_inc_p", "che25_inc_p",
    "che10_cons_h", "che25_cons_h", "che10_inc_h", "che25_inc_h",
)
LINE_STATS = ("poor_pre_p", "poor_post_p", "pushed_p", "further_p", "gap_pre", "gap_post")
PERSON_STATS = (
    ("persons", "admissions", "admitted", "enrolled")
    + tuple(f"cost.{c}.{p}" for c in codes.CARE for p in codes.PART)
    + tuple(f"paid.{c}.{p}" for c in codes.CARE for p in codes.PAYER)
    + tuple(f"finance.{f}" for f in codes.FINANCE)
)
P_COST0 = PERSON_STATS.index(f"cost.{codes.CARE[0]}.{codes.PART[0]}")
P_PAID0 = PERSON_STATS.index(f"paid.{codes.CARE[0]}.{codes.PAYER[0]}")
P_FIN0 = PERSON_STATS.index(f"finance.{codes.FINANCE[0]}")


@dataclass(frozen=True)
class Layout:
    """The grid: income-bin edges, CHE thresholds and poverty lines (names and yuan)."""

    bin_edges: np.ndarray            # per-capita income bin lower edges (bin 0 is below edges[1])
    che_thresholds: tuple[float, float]
    line_names: tuple[str, ...]
    lines: np.ndarray                # (n lines, 2 residences) yuan per person per year

    @property
    def n_bins(self) -> int:
        return int(self.bin_edges.size)

    @property
    def hh_stats(self) -> tuple[str, ...]:
        return HH_BASE_STATS + tuple(f"{name}.{s}" for name in self.line_names for s in LINE_STATS)

    @property
    def person_stats(self) -> tuple[str, ...]:
        return PERSON_STATS


def income_bin_edges(low: float = 100.0, high: float = 1e7, n_log: int = 254) -> np.ndarray:
    """Lower edges: bin 0 takes everything below `low` (zero and negative incomes too),
    then `n_log` log-spaced bins up to `high`, then one open bin above it."""
    return np.concatenate([[-np.inf], np.geomspace(low, high, n_log + 1)])


@dataclass
class Accumulators:
    hh: np.ndarray        # int64 (hh stats, 2, 5, bins)
    person: np.ndarray    # int64 (person stats, 2, 5, 4, bins)

    def __iadd__(self, other: "Accumulators") -> "Accumulators":
        self.hh += other.hh
        self.person += other.person
        return self


def new_accumulators(layout: Layout) -> Accumulators:
    nr, ns, nsch = len(codes.RESIDENCE), len(codes.STATUS), len(codes.SCHEME)
    return Accumulators(
        hh=np.zeros((len(layout.hh_stats), nr, ns, layout.n_bins), np.int64),
        person=np.zeros((len(PERSON_STATS), nr, ns, nsch, layout.n_bins), np.int64))


def check_range(acc: Accumulators) -> None:
    """Refuse sums close to int64 overflow (they would silently wrap)."""
    for name, arr in (("household", acc.hh), ("person", acc.person)):
        if arr.size and int(np.abs(arr).max()) > OVERFLOW_GUARD:
            raise OverflowError(f"{name} accumulator exceeds 2**62: weights or amounts are out "
                                "of any realistic range")


@nb.njit(cache=True, nogil=True, inline="always")
def fixed(x: float) -> np.int64:
    """x in fixed point (1/1024), rounded half away from zero."""
    v = x * SCALE
    return np.int64(v + 0.5) if v >= 0.0 else -np.int64(-v + 0.5)


@nb.njit(cache=True, nogil=True)
def _bin_of(edges: np.ndarray, x: float) -> int:
    lo = 0
    hi = edges.size - 1
    if x < edges[1]:
        return 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if edges[mid] <= x:
            lo = mid
        else:
            hi = mid - 1
    return lo


@nb.njit(cache=True, nogil=True)
def _accumulate(edges, che_lo, che_hi, lines, n_line_stats, n_hh_base,
                weight, residence, size, income, consumption, food, status, first_person,
                scheme, adm_offsets, adm_cost, outpatient, adm_paid, op_paid, finance, enrolled,
                kind_care, hh_acc, p_acc):
    n_care = 5
    n_part = 3
    n_payer = 6
    cost = np.zeros((n_care, n_part))
    paid = np.zeros((n_care, n_payer))
    for h in range(weight.size):
        w = weight[h]
        r = residence[h]
        s = status[h]
        n = size[h]
        pw = w * n
        inc = income[h]
        cons = consumption[h]
        b = _bin_of(edges, inc / n if n > 0 else 0.0)
        oop = 0.0
        account = 0.0
        total = 0.0
        contrib = 0.0
        for j in range(first_person[h], first_person[h + 1]):
            cost[:, :] = 0.0
            paid[:, :] = 0.0
            for i in range(adm_offsets[j], adm_offsets[j + 1]):
                for q in range(n_part):
                    cost[0, q] += adm_cost[i, q]
                for q in range(n_payer):
                    paid[0, q] += adm_paid[i, q]
            for k in range(outpatient.shape[1]):
                c = kind_care[k]
                for q in range(n_part):
                    cost[c, q] += outpatient[j, k, q]
                for q in range(n_payer):
                    paid[c, q] += op_paid[j, k, q]
            sch = scheme[j]
            cell = p_acc[:, r, s, sch, b]
            n_adm = adm_offsets[j + 1] - adm_offsets[j]
            cell[0] += fixed(w)
            if n_adm > 0:
                cell[1] += fixed(w * n_adm)
                cell[2] += fixed(w)
            if enrolled[j]:
                cell[3] += fixed(w)
            for c in range(n_care):
                for q in range(n_part):
                    v = cost[c, q]
                    if v != 0.0:
                        cell[4 + c * n_part + q] += fixed(w * v)
                        total += v
                for q in range(n_payer):
                    v = paid[c, q]
                    if v != 0.0:
                        cell[4 + n_care * n_part + c * n_payer + q] += fixed(w * v)
                oop += paid[c, 5]
                account += paid[c, 4]
            f0 = 4 + n_care * n_part + n_care * n_payer
            for f in range(finance.shape[1]):
                v = finance[j, f]
                if v != 0.0:
                    cell[f0 + f] += fixed(w * v)
            contrib += finance[j, 0] + finance[j, 4] + finance[j, 5]
        hc = hh_acc[:, r, s, b]
        hc[0] += fixed(w)
        hc[1] += fixed(pw)
        hc[2] += fixed(w * inc)
        hc[3] += fixed(w * cons)
        hc[4] += fixed(w * food[h])
        hc[5] += fixed(w * oop)
        hc[6] += fixed(w * account)
        hc[7] += fixed(w * total)
        hc[8] += fixed(w * contrib)
        if oop > 0.0:
            hc[9] += fixed(pw)
            # Catastrophic spending: OOP above a share of consumption (income where
            # consumption is not positive), SDG 3.8.2.
            base_c = cons if cons > 0.0 else inc
            if base_c <= 0.0 or oop > che_lo * base_c:
                hc[10] += fixed(pw)
                hc[14] += fixed(w)
            if base_c <= 0.0 or oop > che_hi * base_c:
                hc[11] += fixed(pw)
                hc[15] += fixed(w)
            if inc <= 0.0 or oop > che_lo * inc:
                hc[12] += fixed(pw)
                hc[16] += fixed(w)
            if inc <= 0.0 or oop > che_hi * inc:
                hc[13] += fixed(pw)
                hc[17] += fixed(w)
        # Impoverishment (Wagstaff & van Doorslaer 2003), household per-capita income
        # before and after out-of-pocket spending, for each line.
        if n > 0:
            pre = inc / n
            post = (inc - oop) / n
            for l in range(lines.shape[0]):
                z = lines[l, r]
                o = n_hh_base + l * n_line_stats
                if pre < z:
                    hc[o] += fixed(pw)
                    hc[o + 4] += fixed(pw * (z - pre))
                    if oop > 0.0:
                        hc[o + 3] += fixed(pw)
                if post < z:
                    hc[o + 1] += fixed(pw)
                    hc[o + 5] += fixed(pw * (z - post))
                    if pre >= z:
                        hc[o + 2] += fixed(pw)


KIND_CARE = np.array([codes.CARE.index(c) for c in
                      ("outpatient", "outpatient", "outpatient", "two_disease", "two_disease",
                       "special_chronic", "special_drugs")], dtype=np.int64)


def accumulate(acc: Accumulators, layout: Layout, households: Households, persons: Persons,
               events: Events, claims: Claims) -> None:
    """Add one chunk under one scenario into `acc`."""
    _accumulate(layout.bin_edges, layout.che_thresholds[0], layout.che_thresholds[1],
                layout.lines, len(LINE_STATS), len(HH_BASE_STATS),
                households.weight, households.residence, households.size, households.income,
                households.consumption, households.food, households.status,
                households.first_person, persons.scheme, events.adm_offsets, events.adm_cost,
                events.outpatient, claims.admission_paid, claims.outpatient_paid, claims.finance,
                claims.enrolled, KIND_CARE, acc.hh, acc.person)
