"""The ADePT Health tables on hand-built households: the catastrophic-payment grid (headcount,
overshoot, mean positive overshoot) and winners and losers against the baseline, worked on
paper; the grid's 10% and 25% rows against che10 and che25."""

from __future__ import annotations

import numpy as np
import pytest

from microsim import codes
from microsim.errors import InputError
from microsim.metrics.accumulate import (accumulate, accumulate_changes, income_bin_edges,
                                         new_accumulators, threshold_key)
from microsim.metrics.indicators import compute_all, load_catalogue, make_layout
from microsim.settlement.settle import Claims
from tests.builders import build, household, person

ALL = (2, 5, 5)                      # residence all, quintile all, status all
GRID = (0.05, 0.10, 0.15, 0.25, 0.40)
LINE = [("line", (6_000.0, 6_000.0))]


def claims(ev, oop_share: float, contribution: dict[int, float] | None = None) -> Claims:
    """Claims where a fixed share of every bill is out of pocket and the rest basic insurance;
    `contribution`: person index -> individual contribution (yuan)."""
    adm = np.zeros((ev.n_admissions, 6))
    adm[:, 0] = ev.adm_cost.sum(1) * (1 - oop_share)
    adm[:, 5] = ev.adm_cost.sum(1) * oop_share
    op = np.zeros(ev.outpatient.shape[:2] + (6,))
    n = ev.outpatient.shape[0]
    finance = np.zeros((n, len(codes.FINANCE)))
    for j, v in (contribution or {}).items():
        finance[j, codes.FINANCE.index("individual")] = v
    return Claims(adm, op, finance, np.zeros(0, np.int8), np.zeros(n, bool))


def population():
    return build([
        # H1: rural, 2 members, weight 2 (4 persons); consumption 20,000, income 30,000;
        # admission 12,000, half out of pocket: OOP 6,000 = 30% of consumption, 20% of income.
        household("rural", income=30_000, consumption=20_000, weight=2.0,
                  members=[person(admissions=[("secondary", 12_000, 0, 0)]), person()]),
        # H2: urban, 1 person; consumption 50,000, income 10,000; admission 4,000, OOP 2,000
        # = 4% of consumption, 20% of income.
        household("urban", income=10_000, consumption=50_000, weight=1.0,
                  members=[person(admissions=[("primary", 4_000, 0, 0)])]),
        # H3: urban, 1 person, income 100,000, no illness.
        household("urban", income=100_000, consumption=40_000, weight=1.0, members=[person()]),
        # H4: urban, 1 person, income 50,000, no illness.
        household("urban", income=50_000, consumption=30_000, weight=1.0, members=[person()]),
    ])
# Persons: 4 + 1 + 1 + 1 = 7; households (weighted): 2 + 1 + 1 + 1 = 5.


def layout_for(grid=GRID):
    catalogue = load_catalogue(("line",), che_grid=grid)
    return catalogue, make_layout(catalogue, LINE, income_bin_edges())


def baseline_values(grid=GRID):
    catalogue, layout = layout_for(grid)
    hh, ps, ev = population()
    acc = new_accumulators(layout)
    pay = accumulate(acc, layout, hh, ps, ev, claims(ev, 0.5))
    accumulate_changes(acc, layout, hh, pay, pay)
    return compute_all(catalogue, layout, acc, 0).values, acc, layout


def test_grid_headcount_overshoot_and_mpo_by_hand():
    v, _, _ = baseline_values()
    # Consumption: only H1 (30%, 4 persons) is above 5%, 10%, 15% and 25%; none above 40%.
    # H = 4 / 7 = 57.142857% at every threshold up to 25%.
    for k in ("5", "10", "15", "25"):
        assert v[f"che_grid_{k}"][ALL] == pytest.approx(400 / 7)
    assert v["che_grid_40"][ALL] == 0.0
    # O = 4 x (0.30 - t) / 7: t = 5%: 4 x 0.25 / 7 = 14.285714 pp; 10%: 4 x 0.20 / 7 = 11.428571;
    # 15%: 4 x 0.15 / 7 = 8.571429; 25%: 4 x 0.05 / 7 = 2.857143.
    for k, excess in (("5", 0.25), ("10", 0.20), ("15", 0.15), ("25", 0.05)):
        assert v[f"overshoot_grid_{k}"][ALL] == pytest.approx(100 * 4 * excess / 7, rel=1e-6)
        # MPO = O / H = 0.30 - t: 25, 20, 15, 5 pp.
        assert v[f"mpo_grid_{k}"][ALL] == pytest.approx(100 * excess, rel=1e-6)
    assert np.isnan(v["mpo_grid_40"][ALL])        # no household above 40%: O / H = 0 / 0
    # Income: H1 (20%, 4 persons) and H2 (20%, 1 person) are above 5%, 10% and 15%, not 25%.
    # H = 5 / 7 = 71.428571%; O at 5% = 5 x 0.15 / 7 = 10.714286 pp, MPO = 15 pp;
    # at 15%: O = 5 x 0.05 / 7 = 3.571429 pp, MPO = 5 pp.
    assert v["che_grid_5_income"][ALL] == pytest.approx(500 / 7)
    assert v["che_grid_15_income"][ALL] == pytest.approx(500 / 7)
    assert v["che_grid_25_income"][ALL] == 0.0
    assert v["overshoot_grid_5_income"][ALL] == pytest.approx(100 * 5 * 0.15 / 7, rel=1e-6)
    assert v["mpo_grid_5_income"][ALL] == pytest.approx(15.0, rel=1e-6)
    assert v["overshoot_grid_15_income"][ALL] == pytest.approx(100 * 5 * 0.05 / 7, rel=1e-6)
    assert v["mpo_grid_15_income"][ALL] == pytest.approx(5.0, rel=1e-6)


