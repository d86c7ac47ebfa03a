"""Accumulators: a chunk's people and bills added into fixed-point sums on a group grid.

Takes: `Households`, `Persons`, `Events`, `Claims`, a `Layout` (the grid, the
catastrophic-spending thresholds, the poverty lines and, per replicate, the
population-wide lines of the population pass). Gives: `Accumulators` of int64
sums, merged by addition.

Grid: household sums `hh[stat, residence, status, bin]` and person sums
`person[stat, residence, status, scheme, bin]`. The bin is that of the
household's per-capita disposable income on fixed log-spaced edges (so
quintiles and rank-based indices can be derived after merging; see
`indicators.py`), except for the household rows named `by_consumption.*`,
`by_income_after_oop.*` and `by_consumption_after_oop.*`, whose bin is that
of per-capita consumption, per-capita income net of out-of-pocket spending
and per-capita consumption net of it: they feed the concentration indices
and Gini coefficients ranked by those variables.

Household statistics (weights: households; `_p` suffix: persons, i.e.
household weight x size; `_h`: households):
- totals: persons, income, consumption, food, out-of-pocket spending (cash,
  after every payer; account payments are not out of pocket), account
  payments, total cost, contributions paid by the household (resident
  individual contribution net of assisted contribution, employee
  contribution, household-paid supplementary premium);
- SDG 3.8.2 to 2024: OOP > t x consumption (income where consumption is not
  positive) and OOP > t x income, for both thresholds, with the overshoot
  (OOP share minus t, where positive);
- capacity to pay (Xu et al. 2003): ctp = consumption - subsistence line x
  size^0.56 (or - food where food is lower), catastrophic at OOP >= 40% of
  ctp, overshoot;
- SDG 3.8.2 2025: discretionary budget = consumption - societal poverty line
  x size; catastrophic at positive OOP > 40% of it, impoverishing above 100%,
  large but not impoverishing in between;
- per poverty line and resource (income, consumption): headcount before and
  after OOP, pushed below, further impoverished, poverty gap and normalised
  gap before and after;
- per threshold of the catastrophic-payment grid (`Layout.che_grid`, the ADePT
  Health tables): persons in households whose OOP exceeds the threshold share of
  consumption (income where consumption is not positive) and of income, and
  the overshoot, exactly as the SDG 3.8.2 rows above (so a grid threshold equal to
  one of those gives the same integers);
- against the baseline (scenario 0 of the chunk, `accumulate_changes`): households
  and persons whose payments (OOP + household contributions) fall by more than
  the tolerance (winners), rise by more than it (losers) or neither, and the
  weighted sums of the change in payments and in OOP alone.

`accumulate` also hands back each household's OOP and payments, which the chunk keeps for
the baseline; the households of the drip sample (`new_sample`, `add_sample`) keep their income, size, weight,
residence and OOP under every scenario, for the paint-drip chart.

Every addend is weight x value rounded to 1/1024 (yuan or persons) and summed
as an integer (a person's out-of-pocket payment for a kind of care is the rest of its rounded
cost after the rounded payments of the other payers, so bills add up exactly in the sums
whatever the weights, survey weights of 0.5 to 2 included) (share-valued statistics, `SHARE_STATS`, are first multiplied by
`SHARE_SCALE` so that their rounding stays below 1e-8 of a person), so sums are exact and associative: results are bit-identical
whatever the chunk size, the number of workers or the order of merging. The
rounding changes a national total by less than a yuan per million addends,
and the range of int64 leaves room for 9e15 yuan-weights (a national run adds
about 6e13); `check_range` refuses sums that come close to overflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from microsim import codes
from microsim.health.events import Events
from microsim.population.tables import Households, Persons
from microsim.settlement.settle import Claims

# The kernels of this module allocate nothing, so they are compiled without numba's
# reference-counted runtime (`_nrt=False`, as in settlement/kernels.py): array views and
# tuple fields then cost no atomic reference counting in the hot loops.

SCALE = 1024.0
OVERFLOW_GUARD = 2 ** 62
SHARE_SCALE = 65536.0   # share-valued statistics (overshoots, normalised gaps) are stored x 2^16

HH_BASE_STATS = (
    "households", "persons", "income", "consumption", "food", "oop", "account", "cost",
    "contributions", "oop_positive_p",
    # SDG 3.8.2 to 2024: consumption (income where consumption is not positive) and income
    "che10_cons_p", "che25_cons_p", "che10_inc_p", "che25_inc_p",
    "che10_cons_h", "che25_cons_h", "che10_inc_h", "che25_inc_h",
    "over10_cons_p", "over25_cons_p", "over10_inc_p", "over25_inc_p",
    # capacity to pay (Xu et al. 2003)
    "ctp", "che40_ctp_p", "che40_ctp_h", "over40_ctp_p",
    # SDG 3.8.2 from 2025: discretionary budget above the societal poverty line
    "discretionary", "sdg2025_p", "sdg2025_h", "sdg2025_impoverishing_p", "sdg2025_large_p",
    "below_spl_p",
    # payments (OOP + household contributions) against the baseline scenario
    "wl_winners_h", "wl_losers_h", "wl_unchanged_h", "wl_winners_p", "wl_losers_p",
    "wl_unchanged_p", "wl_change", "wl_change_oop",
)
# Rows whose bin is not the per-capita income bin (see the module docstring).
RANKED_STATS = (
    ("by_consumption", ("persons", "consumption", "income", "oop", "contributions",
                        "che10_cons_p", "che25_cons_p", "che10_inc_p", "che25_inc_p",
                        "che40_ctp_p", "sdg2025_p")),
    ("by_income_after_oop", ("persons", "income_after_oop", "abs_income_after_oop")),
    ("by_consumption_after_oop", ("persons", "consumption_after_oop",
                                  "abs_consumption_after_oop")),
)
RANKED_ROWS = tuple(f"{rank}.{stat}" for rank, stats in RANKED_STATS for stat in stats)
RANKINGS = ("income",) + tuple(rank for rank, _ in RANKED_STATS)
LINE_RESOURCES = ("income", "consumption")
LINE_STATS = ("poor_pre_p", "poor_post_p", "pushed_p", "further_p", "gap_pre", "gap_post",
              "gapn_pre", "gapn_post")
GRID_STATS = ("che_cons_p", "over_cons_p", "che_inc_p", "over_inc_p")
SHARE_STATS = ("over10_cons_p", "over25_cons_p", "over10_inc_p", "over25_inc_p", "over40_ctp_p",
               "gapn_pre", "gapn_post", "over_cons_p", "over_inc_p")
# a line or grid stat matches on its last name part
PERSON_STATS = (
    ("persons", "admissions", "admitted", "enrolled")
    + tuple(f"cost.{c}.{p}" for c in codes.CARE for p in codes.PART)
    + tuple(f"paid.{c}.{p}" for c in codes.CARE for p in codes.PAYER)
    + tuple(f"finance.{f}" for f in codes.FINANCE)
    # persons whose critical-illness insurance paid something in the year (受益人数)
    + ("beneficiaries.critical_illness",)
)
P_COST0 = PERSON_STATS.index(f"cost.{codes.CARE[0]}.{codes.PART[0]}")
P_PAID0 = PERSON_STATS.index(f"paid.{codes.CARE[0]}.{codes.PAYER[0]}")
P_FIN0 = PERSON_STATS.index(f"finance.{codes.FINANCE[0]}")

# Row indices used by the kernel (compile-time constants).
_H = {name: i for i, name in enumerate(HH_BASE_STATS + RANKED_ROWS)}
H_HOUSEHOLDS, H_PERSONS, H_INCOME, H_CONSUMPTION = (_H["households"], _H["persons"], _H["income"],
                                                    _H["consumption"])
H_FOOD, H_OOP, H_ACCOUNT, H_COST, H_CONTRIB = (_H["food"], _H["oop"], _H["account"], _H["cost"],
                                               _H["contributions"])
H_OOP_POS = _H["oop_positive_p"]
H_CHE_CONS_P, H_CHE_INC_P = _H["che10_cons_p"], _H["che10_inc_p"]       # + 0 / + 1 threshold
H_CHE_CONS_H, H_CHE_INC_H = _H["che10_cons_h"], _H["che10_inc_h"]
H_OVER_CONS, H_OVER_INC = _H["over10_cons_p"], _H["over10_inc_p"]
H_CTP, H_CTP_P, H_CTP_H, H_CTP_OVER = (_H["ctp"], _H["che40_ctp_p"], _H["che40_ctp_h"],
                                       _H["over40_ctp_p"])
H_WL = _H["wl_winners_h"]     # winners, losers, unchanged (h), the same (p), change, change oop
H_DB, H_SDG_P, H_SDG_H, H_SDG_IMP, H_SDG_LARGE, H_BELOW_SPL = (
    _H["discretionary"], _H["sdg2025_p"], _H["sdg2025_h"], _H["sdg2025_impoverishing_p"],
    _H["sdg2025_large_p"], _H["below_spl_p"])
C_PERSONS, C_CONS, C_INCOME, C_OOP, C_CONTRIB = (
    _H["by_consumption.persons"], _H["by_consumption.consumption"], _H["by_consumption.income"],
    _H["by_consumption.oop"], _H["by_consumption.contributions"])
C_CHE10_CONS, C_CHE25_CONS, C_CHE10_INC, C_CHE25_INC, C_CTP, C_SDG = (
    _H["by_consumption.che10_cons_p"], _H["by_consumption.che25_cons_p"],
    _H["by_consumption.che10_inc_p"], _H["by_consumption.che25_inc_p"],
    _H["by_consumption.che40_ctp_p"], _H["by_consumption.sdg2025_p"])
PI_PERSONS, PI_VALUE, PI_ABS = (_H["by_income_after_oop.persons"],
                                _H["by_income_after_oop.income_after_oop"],
                                _H["by_income_after_oop.abs_income_after_oop"])
PC_PERSONS, PC_VALUE, PC_ABS = (_H["by_consumption_after_oop.persons"],
                                _H["by_consumption_after_oop.consumption_after_oop"],
                                _H["by_consumption_after_oop.abs_consumption_after_oop"])
N_FIXED_HH = len(_H)


def income_bin_edges(low: float = 100.0, high: float = 1e7, n_log: int = 512) -> np.ndarray:
    """Lower edges of the per-capita bins: bin 0 takes everything below `low` (zero and
    negative amounts too), then `n_log` log-spaced bins up to `high` (each 2.3% wide with
    the defaults), then one open bin above it. The same edges serve income, consumption and
    their values net of out-of-pocket spending."""
    return np.concatenate([[-np.inf], np.geomspace(low, high, n_log + 1)])


def threshold_key(t: float) -> str:
    """The name part of a grid threshold: its percentage, '.' as 'p' (0.10 -> '10',
    0.125 -> '12p5')."""
    return f"{round(t * 100, 6):g}".replace(".", "p")


@dataclass(frozen=True)
class Layout:
    """The grid and the lines households are classified by.

    `spl` and `subsistence` hold, per replicate, the societal poverty line (yuan per person
    per year) and Xu's subsistence line (yuan per equivalent adult per year) from the
    population pass; NaN (or a replicate beyond the array) means not available, and the
    indicators that need them are NaN with that reason."""

    bin_edges: np.ndarray            # per-capita bin lower edges (bin 0 is below edges[1])
    che_thresholds: tuple[float, float]
    line_names: tuple[str, ...]
    lines: np.ndarray                # (n lines, 2 residences) yuan per person per year
    ctp_exponent: float = 0.56       # equivalence scale exponent (Xu et al. 2003)
    ctp_threshold: float = 0.40      # catastrophic share of capacity to pay
    sdg2025_threshold: float = 0.40  # catastrophic share of the discretionary budget
    spl: np.ndarray = field(default_factory=lambda: np.zeros(0))          # (replicates,)
    subsistence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (replicates,)
    che_grid: tuple[float, ...] = ()   # catastrophic-payment thresholds of the ADePT tables
    change_tolerance: float = 1.0      # yuan a year: a smaller change in payments is none
    drip_households: int = 0           # households of the paint-drip sample (hh index below)

    @property
    def n_bins(self) -> int:
        return int(self.bin_edges.size)

    @property
    def hh_stats(self) -> tuple[str, ...]:
        return HH_BASE_STATS + RANKED_ROWS + tuple(
            f"{name}.{res}.{s}" for name in self.line_names for res in LINE_RESOURCES
            for s in LINE_STATS) + tuple(
            f"grid{threshold_key(t)}.{s}" for t in self.che_grid for s in GRID_STATS)

    @property
    def grid0(self) -> int:
        """The first row of the catastrophic-payment grid."""
        return N_FIXED_HH + len(self.line_names) * len(LINE_RESOURCES) * len(LINE_STATS)

    @property
    def person_stats(self) -> tuple[str, ...]:
        return PERSON_STATS

    def hh_unit(self) -> np.ndarray:
        """What one integer unit of each household row is worth: 1/SCALE, and 1/(SCALE x
        SHARE_SCALE) for share-valued rows."""
        return np.array([1.0 / (SCALE * SHARE_SCALE) if name.rsplit(".", 1)[-1] in SHARE_STATS
                         else 1.0 / SCALE for name in self.hh_stats])

    def spl_of(self, replicate: int) -> float:
        return float(self.spl[replicate]) if replicate < self.spl.size else float("nan")

    def subsistence_of(self, replicate: int) -> float:
        return float(self.subsistence[replicate]) if replicate < self.subsistence.size \
            else float("nan")


SAMPLE_COLUMNS = ("present", "weight", "size", "income", "residence")
"""The columns of a drip sample before each scenario's OOP."""


