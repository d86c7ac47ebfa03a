"""Grid approximations against exact ranking: rank-based indices and quintile sums stay
within their stated bounds on random populations small enough to rank (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from microsim.metrics.accumulate import Layout, accumulate, income_bin_edges, new_accumulators
from microsim.metrics.indicators import (compute_all, group_sums, load_catalogue, make_layout,
                                         quintile_error_bounds, quintile_weights)
from microsim.settlement.settle import Claims
from tests.builders import build, household, person
from tests.metrics import exact

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL = (2, 5, 5)
CATALOGUE = load_catalogue(("line",))


@st.composite
def populations(draw):
    """Households with random weights, sizes, per-capita incomes (some below the first bin
    edge, some tied), consumption, one bill each with a random OOP share, and contributions."""
    n = draw(st.integers(2, 25))
    tie = draw(st.floats(150.0, 200_000.0))
    rows = []
    for _ in range(n):
        size = draw(st.integers(1, 4))
        pc = draw(st.one_of(st.just(tie), st.floats(20.0, 1_000_000.0)))
        rows.append(dict(
            weight=draw(st.floats(0.5, 3.0)), size=size, income=pc * size,
            consumption=draw(st.floats(50.0, 300_000.0)) * size,
            cost=draw(st.one_of(st.just(0.0), st.floats(0.0, 80_000.0))),
            oop_share=draw(st.floats(0.0, 1.0)), contribution=draw(st.floats(0.0, 2_000.0))))
    n_log = draw(st.sampled_from([3, 6, 20, 512]))
    return rows, n_log


def simulate(rows, n_log):
    hhs = [household("urban", "general", income=r["income"], consumption=r["consumption"],
                     food=0.3 * r["consumption"], weight=r["weight"],
                     members=[person("urrbmi", admissions=[("secondary", r["cost"], 0, 0)])]
                     + [person("urrbmi") for _ in range(r["size"] - 1)]) for r in rows]
    hh, ps, ev = build(hhs)
    adm = np.zeros((ev.n_admissions, 6))
    finance = np.zeros((len(ps), 7))
    for h, r in enumerate(rows):
        first = hh.first_person[h]
        i = ev.adm_offsets[first]
        adm[i, 0] = r["cost"] * (1 - r["oop_share"])
        adm[i, 5] = r["cost"] - adm[i, 0]
        finance[first, 0] = r["contribution"]
    claims = Claims(adm, np.zeros((len(ps), 7, 6)), finance, np.zeros(len(hh), np.int8),
                    np.zeros(len(ps), bool))
    base = make_layout(CATALOGUE, [("line", (6_000.0, 6_000.0))], income_bin_edges(n_log=n_log))
    layout = Layout(**{**base.__dict__, "spl": np.array([10_000.0]),
                       "subsistence": np.array([3_000.0])})
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims, 0)
    got = compute_all(CATALOGUE, layout, acc, 0)
    w = hh.weight
    n = hh.size.astype(float)
    oop = np.array([adm[ev.adm_offsets[hh.first_person[h]], 5] for h in range(len(hh))])
    cols = dict(w=w, n=n, persons=w * n, inc=hh.income, cons=hh.consumption, oop=oop,
                contrib=np.array([r["contribution"] for r in rows]))
    return got, cols, layout, acc


def _check(got, name, value, slack=1e-3):
    """Within the bound, plus a slack for the fixed-point rounding of sums (1/1024 per addend,
    a few thousandths on these small populations)."""
    grid = float(got.values[name][ALL])
    bound = float(got.bounds[name][ALL])
    assert abs(grid - value) <= bound + slack, (name, grid, value, bound)


@SETTINGS
@given(populations())
def test_rank_indices_stay_within_their_bound_of_exact_ranking(pop):
    rows, n_log = pop
    got, c, _, _ = simulate(rows, n_log)
    p = c["persons"]
    pc_inc, pc_cons = c["inc"] / c["n"], c["cons"] / c["n"]
    assume(c["oop"].sum() > 100.0)
    _check(got, "ci_oop", exact.concentration(c["w"] * c["oop"], pc_inc, p))
    _check(got, "ci_oop_by_consumption", exact.concentration(c["w"] * c["oop"], pc_cons, p))
    _check(got, "gini_income", exact.concentration(c["w"] * c["inc"], pc_inc, p))
    _check(got, "gini_consumption", exact.concentration(c["w"] * c["cons"], pc_cons, p))
    net = c["inc"] - c["oop"]       # may be negative: the bound uses sums of |y|
    assume(abs(np.sum(c["w"] * net)) > 100.0)
    if np.isnan(got.values["gini_income_after_oop"][ALL]):
        # Income net of OOP below zero can take the index out of [-1, 1] (the exact one here
        # too): then it is NaN, and says why.
        assert any("would leave its range" in r for r in got.reasons["gini_income_after_oop"])
    else:
        _check(got, "gini_income_after_oop", exact.concentration(c["w"] * net, net / c["n"], p))
    pay = c["contrib"] + c["oop"]
    _check(got, "kakwani_financing", exact.concentration(c["w"] * pay, pc_inc, p)
           - exact.concentration(c["w"] * c["inc"], pc_inc, p))
    che = ((c["oop"] > 0) & (c["oop"] > 0.10 * c["cons"])).astype(float)
    if che.sum() > 0:
        mean = np.sum(p * che) / p.sum()
        _check(got, "erreygers_che10", 4 * mean * exact.concentration(p * che, pc_inc, p))


@SETTINGS
@given(populations())
def test_quintile_sums_stay_within_their_bound_of_exact_ranking(pop):
    rows, n_log = pop
    got, c, layout, acc = simulate(rows, n_log)
    index = {s: i for i, s in enumerate(layout.hh_stats)}
    hh = acc.hh.astype(float) / 1024.0
    persons_by_bin = hh[index["persons"]].sum(axis=(0, 1))
    for stat, values in (("oop", c["w"] * c["oop"]), ("persons", c["persons"]),
                         ("income", c["w"] * c["inc"])):
        by_bin = hh[index[stat]].sum(axis=(0, 1))
        grid = group_sums(hh[[index[stat]]], quintile_weights(persons_by_bin))[0, 2, :5, 5]
        want = exact.quintile_sums(values, c["inc"] / c["n"], c["persons"])
        bound = quintile_error_bounds(np.abs(by_bin), persons_by_bin)
        slack = 0.01 + 1e-6 * np.abs(want)     # fixed-point rounding (1/1024 per addend)
        assert (np.abs(grid - want) <= bound + slack).all(), (stat, grid, want, bound)
    # Persons are split exactly in fifths whatever the bins.
    np.testing.assert_allclose(got.values["population"][2, :5, 5], c["persons"].sum() / 5,
                               atol=0.01)


def test_a_coarse_grid_errs_but_within_the_bound_and_a_fine_one_is_exact():
    # Four single-person households, OOP 100, 300, 600, 1,000 at per-capita incomes 1,000,
    # 1,100, 50,000, 60,000. Exact ranks 1/8, 3/8, 5/8, 7/8: C = 2 x (100 + 900 + 3,000 +
    # 7,000)/8 / 2,000 - 1 = 0.375. With 3 log bins between 100 and 10 million (x 46 each),
    # the first two share a bin (mid-rank 1/4) and so do the last two (3/4):
    # C = 2 x (400/4 + 1,600 x 3/4) / 2,000 - 1 = 0.3; bound (400/2,000)(1/2) +
    # (1,600/2,000)(1/2) = 0.5.
    rows = [dict(weight=1.0, size=1, income=x, consumption=x, cost=y, oop_share=1.0,
                 contribution=0.0) for x, y in ((1_000, 100), (1_100, 300), (50_000, 600),
                                                (60_000, 1_000))]
    coarse, _, _, _ = simulate(rows, 3)
    assert float(coarse.values["ci_oop"][ALL]) == pytest.approx(0.3, abs=1e-6)
    assert float(coarse.bounds["ci_oop"][ALL]) == pytest.approx(0.5, abs=1e-6)
    fine, _, _, _ = simulate(rows, 512)
    assert float(fine.values["ci_oop"][ALL]) == pytest.approx(0.375, abs=1e-6)