def test_grid_headcount_by_quintile_by_hand():
    v, _, _ = baseline_values()
    # Persons ranked by per-capita income: H2 10,000 (persons 0-1), H1 15,000 (1-5), H4 50,000
    # (5-6), H3 100,000 (6-7); a fifth is 1.4 persons. Q1 = [0, 1.4): H2 and 0.4 of H1's 4
    # persons, all of them catastrophic at 10% of consumption except H2 (4%): 0.4 / 1.4.
    q1 = (2, 0, 5)
    assert v["che_grid_10"][q1] == pytest.approx(100 * 0.4 / 1.4)
    # Q2 = [1.4, 2.8) and Q3 = [2.8, 4.2) lie inside H1: 100%. Q5 = [5.6, 7): H4 and H3: 0.
    assert v["che_grid_10"][(2, 1, 5)] == pytest.approx(100.0)
    assert v["che_grid_10"][(2, 2, 5)] == pytest.approx(100.0)
    assert v["che_grid_10"][(2, 4, 5)] == 0.0


def test_grid_thresholds_of_10_and_25_percent_are_che10_and_che25_exactly():
    v, acc, layout = baseline_values()
    for grid_name, old in (("che_grid_10", "che10"), ("che_grid_25", "che25"),
                           ("che_grid_10_income", "che10_income"),
                           ("overshoot_grid_10", "overshoot10"),
                           ("overshoot_grid_25_income", "overshoot25_income"),
                           ("mpo_grid_10", "mpo10"), ("mpo_grid_25_income", "mpo25_income")):
        assert np.array_equal(v[grid_name], v[old], equal_nan=True), grid_name
    index = {s: i for i, s in enumerate(layout.hh_stats)}
    for t, old in (("10", "10"), ("25", "25")):
        for new, was in (("che_cons_p", f"che{old}_cons_p"), ("over_cons_p", f"over{old}_cons_p"),
                         ("che_inc_p", f"che{old}_inc_p"), ("over_inc_p", f"over{old}_inc_p")):
            assert np.array_equal(acc.hh[index[f"grid{t}.{new}"]], acc.hh[index[was]])


def test_grid_rows_equal_the_sdg_rows_on_random_households():
    rng = np.random.default_rng(7)
    people = []
    for _ in range(60):
        n = int(rng.integers(1, 5))
        members = [person(admissions=[("secondary", float(rng.uniform(0, 60_000)), 0, 0)]
                          if rng.random() < 0.5 else []) for _ in range(n)]
        people.append(household(rng.choice(["urban", "rural"]),
                                income=float(rng.uniform(-5_000, 200_000)),
                                consumption=float(rng.uniform(-1_000, 120_000)),
                                weight=float(rng.uniform(0.5, 2.0)), members=members))
    hh, ps, ev = build(people)
    catalogue, layout = layout_for((0.10, 0.25))
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims(ev, 0.37))
    index = {s: i for i, s in enumerate(layout.hh_stats)}
    assert acc.hh[index["che10_cons_p"]].sum() > 0
    for t in ("10", "25"):
        for new, was in (("che_cons_p", f"che{t}_cons_p"), ("over_cons_p", f"over{t}_cons_p"),
                         ("che_inc_p", f"che{t}_inc_p"), ("over_inc_p", f"over{t}_inc_p")):
            assert np.array_equal(acc.hh[index[f"grid{t}.{new}"]], acc.hh[index[was]])


