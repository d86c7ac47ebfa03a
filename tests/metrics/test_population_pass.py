"""The population pass: Xu's subsistence line and the societal poverty line from mergeable
histograms, worked on paper and checked against exact computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microsim.metrics.population import (PassParams, add_households, consumption_bin_edges,
                                         new_histograms, population_lines)
from tests.builders import build, household, person

PARAMS = PassParams(consumption_edges=consumption_bin_edges(), ppp_factor=4.0)


def households_of(rows):
    """rows: (weight, size, consumption, food)."""
    hh, _, _ = build([household(consumption=c, food=f, weight=w,
                                members=[person() for _ in range(n)]) for w, n, c, f in rows])
    return hh


def histograms(rows, params=PARAMS):
    hist = new_histograms(params)
    add_households(hist, params, households_of(rows))
    return hist


def test_subsistence_line_from_the_45th_to_55th_food_share_percentiles():
    # Ten households of weight 1 with food shares 0.10, 0.15, ..., 0.55; the sixth has two
    # members (consumption 20,000, food 7,000), the others one (consumption 10,000). Sorted by
    # food share each household holds a tenth of the households: the 45th-55th percentile
    # band takes the second half of the fifth (share 0.30, food 3,000) and the first half of
    # the sixth (equivalised food 7,000 / 2^0.56). Subsistence = (0.5 x 3,000 + 0.5 x
    # 7,000 / 2^0.56) / (0.5 + 0.5).
    rows = [(1.0, 1, 10_000.0, 10_000.0 * s) for s in (0.10, 0.15, 0.20, 0.25, 0.30)]
    rows += [(1.0, 2, 20_000.0, 7_000.0)]
    rows += [(1.0, 1, 10_000.0, 10_000.0 * s) for s in (0.40, 0.45, 0.50, 0.55)]
    lines = population_lines(histograms(rows), PARAMS)
    assert lines.subsistence == pytest.approx(1_500 + 3_500 / 2 ** 0.56, rel=1e-6)


def test_societal_poverty_line_from_the_median_and_its_floor():
    # Per-capita consumption of 11 single persons: 1,000, 2,000, ..., 11,000; the median
    # person is the sixth (6,000), and the histogram's median lies within its 0.35% bin.
    rows = [(1.0, 1, 1_000.0 * k, 300.0 * k) for k in range(1, 12)]
    lines = population_lines(histograms(rows), PARAMS)
    assert abs(lines.median_consumption - 6_000) <= 6_000 * 0.0035
    # SPL = max(2.15 x 4 x 365, 1.15 x 4 x 365 + 0.5 x median) = max(3,139, 1,679 + ~3,000).
    assert lines.spl == pytest.approx(1.15 * 4 * 365 + 0.5 * lines.median_consumption)
    # A poorer population: median 1,000 a year, the $2.15 floor binds: 2.15 x 4 x 365.
    poor = [(1.0, 1, 1_000.0, 500.0)] * 3
    assert population_lines(histograms(poor), PARAMS).spl == pytest.approx(2.15 * 4 * 365)


def test_lines_fixed_by_the_experiment_replace_the_estimates():
    params = PassParams(consumption_edges=consumption_bin_edges(), fixed_spl=9_000.0,
                        fixed_subsistence=3_000.0)
    assert not params.needs_pass
    lines = population_lines(new_histograms(params), params)
    assert (lines.spl, lines.subsistence) == (9_000.0, 3_000.0)
    # Without a PPP factor or a fixed line there is no societal poverty line (NaN, not 0).
    none = PassParams(consumption_edges=consumption_bin_edges())
    assert np.isnan(population_lines(histograms([(1.0, 1, 5_000.0, 2_000.0)], none), none).spl)


rows_strategy = st.lists(st.tuples(st.floats(0.1, 5.0), st.integers(1, 5),
                                   st.floats(20.0, 2e5), st.floats(0.05, 0.9)),
                         min_size=1, max_size=40)


@settings(max_examples=80, deadline=None)
@given(rows_strategy, st.integers(0, 40))
def test_histograms_merge_exactly_and_the_median_is_within_a_bin(raw, cut):
    rows = [(w, n, c * n, c * n * s) for w, n, c, s in raw]
    whole = histograms(rows)
    parts = histograms(rows[:cut]) + histograms(rows[cut:])
    # Integer sums: splitting the households into chunks changes no bit.
    for a, b in zip((whole.persons_by_consumption, whole.households_by_food_share,
                     whole.eq_food_by_food_share),
                    (parts.persons_by_consumption, parts.households_by_food_share,
                     parts.eq_food_by_food_share)):
        assert np.array_equal(a, b)
    # The exact weighted median (first per-capita consumption at which half the persons are
    # reached) and the histogram's lie in the same bin, 0.35% wide.
    pc = np.array([c for _, _, c, _ in raw])
    persons = np.array([w * n for w, n, _, _ in raw])
    order = np.argsort(pc)
    cum = np.cumsum(persons[order])
    # (Weights are summed in fixed point, 1/1024 each, so a half that falls on a boundary
    # between two households may go either way: both neighbours are accepted.)
    tol = len(raw) / 1024
    low = pc[order][min(np.searchsorted(cum, cum[-1] / 2 - tol), len(cum) - 1)]
    high = pc[order][min(np.searchsorted(cum, cum[-1] / 2 + tol), len(cum) - 1)]
    got = population_lines(whole, PARAMS).median_consumption
    edges = PARAMS.consumption_edges
    ratio = edges[2] / edges[1]
    assert low / ratio <= got <= high * ratio