@dataclass
class Accumulators:
    hh: np.ndarray        # int64 (hh stats, 2, 5, bins)
    person: np.ndarray    # int64 (person stats, 2, 5, 4, bins)
    # The paint-drip sample: (drip households, SAMPLE_COLUMNS + one OOP per scenario), zero
    # for a household of another chunk, so that samples merge by addition as the sums do
    # (adding zeros is exact); None where a task holds none of the sample.
    sample: np.ndarray | None = None

    def __iadd__(self, other: "Accumulators") -> "Accumulators":
        self.hh += other.hh
        self.person += other.person
        if other.sample is not None:
            self.sample = other.sample.copy() if self.sample is None \
                else self.sample + other.sample
        return self

    def scenario(self, s: int) -> "Accumulators":
        """The accumulators of scenario s of stacked accumulators (a view)."""
        return Accumulators(hh=self.hh[s], person=self.person[s])


def new_accumulators(layout: Layout, scenarios: int | None = None) -> Accumulators:
    """Zeroed accumulators, with a leading scenario axis when `scenarios` is given.

    The arrays have the documented shapes (statistic first) but are laid out in memory
    with the statistic last, so that the statistics one household adds are contiguous
    (a few cache lines instead of one per statistic)."""
    nr, ns, nsch = len(codes.RESIDENCE), len(codes.STATUS), len(codes.SCHEME)
    lead = () if scenarios is None else (scenarios,)
    hh = np.zeros(lead + (nr, ns, layout.n_bins, len(layout.hh_stats)), np.int64)
    person = np.zeros(lead + (nr, ns, nsch, layout.n_bins, len(PERSON_STATS)), np.int64)
    first = len(lead)
    return Accumulators(hh=np.moveaxis(hh, -1, first), person=np.moveaxis(person, -1, first))


