"""Numbers that hold at any weight. Bills add up in the sums: total cost = what every payer
paid (out of pocket included) to 0.01 yuan per person, for survey weights between 0.5 and 2 as
for the large weights of synthetic populations (hypothesis over random policies and
households). Bounded indices (Gini, concentration, Kakwani) stay in their range or are NaN
with a reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microsim import codes
from microsim.metrics.accumulate import PERSON_STATS, SCALE, accumulate, new_accumulators
from microsim.policy.arrays import build_arrays
from microsim.policy.load import load_policy
from microsim.settlement import settle
from tests.builders import build, household, person
from tests.metrics.test_properties import layout, settled
from tests.strategies import households, policies

COST = [PERSON_STATS.index(f"cost.{c}.{p}") for c in codes.CARE for p in codes.PART]
PAID = [PERSON_STATS.index(f"paid.{c}.{p}") for c in codes.CARE for p in codes.PAYER]


def gap_per_person(data, hhs, weights) -> float:
    for h, w in zip(hhs, weights):
        h["weight"] = w
    hh, ps, ev, c = settled(data, hhs)
    lay = layout()
    acc = new_accumulators(lay)
    accumulate(acc, lay, hh, ps, ev, c, 0)
    cost = acc.person[COST].sum() / SCALE
    paid = acc.person[PAID].sum() / SCALE
    persons = acc.person[PERSON_STATS.index("persons")].sum() / SCALE
    return abs(cost - paid) / persons


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), households(), st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3))
def test_bills_add_up_to_the_cent_per_person_at_survey_weights(data, hhs, weights):
    assert gap_per_person(data, hhs, weights) <= 0.01


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), households(), st.lists(st.floats(1e-3, 1e7), min_size=3, max_size=3))
def test_bills_add_up_exactly_in_fixed_point_at_any_weight(data, hhs, weights):
    assert gap_per_person(data, hhs, weights) == 0.0


def test_a_small_weight_with_bills_that_each_round_is_conserved():
    """By hand: one person at weight 0.5 with 0.3 yuan in each part of a primary outpatient
    bill: each part is 0.15 x 1024 = 153.6 -> 154 in fixed point, 462 for the bill, and the
    payers' sums, out of pocket included, add up to the same 462 (each rounded on its own they
    could be 1/1024 apart per payer)."""
    root = Path(__file__).resolve().parents[2]
    policy = build_arrays(load_policy(root / "policies" / "china" / "national_2023.yaml"))
    hh, ps, ev = build([household("rural", "dibao", income=5_000.0, weight=0.5, members=[
        person("urrbmi", 60, outpatient={codes.OUTPATIENT_KIND[0]: (0.3, 0.3, 0.3)})])])
    claims = settle(policy, hh, ps, ev, seed=1, replicate=0)
    lay = layout()
    acc = new_accumulators(lay)
    accumulate(acc, lay, hh, ps, ev, claims, 0)
    assert int(acc.person[COST].sum()) == 3 * 154
    assert int(acc.person[PAID].sum()) == 3 * 154


def test_a_gini_that_would_leave_its_range_is_nan_with_a_reason():
    """By hand: two one-person urban households with income 1,000; the second pays 1,990 yuan
    out of pocket (an out-of-catalogue bill), so income net of OOP is 1,000 and -990, summing to
    10. Ranked by it (-990 at rank 0.25, 1,000 at 0.75), C = 2 (-990 x 0.25 + 1,000 x 0.75) / 10
    - 1 = 99.5, far outside [-1, 1]: NaN, with the reason."""
    from microsim.metrics.indicators import RANK_RANGE, compute_all
    from tests.metrics.test_properties import CATALOGUE
    root = Path(__file__).resolve().parents[2]
    policy = build_arrays(load_policy(root / "policies" / "china" / "national_2023.yaml"))
    hh, ps, ev = build([
        household("urban", "general", income=1_000.0, consumption=1_000.0,
                  members=[person("urrbmi", 40)]),
        household("urban", "general", income=1_000.0, consumption=1_000.0,
                  members=[person("urrbmi", 40, admissions=[("tertiary", 0.0, 0.0, 1_990.0)])])])
    claims = settle(policy, hh, ps, ev, seed=1, replicate=0)
    assert claims.admission_paid[0, 5] == 1_990.0          # all of it out of pocket
    lay = layout()
    acc = new_accumulators(lay)
    accumulate(acc, lay, hh, ps, ev, claims, 0)
    got = compute_all(CATALOGUE, lay, acc, 0)
    assert np.isnan(got.values["gini_income_after_oop"]).all()
    assert any("would leave its range [-1, 1]" in r for r in got.reasons["gini_income_after_oop"])
    assert got.values["gini_income"][0, -1, -1] == 0.0     # urban, all, all: equal incomes
    for ind in CATALOGUE.indicators:                       # every other index in its range
        if ind.kind in RANK_RANGE:
            finite = got.values[ind.name][np.isfinite(got.values[ind.name])] / ind.scale
            low, high = RANK_RANGE[ind.kind]
            assert ((finite >= low) & (finite <= high)).all(), ind.name
