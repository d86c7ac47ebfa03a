"""Indicators from hand-built households, worked on paper."""

from __future__ import annotations

import numpy as np
import pytest

from microsim.metrics.accumulate import Layout, accumulate, income_bin_edges, new_accumulators
from microsim.metrics.indicators import compute, group_sums, load_catalogue, quintile_weights
from microsim.settlement.settle import Claims
from tests.builders import build, household, person


def claims_paying(ev, oop_share):
    """Claims where a fixed share of every bill is out of pocket and the rest basic insurance."""
    adm = np.zeros((ev.n_admissions, 6))
    adm[:, 0] = ev.adm_cost.sum(1) * (1 - oop_share)
    adm[:, 5] = ev.adm_cost.sum(1) * oop_share
    op = np.zeros(ev.outpatient.shape[:2] + (6,))
    n = ev.outpatient.shape[0]
    return Claims(adm, op, np.zeros((n, 7)), np.zeros(0, np.int8), np.zeros(n, bool))


def test_catastrophic_and_impoverishment_on_two_households():
    hh, ps, ev = build([
        # Household 1: 2 persons, consumption 20,000; admission 12,000 policy-range, half OOP = 6,000.
        # 6,000 > 10% and > 25% of 20,000 -> both CHE; income 30,000 -> 15,000 per person.
        household("rural", income=30_000, consumption=20_000, weight=2.0,
                  members=[person("urrbmi", admissions=[("secondary", 12_000, 0, 0)]), person("urrbmi")]),
        # Household 2: 1 person, consumption 50,000, income 10,000; OOP 2,000 = 4% of consumption
        # (no CHE by consumption) but 20% of income (CHE10 by income, not CHE25);
        # per-capita income 10,000 falls to 8,000, below a line of 9,000: pushed below.
        household("urban", income=10_000, consumption=50_000, weight=1.0,
                  members=[person("urrbmi", admissions=[("primary", 4_000, 0, 0)])]),
    ])
    layout = Layout(income_bin_edges(), (0.10, 0.25), ("test",), np.array([[9_000.0, 9_000.0]]),
                    che_grid=load_catalogue(("test",)).che_grid)
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims_paying(ev, 0.5))
    out = compute(load_catalogue(("test",)), layout, acc)
    all_ = (2, 5, 5)   # residence all, quintile all, status all
    # Persons: 2 x 2 + 1 x 1 = 5. CHE10 by consumption: household 1 only -> 4 / 5 = 80%.
    assert out["population"][all_] == pytest.approx(5)
    assert out["che10"][all_] == pytest.approx(80.0)
    assert out["che25"][all_] == pytest.approx(80.0)
    # By income: household 1 (6,000 / 30,000 = 20%) counts at 10%, not at 25%;
    # household 2 (20%) counts at 10% only: CHE10 = 5/5, CHE25 = 0.
    assert out["che10_income"][all_] == pytest.approx(100.0)
    assert out["che25_income"][all_] == pytest.approx(0.0)
    # Households (not persons): CHE10 by consumption 2 of 3 households (weights 2 and 1).
    assert out["che10_households"][all_] == pytest.approx(100 * 2 / 3)
    # Impoverishment at 9,000: only household 2 (1 person of 5) pushed below = 20%.
    assert out["impoverished_test"][all_] == pytest.approx(20.0)
    # Poverty gap increase: 1 person x (9,000 - 8,000) / 5 persons = 200 yuan per person.
    assert out["poverty_gap_increase_test"][all_] == pytest.approx(200.0)
    # OOP per person: (2 x 6,000 + 1 x 2,000) / 5 = 2,800; share of income
    # (2 x 6,000 + 2,000) / (2 x 30,000 + 10,000) = 20%.
    assert out["oop_per_person"][all_] == pytest.approx(2_800.0)
    assert out["oop_share_income"][all_] == pytest.approx(20.0)
    # Policy-range inpatient reimbursement: basic paid half of every bill = 50%.
    assert out["inpatient_pr_reimbursement_residents"][all_] == pytest.approx(50.0)
    # By residence: urban CHE10 (consumption) is 0, rural 100%.
    assert out["che10"][(0, 5, 5)] == pytest.approx(0.0)
    assert out["che10"][(1, 5, 5)] == pytest.approx(100.0)
    # Employees have no admissions here: their ratio has an empty denominator -> NaN.
    assert np.isnan(out["inpatient_pr_reimbursement_employees"][all_])


def test_quintile_weights_split_a_straddling_bin():
    # Ten persons in bin 0, ten in bin 1: quintiles 1 and 2 fill bin 0, 3 is split, 4 and 5 fill bin 1.
    w = quintile_weights(np.array([10.0, 10.0]))
    np.testing.assert_allclose(w, [[0.4, 0.4, 0.2, 0, 0], [0, 0, 0.2, 0.4, 0.4]])
    np.testing.assert_allclose(w.sum(1), 1.0)


def test_group_sums_margins():
    grid = np.arange(2 * 5 * 3, dtype=float).reshape(1, 2, 5, 3)
    out = group_sums(grid, quintile_weights(grid[0].sum((0, 1))))
    assert out[0, 2, 5, 5] == pytest.approx(grid.sum())
    np.testing.assert_allclose(out[0, :2, 5, :5], grid[0].sum(2))
    np.testing.assert_allclose(out[0, 2, :5, 5].sum(), grid.sum())
