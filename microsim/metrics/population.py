"""The population pass: population-wide lines that households are classified by.

Takes: a chunk's `Households` (before any illness or settlement) and the
pass's parameters. Gives: `PopulationHistograms` (int64 sums, merged by
addition like the accumulators, so the lines do not depend on chunking) and,
from the merged histograms of a replicate, its `PopulationLines`:

- the median per-capita consumption of persons (household weight x size),
  from a histogram on 4,000 log-spaced bins between 10 and 10 million yuan,
  interpolated linearly inside the bin that holds the median: the error is
  below one bin, 0.35% of the median;
- the societal poverty line (World Bank; reference/calibration-inputs.md):
  max(floor, base + share x median daily per-capita consumption) in
  international dollars, converted at a PPP factor, as yuan per person per
  year;
- Xu's subsistence line (Xu et al., Lancet 2003): the weighted mean of
  equivalised food spending (food / size^0.56) of households whose food
  share of consumption lies between the 45th and 55th percentiles, household
  weights; the food-share distribution is a histogram of 2,000 bins on [0, 1]
  and a bin straddling a percentile enters in proportion to the part of its
  households inside the band, as if they were spread evenly across it.
  Households without positive consumption have no food share and are left out.

A line given in the experiment (a fixed societal poverty line or subsistence
line in yuan) replaces the computed one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from microsim.metrics.accumulate import SCALE, bin_of, fixed
from microsim.population.tables import Households

N_FOOD_BINS = 2000
DAYS = 365.0


def consumption_bin_edges(low: float = 10.0, high: float = 1e7, n_log: int = 4000) -> np.ndarray:
    """Lower edges of the per-capita consumption bins of the median: bin 0 is below `low`."""
    return np.concatenate([[-np.inf], np.geomspace(low, high, n_log + 1)])


@dataclass(frozen=True)
class PassParams:
    """What the population pass computes and how (from the catalogue and the experiment)."""

    consumption_edges: np.ndarray
    equivalence_exponent: float = 0.56
    food_percentiles: tuple[float, float] = (0.45, 0.55)
    spl_floor_usd: float = 2.15
    spl_base_usd: float = 1.15
    spl_median_share: float = 0.5
    ppp_factor: float = float("nan")          # yuan per international dollar; NaN: no SPL
    fixed_spl: float = float("nan")           # yuan per person per year, replaces the formula
    fixed_subsistence: float = float("nan")   # yuan per equivalent adult per year

    @property
    def needs_pass(self) -> bool:
        """Whether any line has to be computed from the population."""
        wants_spl = np.isnan(self.fixed_spl) and not np.isnan(self.ppp_factor)
        return bool(wants_spl or np.isnan(self.fixed_subsistence))


@dataclass
class PopulationHistograms:
    persons_by_consumption: np.ndarray   # int64 (consumption bins,) persons
    households_by_food_share: np.ndarray  # int64 (N_FOOD_BINS,) households
    eq_food_by_food_share: np.ndarray    # int64 (N_FOOD_BINS,) households x equivalised food

    def __iadd__(self, other: "PopulationHistograms") -> "PopulationHistograms":
        self.persons_by_consumption += other.persons_by_consumption
        self.households_by_food_share += other.households_by_food_share
        self.eq_food_by_food_share += other.eq_food_by_food_share
        return self

    def __add__(self, other: "PopulationHistograms") -> "PopulationHistograms":
        return PopulationHistograms(self.persons_by_consumption + other.persons_by_consumption,
                                    self.households_by_food_share + other.households_by_food_share,
                                    self.eq_food_by_food_share + other.eq_food_by_food_share)


@dataclass(frozen=True)
class PopulationLines:
    median_consumption: float   # yuan per person per year
    spl: float                  # societal poverty line, yuan per person per year (NaN: none)
    subsistence: float          # yuan per equivalent adult per year (NaN: none)


def new_histograms(params: PassParams) -> PopulationHistograms:
    return PopulationHistograms(np.zeros(params.consumption_edges.size, np.int64),
                                np.zeros(N_FOOD_BINS, np.int64), np.zeros(N_FOOD_BINS, np.int64))


@nb.njit(cache=True, nogil=True)
def _histograms(edges, eq_exp, weight, size, consumption, food, by_cons, food_w, food_eq):
    n_food = food_w.size
    for h in range(weight.size):
        w = weight[h]
        n = size[h]
        if n <= 0:
            continue
        c = consumption[h]
        by_cons[bin_of(edges, c / n)] += fixed(w * n)
        if c > 0.0:
            share = food[h] / c
            k = int(share * n_food)
            if k < 0:
                k = 0
            if k >= n_food:
                k = n_food - 1
            food_w[k] += fixed(w)
            food_eq[k] += fixed(w * food[h] / n ** eq_exp)


def add_households(hist: PopulationHistograms, params: PassParams, households: Households) -> None:
    """Add a chunk's households into the histograms."""
    _histograms(params.consumption_edges, params.equivalence_exponent, households.weight,
                households.size, households.consumption, households.food,
                hist.persons_by_consumption, hist.households_by_food_share,
                hist.eq_food_by_food_share)


def band_fractions(mass: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The fraction of each bin's mass inside the [lo, hi] band of the cumulative share,
    a straddling bin counted in proportion (its mass spread evenly across it)."""
    total = mass.sum()
    if total <= 0:
        return np.zeros(mass.size)
    upper = np.cumsum(mass) / total
    lower = np.concatenate([[0.0], upper[:-1]])
    width = upper - lower
    inside = np.clip(np.minimum(upper, hi) - np.maximum(lower, lo), 0.0, None)
    return np.divide(inside, width, out=np.zeros_like(width), where=width > 0)


def weighted_median(mass: np.ndarray, edges: np.ndarray) -> float:
    """The median of a histogram on `edges`, linear inside its bin (bin 0 spans [0, edges[1]))."""
    total = mass.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(mass)
    b = int(np.searchsorted(cum, total / 2.0, side="left"))
    before = cum[b - 1] if b > 0 else 0.0
    lo = edges[b] if b > 0 else 0.0
    hi = edges[b + 1] if b + 1 < edges.size else edges[b] * (edges[b] / edges[b - 1])
    return float(lo + (hi - lo) * (total / 2.0 - before) / mass[b])


def population_lines(hist: PopulationHistograms, params: PassParams) -> PopulationLines:
    """The lines of one replicate from its merged histograms (or the fixed ones)."""
    persons = hist.persons_by_consumption.astype(np.float64) / SCALE
    median = weighted_median(persons, params.consumption_edges)
    if not np.isnan(params.fixed_spl):
        spl = params.fixed_spl
    elif np.isnan(params.ppp_factor) or np.isnan(median):
        spl = float("nan")
    else:
        f = params.ppp_factor * DAYS
        spl = max(params.spl_floor_usd * f, params.spl_base_usd * f + params.spl_median_share * median)
    if not np.isnan(params.fixed_subsistence):
        subsistence = params.fixed_subsistence
    else:
        households = hist.households_by_food_share.astype(np.float64) / SCALE
        eq_food = hist.eq_food_by_food_share.astype(np.float64) / SCALE
        frac = band_fractions(households, *params.food_percentiles)
        den = float((frac * households).sum())
        subsistence = float((frac * eq_food).sum()) / den if den > 0 else float("nan")
    return PopulationLines(median, float(spl), float(subsistence))