def check_range(acc: Accumulators) -> None:
    """Refuse sums close to int64 overflow (they would silently wrap)."""
    for name, arr in (("household", acc.hh), ("person", acc.person)):
        # Compare max and min, not abs: abs(-2**63) wraps to itself, and -2**63 is what an
        # addend out of int64 range becomes.
        if arr.size and (int(arr.max()) > OVERFLOW_GUARD or int(arr.min()) < -OVERFLOW_GUARD):
            raise OverflowError(f"{name} accumulator exceeds 2**62: weights or amounts are out "
                                "of any realistic range")


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def fixed(x: float) -> np.int64:
    """x in fixed point (1/1024), rounded half away from zero."""
    v = x * SCALE
    return np.int64(v + 0.5) if v >= 0.0 else -np.int64(-v + 0.5)


@nb.njit(cache=True, nogil=True, _nrt=False)
def bin_of(edges: np.ndarray, x: float) -> int:
    """The bin of x: the last edge at or below x (bin 0 below edges[1], NaN in bin 0)."""
    if not x >= edges[1]:
        return 0
    lo = 1
    hi = edges.size - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if edges[mid] <= x:
            lo = mid
        else:
            hi = mid - 1
    return lo


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _excess(share: float, t: float) -> float:
    return share - t if share > t else 0.0