def test_winners_and_losers_by_hand():
    catalogue, layout = layout_for()
    hh, ps, ev = population()
    # Persons of the chunk: H1 members 0 and 1, H2 2, H3 3, H4 4.
    acc = new_accumulators(layout, 2)
    base = accumulate(acc.scenario(0), layout, hh, ps, ev, claims(ev, 0.5))
    accumulate_changes(acc.scenario(0), layout, hh, base, base)
    # The reform: a quarter of every bill out of pocket, and an individual contribution of 400
    # for every member of H1, H2 and H3, 0.5 for H4's member.
    reform = accumulate(acc.scenario(1), layout, hh, ps, ev,
                        claims(ev, 0.25, {0: 400.0, 1: 400.0, 2: 400.0, 3: 400.0, 4: 0.5}))
    accumulate_changes(acc.scenario(1), layout, hh, base, reform)
    # Payments: H1 OOP 6,000 -> 3,000, contributions +800: -2,200 (wins); H2 OOP 2,000 ->
    # 1,000, +400: -600 (wins); H3 +400 (loses); H4 +0.5, within the 1-yuan tolerance.
    assert list(reform.payments - base.payments) == pytest.approx([-2200.0, -600.0, 400.0, 0.5])
    v = compute_all(catalogue, layout, acc.scenario(1), 0).values
    assert v["winners_share"][ALL] == pytest.approx(100 * 5 / 7)       # H1 4 + H2 1 of 7
    assert v["losers_share"][ALL] == pytest.approx(100 * 1 / 7)        # H3
    assert v["unchanged_share"][ALL] == pytest.approx(100 * 1 / 7)     # H4
    assert v["winners_households"][ALL] == pytest.approx(100 * 3 / 5)  # H1 (weight 2) + H2
    assert v["losers_households"][ALL] == pytest.approx(100 * 1 / 5)
    # (2 x -2,200 - 600 + 400 + 0.5) / 5 = -4,599.5 / 5 = -919.9 yuan per household.
    assert v["payment_change"][ALL] == pytest.approx(-919.9, abs=1e-3)
    # OOP alone: (2 x -3,000 - 1,000) / 5 = -1,400.
    assert v["oop_change"][ALL] == pytest.approx(-1400.0, abs=1e-3)
    # Deciles are 0.7 persons wide. D1 = [0, 0.7): H2 alone (wins 600).
    assert v["winners_share_d1"][ALL] == pytest.approx(100.0)
    assert v["payment_change_d1"][ALL] == pytest.approx(-600.0, abs=1e-3)
    assert v["winners_households_d1"][ALL] == pytest.approx(100.0)       # H2, its only household
    assert v["oop_change_d1"][ALL] == pytest.approx(-1000.0, abs=1e-3)    # H2: 2,000 -> 1,000
    # D9 = [5.6, 6.3): 0.4 of H4's person (unchanged) and 0.3 of H3's (loses).
    assert v["losers_share_d9"][ALL] == pytest.approx(100 * 0.3 / 0.7)
    assert v["unchanged_share_d9"][ALL] == pytest.approx(100 * 0.4 / 0.7)
    # D10 = [6.3, 7): H3 alone, +400.
    assert v["losers_share_d10"][ALL] == pytest.approx(100.0)
    assert v["payment_change_d10"][ALL] == pytest.approx(400.0, abs=1e-3)
    assert v["losers_households_d10"][ALL] == pytest.approx(100.0)
    # By decile the quintile cells are NaN, with the reason.
    assert np.isnan(v["winners_share_d1"][2, 0, 5])


def test_the_baseline_has_no_winner_and_no_loser_against_itself():
    v, _, _ = baseline_values()
    assert v["winners_share"][ALL] == 0.0
    assert v["losers_share"][ALL] == 0.0
    assert v["unchanged_share"][ALL] == 100.0
    assert v["payment_change"][ALL] == 0.0
    for d in range(1, 11):
        assert v[f"winners_share_d{d}"][ALL] == 0.0 and v[f"losers_share_d{d}"][ALL] == 0.0


def test_a_grid_of_the_experiment_expands_the_indicators():
    catalogue = load_catalogue(("line",), che_grid=[0.1, 0.125, 0.3])
    names = catalogue.names()
    assert [n for n in names if n.startswith("che_grid_") and not n.endswith("_income")] == [
        "che_grid_10", "che_grid_12p5", "che_grid_30"]
    assert threshold_key(0.125) == "12p5"
    assert catalogue.get("mpo_grid_12p5").long_name == "Mean positive overshoot, 12.5% of consumption"


@pytest.mark.parametrize("grid, message", [
    ([0.25, 0.10], "catastrophic-payment thresholds ascend strictly: 0.1 follows 0.25"),
    ([0.10, 1.0], "a catastrophic-payment threshold is a share of the budget in (0, 1), not 1.0"),
    ([0.0], "a catastrophic-payment threshold is a share of the budget in (0, 1), not 0.0"),
    ([], "a catastrophic-payment grid has 1 to 12 thresholds, not 0"),
])
def test_a_bad_grid_is_refused_naming_the_key(grid, message):
    with pytest.raises(InputError) as err:
        load_catalogue(("line",), che_grid=grid)
    assert message in str(err.value) and "che_grid" in str(err.value)