@nb.njit(cache=True, nogil=True, _nrt=False)
def _accumulate(edges, che_lo, che_hi, ctp_exp, ctp_thr, subsistence, sdg_thr, spl,
                lines, n_line_stats, line0, grid, grid0,
                weight, residence, size, income, consumption, food, status, first_person,
                scheme, adm_offsets, adm_cost, outpatient, adm_paid, op_paid, finance, enrolled,
                kind_care, hh_acc, p_acc, cost, paid, oop_out, pay_out):
    n_care = 5
    n_part = 3
    n_payer = 6
    thresholds = (che_lo, che_hi)
    has_ctp = subsistence == subsistence
    has_spl = spl == spl
    for h in range(weight.size):
        w = weight[h]
        r = residence[h]
        s = status[h]
        n = size[h]
        pw = w * n
        inc = income[h]
        cons = consumption[h]
        per = 1.0 / n if n > 0 else 0.0
        b = bin_of(edges, inc * per)
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
                # Conserved in fixed point for any weight: the parts of the cost are rounded,
                # the payers before out of pocket too, and out of pocket is what remains of
                # the rounded cost, so every person's bill adds up exactly in the sums (within
                # (parts + payers) / 2048 yuan-weight of its own rounding).
                cost_fixed = np.int64(0)
                for q in range(n_part):
                    v = cost[c, q]
                    if v != 0.0:
                        k = fixed(w * v)
                        cell[4 + c * n_part + q] += k
                        cost_fixed += k
                        total += v
                paid_fixed = np.int64(0)
                for q in range(n_payer - 1):
                    v = paid[c, q]
                    if v != 0.0:
                        k = fixed(w * v)
                        cell[4 + n_care * n_part + c * n_payer + q] += k
                        paid_fixed += k
                cell[4 + n_care * n_part + c * n_payer + n_payer - 1] += cost_fixed - paid_fixed
                oop += paid[c, 5]
                account += paid[c, 4]
            f0 = 4 + n_care * n_part + n_care * n_payer
            for f in range(finance.shape[1]):
                v = finance[j, f]
                if v != 0.0:
                    cell[f0 + f] += fixed(w * v)
            cii = 0.0
            for c in range(n_care):
                cii += paid[c, 1]
            if cii > 0.0:
                cell[f0 + finance.shape[1]] += fixed(w)
            contrib += finance[j, 0] + finance[j, 4] + finance[j, 5]
        oop_out[h] = oop
        pay_out[h] = oop + contrib
        hc = hh_acc[:, r, s, b]
        hc[H_HOUSEHOLDS] += fixed(w)
        hc[H_PERSONS] += fixed(pw)
        hc[H_INCOME] += fixed(w * inc)
        hc[H_CONSUMPTION] += fixed(w * cons)
        hc[H_FOOD] += fixed(w * food[h])
        hc[H_OOP] += fixed(w * oop)
        hc[H_ACCOUNT] += fixed(w * account)
        hc[H_COST] += fixed(w * total)
        hc[H_CONTRIB] += fixed(w * contrib)
        # Rows binned by per-capita consumption.
        hcc = hh_acc[:, r, s, bin_of(edges, cons * per)]
        hcc[C_PERSONS] += fixed(pw)
        hcc[C_CONS] += fixed(w * cons)
        hcc[C_INCOME] += fixed(w * inc)
        hcc[C_CONTRIB] += fixed(w * contrib)
        # Rows binned by per-capita income and consumption net of out-of-pocket spending.
        hpi = hh_acc[:, r, s, bin_of(edges, (inc - oop) * per)]
        hpi[PI_PERSONS] += fixed(pw)
        hpi[PI_VALUE] += fixed(w * (inc - oop))
        hpi[PI_ABS] += fixed(w * abs(inc - oop))
        hpc = hh_acc[:, r, s, bin_of(edges, (cons - oop) * per)]
        hpc[PC_PERSONS] += fixed(pw)
        hpc[PC_VALUE] += fixed(w * (cons - oop))
        hpc[PC_ABS] += fixed(w * abs(cons - oop))
        # Budgets: SDG 3.8.2 uses consumption, and income where consumption is not positive.
        base_c = cons if cons > 0.0 else inc
        eq = n ** ctp_exp if n > 0 else 1.0
        ctp = 0.0
        if has_ctp:
            se = subsistence * eq
            ctp = cons - se if se <= food[h] else cons - food[h]
            hc[H_CTP] += fixed(w * ctp)
        db = 0.0
        if has_spl:
            db = base_c - spl * n
            hc[H_DB] += fixed(w * db)
            if db < 0.0:
                hc[H_BELOW_SPL] += fixed(pw)
        if oop > 0.0:
            hcc[C_OOP] += fixed(w * oop)
            hc[H_OOP_POS] += fixed(pw)
            # A budget that is not positive makes any OOP catastrophic, with a share of 100%.
            share_c = oop / base_c if base_c > 0.0 else 1.0
            share_i = oop / inc if inc > 0.0 else 1.0
            for t in range(2):
                z = thresholds[t]
                if base_c <= 0.0 or oop > z * base_c:
                    hc[H_CHE_CONS_P + t] += fixed(pw)
                    hc[H_CHE_CONS_H + t] += fixed(w)
                    hc[H_OVER_CONS + t] += fixed(SHARE_SCALE * pw * _excess(share_c, z))
                    hcc[C_CHE10_CONS + t] += fixed(pw)
                if inc <= 0.0 or oop > z * inc:
                    hc[H_CHE_INC_P + t] += fixed(pw)
                    hc[H_CHE_INC_H + t] += fixed(w)
                    hc[H_OVER_INC + t] += fixed(SHARE_SCALE * pw * _excess(share_i, z))
                    hcc[C_CHE10_INC + t] += fixed(pw)
            # The grid of the ADePT tables: the same tests and the same arithmetic.
            for t in range(grid.size):
                z = grid[t]
                o = grid0 + 4 * t
                if base_c <= 0.0 or oop > z * base_c:
                    hc[o] += fixed(pw)
                    hc[o + 1] += fixed(SHARE_SCALE * pw * _excess(share_c, z))
                if inc <= 0.0 or oop > z * inc:
                    hc[o + 2] += fixed(pw)
                    hc[o + 3] += fixed(SHARE_SCALE * pw * _excess(share_i, z))
            # Capacity to pay (Xu et al. 2003): catastrophic at OOP >= 40% of it.
            if has_ctp and (ctp <= 0.0 or oop >= ctp_thr * ctp):
                hc[H_CTP_P] += fixed(pw)
                hc[H_CTP_H] += fixed(w)
                hc[H_CTP_OVER] += fixed(SHARE_SCALE * pw * _excess(oop / ctp if ctp > 0.0 else 1.0,
                                                                   ctp_thr))
                hcc[C_CTP] += fixed(pw)
            # SDG 3.8.2 (2025): positive OOP above 40% of the discretionary budget; above all
            # of it (the household ends below the societal line) it is impoverishing.
            if has_spl and (db <= 0.0 or oop > sdg_thr * db):
                hc[H_SDG_P] += fixed(pw)
                hc[H_SDG_H] += fixed(w)
                hcc[C_SDG] += fixed(pw)
                if oop > db:
                    hc[H_SDG_IMP] += fixed(pw)
                else:
                    hc[H_SDG_LARGE] += fixed(pw)
        # Impoverishment (Wagstaff & van Doorslaer 2003), per-capita resource before and
        # after out-of-pocket spending, for each line and each resource (income, consumption).
        if n > 0:
            for res in range(2):
                resource = inc if res == 0 else cons
                pre = resource * per
                post = (resource - oop) * per
                for li in range(lines.shape[0]):
                    z = lines[li, r]
                    o = line0 + (li * 2 + res) * n_line_stats
                    if pre < z:
                        hc[o] += fixed(pw)
                        hc[o + 4] += fixed(pw * (z - pre))
                        hc[o + 6] += fixed(SHARE_SCALE * pw * (z - pre) / z)
                        if oop > 0.0:
                            hc[o + 3] += fixed(pw)
                    if post < z:
                        hc[o + 1] += fixed(pw)
                        hc[o + 5] += fixed(pw * (z - post))
                        hc[o + 7] += fixed(SHARE_SCALE * pw * (z - post) / z)
                        if pre >= z:
                            hc[o + 2] += fixed(pw)


KIND_CARE = np.array([codes.CARE.index(c) for c in
                      ("outpatient", "outpatient", "outpatient", "two_disease", "two_disease",
                       "special_chronic", "special_drugs")], dtype=np.int64)


@dataclass(frozen=True)
class Payments:
    """Each household's out-of-pocket spending and payments (OOP + household contributions:
    resident individual contribution net of assisted contribution, employee contribution,
    household-paid supplementary premium), yuan a year, under one scenario."""

    oop: np.ndarray
    payments: np.ndarray


def accumulate(acc: Accumulators, layout: Layout, households: Households, persons: Persons,
               events: Events, claims: Claims, replicate: int = 0) -> Payments:
    """Add one chunk under one scenario into `acc` (`replicate` picks the population lines);
    return the households' payments (for `accumulate_changes`)."""
    n = households.weight.size
    out = Payments(np.empty(n), np.empty(n))
    _accumulate(layout.bin_edges, layout.che_thresholds[0], layout.che_thresholds[1],
                layout.ctp_exponent, layout.ctp_threshold, layout.subsistence_of(replicate),
                layout.sdg2025_threshold, layout.spl_of(replicate),
                layout.lines, len(LINE_STATS), N_FIXED_HH,
                np.asarray(layout.che_grid, dtype=np.float64), layout.grid0,
                households.weight, households.residence, households.size, households.income,
                households.consumption, households.food, households.status,
                households.first_person, persons.scheme, events.adm_offsets, events.adm_cost,
                events.outpatient, claims.admission_paid, claims.outpatient_paid, claims.finance,
                claims.enrolled, KIND_CARE, acc.hh, acc.person,
                np.zeros((len(codes.CARE), len(codes.PART))), np.zeros((len(codes.CARE), len(codes.PAYER))),
                out.oop, out.payments)
    return out


@nb.njit(cache=True, nogil=True, _nrt=False)
def _changes(edges, tol, weight, residence, size, income, status, base_pay, base_oop, pay, oop,
             hh_acc):
    for h in range(weight.size):
        w = weight[h]
        n = size[h]
        pw = w * n
        per = 1.0 / n if n > 0 else 0.0
        hc = hh_acc[:, residence[h], status[h], bin_of(edges, income[h] * per)]
        d = pay[h] - base_pay[h]
        if d < -tol:
            k = 0
        elif d > tol:
            k = 1
        else:
            k = 2
        hc[H_WL + k] += fixed(w)
        hc[H_WL + 3 + k] += fixed(pw)
        hc[H_WL + 6] += fixed(w * d)
        hc[H_WL + 7] += fixed(w * (oop[h] - base_oop[h]))


def accumulate_changes(acc: Accumulators, layout: Layout, households: Households,
                       baseline: Payments, scenario: Payments) -> None:
    """Add a chunk's winners and losers of one scenario against the baseline into `acc`:
    a household whose payments fall by more than `layout.change_tolerance` wins, one whose
    payments rise by more than it loses, any other is unchanged (the baseline against itself:
    every household); binned by per-capita income like every other household row."""
    _changes(layout.bin_edges, layout.change_tolerance, households.weight, households.residence,
             households.size, households.income, households.status, baseline.payments,
             baseline.oop, scenario.payments, scenario.oop, acc.hh)


def new_sample(layout: Layout, scenarios: int) -> np.ndarray:
    """A zeroed drip sample for `scenarios` scenarios."""
    return np.zeros((layout.drip_households, len(SAMPLE_COLUMNS) + scenarios))


def add_sample(sample: np.ndarray, households: Households, first: int, scenario: int,
               payments: Payments) -> None:
    """Write the chunk's households of the drip sample (global index `first` + local index
    below the sample's size) into `sample`: their columns once, their OOP under `scenario`."""
    n = max(0, min(households.weight.size, sample.shape[0] - first))
    if n == 0:
        return
    rows = slice(first, first + n)
    if scenario == 0:
        sample[rows, 0] = 1.0
        sample[rows, 1] = households.weight[:n]
        sample[rows, 2] = households.size[:n]
        sample[rows, 3] = households.income[:n]
        sample[rows, 4] = households.residence[:n]
    sample[rows, len(SAMPLE_COLUMNS) + scenario] = payments.oop[:n]
