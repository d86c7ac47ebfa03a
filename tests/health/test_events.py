"""Health events: chunk-invariant, shared by scenarios, consistent, and faithful to the spec.

Statistical checks use one cell of identical persons (so the expected value is
a single number from the spec) and allow four standard errors, estimated by
batch means over 20 groups of persons.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microsim import codes, rng
from microsim.health.events import (FIRST_ADMISSION_DRAW, binomial_inverse, draw_events,
                                    poisson_inverse, std_normal, uniform_quad)
from microsim.health.params import MAX_OUT_OF_CATALOGUE_ROOM, health_params, intensity_index
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize
from microsim.population.tables import Households, Persons

ROOT = Path(__file__).resolve().parents[2]
BATCHES = 20


@pytest.fixture(scope="module")
def spec():
    return load_population_spec(ROOT / "populations" / "china_2023.yaml")


@pytest.fixture(scope="module")
def chunk(spec):
    hh, ps = synthesize(spec, 0, 20_000, 20_000, seed=3, replicate=0)
    return hh, ps, draw_events(hh, ps, spec, seed=3, replicate=0)


def one_cell(n, age, sex, scheme, residence, chronic=0, first_id=0):
    """n one-person households of identical persons."""
    hh = Households(
        hh_id=np.arange(n, dtype=np.int64), weight=np.ones(n), region=np.zeros(n, np.int32),
        residence=np.full(n, residence, np.int8), size=np.ones(n, np.int16),
        income=np.full(n, 30000.0), consumption=np.full(n, 20000.0), food=np.full(n, 6000.0),
        status=np.zeros(n, np.int8), first_person=np.arange(n + 1, dtype=np.int64))
    ps = Persons(
        person_id=(first_id + np.arange(n, dtype=np.int64)) * 32, hh=np.arange(n, dtype=np.int64),
        age=np.full(n, age, np.int16), sex=np.full(n, sex, np.int8),
        scheme=np.full(n, scheme, np.int8), chronic=np.full(n, chronic, np.uint8),
        disabled=np.zeros(n, np.bool_), supplementary=np.zeros(n, np.bool_), wage=np.zeros(n))
    return hh, ps


def batch_se(values_by_batch: np.ndarray) -> float:
    return float(np.std(values_by_batch, ddof=1) / math.sqrt(values_by_batch.size))


def ratio_with_se(num: np.ndarray, den: np.ndarray, batch: np.ndarray) -> tuple[float, float]:
    nb = np.bincount(batch, num, BATCHES)
    db = np.bincount(batch, den, BATCHES)
    return float(num.sum() / den.sum()), batch_se(nb / db)


# --- randomness: chunks, replicates, scenarios -------------------------------------------------

def test_events_do_not_depend_on_the_chunk(spec, chunk):
    hh, ps, ev = chunk
    hh2, ps2 = synthesize(spec, 7_000, 13_000, 20_000, seed=3, replicate=0)
    ev2 = draw_events(hh2, ps2, spec, seed=3, replicate=0)
    p0, p1 = hh.first_person[7_000], hh.first_person[13_000]
    a0, a1 = ev.adm_offsets[p0], ev.adm_offsets[p1]
    assert np.array_equal(ev.adm_offsets[p0:p1 + 1] - a0, ev2.adm_offsets)
    for name in ("adm_cost", "adm_level", "adm_out_of_area", "adm_tcm"):
        assert np.array_equal(getattr(ev, name)[a0:a1], getattr(ev2, name))
    for name in ("outpatient", "severity", "visits"):
        assert np.array_equal(getattr(ev, name)[p0:p1], getattr(ev2, name))


def test_same_seed_same_events_and_replicates_differ(spec, chunk):
    hh, ps, ev = chunk
    again = draw_events(hh, ps, spec, seed=3, replicate=0)
    assert np.array_equal(again.adm_cost, ev.adm_cost)
    assert np.array_equal(again.outpatient, ev.outpatient)
    other = draw_events(hh, ps, spec, seed=3, replicate=1)
    assert not np.array_equal(other.severity, ev.severity)


# --- consistency of every bill -------------------------------------------------------------------

def test_bills_split_into_parts_that_add_up(spec, chunk):
    _, ps, ev = chunk
    assert (ev.adm_cost >= 0).all() and (ev.outpatient >= 0).all()
    total = ev.adm_cost.sum(axis=1)
    assert (total > 0).all()
    ip = spec.data.health.inpatient.split
    # Class B is a fixed share; out-of-catalogue at most 0.9 - class B; policy range the rest.
    assert np.allclose(ev.adm_cost[:, 1], total * ip.class_b_share, rtol=1e-12)
    assert (ev.adm_cost[:, 2] <= total * (MAX_OUT_OF_CATALOGUE_ROOM - ip.class_b_share) + 1e-9).all()
    assert (ev.adm_cost[:, 0] >= 0.1 * total - 1e-9).all()
    op = spec.data.health.outpatient.split
    general = ev.outpatient[:, :3, :]
    gtotal = general.sum(axis=2)
    assert np.allclose(general[:, :, 1], gtotal * op.class_b_share, rtol=1e-12)
    assert np.allclose(general[:, :, 2], gtotal * op.out_of_catalogue_share, rtol=1e-12)
    # A level has spending exactly when it has visits.
    assert np.array_equal(gtotal > 0, ev.visits > 0)


def test_chronic_spending_follows_the_flags(spec, chunk):
    _, ps, ev = chunk
    ch = spec.data.health.chronic
    kinds = ev.outpatient.sum(axis=2)
    flags = ps.chronic
    for kind, flag, cost in ((3, codes.HYPERTENSION, ch.hypertension),
                             (4, codes.DIABETES, ch.diabetes)):
        has = (flags & flag) > 0
        assert (kinds[~has, kind] == 0).all()
        assert (kinds[has, kind] >= cost.low).all() and (kinds[has, kind] <= cost.high).all()
    special = (flags & codes.SPECIAL_CHRONIC) > 0
    assert (kinds[~special, 5] == 0).all() and (kinds[special, 5] > 0).all()
    # Special drugs only for special-chronic or rare-disease patients.
    eligible = special | ((flags & codes.RARE_DISEASE) > 0)
    assert (kinds[~eligible, 6] == 0).all()


def test_rare_disease_drugs_go_to_the_special_drugs_kind(spec):
    hh, ps = one_cell(2_000, 30, codes.MALE, codes.URRBMI, codes.URBAN, chronic=codes.RARE_DISEASE)
    ev = draw_events(hh, ps, spec, seed=5, replicate=0)
    drugs = ev.outpatient[:, 6].sum(axis=1)
    rare = spec.data.health.chronic.rare_disease
    # Lognormal mean 500,000, sigma 0.5: everyone pays something, the mean is near 500,000
    # (sd of the mean 500,000 * sqrt(e^0.25 - 1) / sqrt(2000) = 5,970, so 4 sd is 23,900).
    assert (drugs > 0).all()
    sd_of_mean = rare.mean * math.sqrt(math.expm1(0.25)) / math.sqrt(2000)
    assert drugs.mean() == pytest.approx(rare.mean, abs=4 * sd_of_mean)
    assert (ev.outpatient[:, 3:6].sum(axis=(1, 2)) == 0).all()


def test_log_uniform_two_disease_costs_have_the_right_median_and_mean(spec):
    # Without correlation with severity, hypertension costs are 300 * (8000 / 300) ** u:
    # median sqrt(300 * 8000) = 1,549.2, mean (8000 - 300) / ln(8000 / 300) = 2,345.5.
    p = health_params(spec)._replace(ch_rho=0.0)
    hh, ps = one_cell(100_000, 60, codes.MALE, codes.URRBMI, codes.RURAL, chronic=codes.HYPERTENSION)
    cost = draw_events(hh, ps, spec, seed=2, replicate=0, params=p).outpatient[:, 3].sum(axis=1)
    # The sample median's se is 1 / (2 f(m) sqrt(n)), f(m) = 1 / (m ln(8000 / 300)) the density
    # at the median: 1 / (2 x 1.966e-4 x 316.2) = 8.0 yuan; 2% (31 yuan) is 3.9 se.
    assert np.median(cost) == pytest.approx(1549.2, rel=0.02)
    sd = cost.std() / math.sqrt(cost.size)
    assert abs(cost.mean() - 7700 / math.log(8000 / 300)) < 4 * sd
    # The first person's cost, from its own draw (person id 0, draw number 3).
    u = uniform_quad(rng.seed_key(2), rng.stream_id(3, 0), np.uint64(0), np.uint64(3))[0]
    assert cost[0] == pytest.approx(300 * (8000 / 300) ** u, rel=1e-12)


# --- the model reproduces the spec in one cell --------------------------------------------------

@pytest.fixture(scope="module")
def elderly_cell(spec):
    """200,000 identical urban URRBMI women aged 72 without chronic flags."""
    hh, ps = one_cell(200_000, 72, codes.FEMALE, codes.URRBMI, codes.URBAN)
    ev = draw_events(hh, ps, spec, seed=11, replicate=0)
    batch = (np.arange(len(ps)) % BATCHES).astype(np.int64)
    return hh, ps, ev, batch


def test_admissions_per_person_equal_the_intensity(spec, elderly_cell):
    _, _, ev, batch = elderly_cell
    p = health_params(spec)
    band = int(p.band_of_age[72])
    expected = p.adm_intensity[intensity_index(band, codes.FEMALE, 0, codes.URRBMI, codes.URBAN)]
    counts = np.diff(ev.adm_offsets).astype(float)
    mean, se = ratio_with_se(counts, np.ones_like(counts), batch)
    assert abs(mean - expected) < 4 * se
    # Overdispersed: the severity mixture makes the variance exceed the mean (Poisson).
    assert counts.var() > 1.2 * counts.mean()


def test_level_shares_and_mean_costs_of_admissions_match_the_spec(spec, elderly_cell):
    _, _, ev, batch = elderly_cell
    ip = spec.data.health.inpatient
    person = np.repeat(np.arange(batch.size), np.diff(ev.adm_offsets))
    b = batch[person]
    total = ev.adm_cost.sum(axis=1)
    shares = ip.level_shares.urrbmi.urban
    for lv, name in enumerate(codes.LEVEL):
        at = ev.adm_level == lv
        share, se = ratio_with_se(at.astype(float), np.ones(at.size), b)
        assert abs(share - shares[lv]) < 4 * se, name
        # The severity loading raises costs of the sicker; normalisation keeps the level mean.
        mean, se = ratio_with_se(total * at, at.astype(float), b)
        assert abs(mean - getattr(ip.cost, name).mean) < 4 * se, name
    ooc, se = ratio_with_se(ev.adm_cost[:, 2] / total, np.ones(total.size), b)
    assert abs(ooc - ip.split.out_of_catalogue_share) < 4 * se


def test_visits_and_their_costs_match_the_spec(spec, elderly_cell):
    _, _, ev, batch = elderly_cell
    p = health_params(spec)
    op = spec.data.health.outpatient
    band = int(p.band_of_age[72])
    expected = p.op_intensity[intensity_index(band, codes.FEMALE, 0, codes.URRBMI, codes.URBAN)]
    visits = ev.visits.astype(float)
    mean, se = ratio_with_se(visits.sum(axis=1), np.ones(batch.size), batch)
    assert abs(mean - expected) < 4 * se
    cost = ev.outpatient[:, :3].sum(axis=2)
    for lv, name in enumerate(codes.LEVEL):
        share, se = ratio_with_se(visits[:, lv], visits.sum(axis=1), batch)
        assert abs(share - op.level_shares.urban[lv]) < 4 * se, name
        per_visit, se = ratio_with_se(cost[:, lv], visits[:, lv], batch)
        assert abs(per_visit - getattr(op.cost_per_visit, name).mean) < 4 * se, name


def test_severity_ties_admissions_level_and_out_of_catalogue_share_together(elderly_cell):
    _, _, ev, _ = elderly_cell
    counts = np.diff(ev.adm_offsets)
    assert np.corrcoef(ev.severity, counts)[0, 1] > 0.1
    z = np.repeat(ev.severity, counts)
    by_level = [z[ev.adm_level == lv].mean() for lv in range(3)]
    assert by_level[0] < by_level[1] < by_level[2]
    total = ev.adm_cost.sum(axis=1)
    assert np.corrcoef(z, ev.adm_cost[:, 2] / total)[0, 1] > 0.9   # a function of z alone
    assert np.corrcoef(z, np.log(total))[0, 1] > 0.1
    # People admitted also visit more (correlated visit intensity).
    assert ev.visits[counts > 0].sum(axis=1).mean() > 1.2 * ev.visits[counts == 0].sum(axis=1).mean()


def test_admission_draws_are_addressed_from_draw_sixteen(spec, elderly_cell):
    # The level of a person's first admission comes from its own draw (id, 16): recompute it.
    hh, ps, ev, _ = elderly_cell
    p = health_params(spec)
    j = int(np.flatnonzero(np.diff(ev.adm_offsets) > 0)[0])
    u_level = uniform_quad(rng.seed_key(11), rng.stream_id(3, 0), np.uint64(ps.person_id[j]),
                           np.uint64(FIRST_ADMISSION_DRAW))[0]
    y = p.level_loading * ev.severity[j] + std_normal(u_level)
    cell = 1 * 2 + codes.URBAN      # resident group, urban
    expected = 0 if y < p.level_cut[cell, 0] else (1 if y < p.level_cut[cell, 1] else 2)
    assert ev.adm_level[ev.adm_offsets[j]] == expected


# --- the building blocks --------------------------------------------------------------------------

def test_poisson_by_inversion_has_the_right_mean_and_variance():
    u = (np.arange(200_000) + 0.5) / 200_000
    draws = np.array([poisson_inverse(2.5, x) for x in u])
    # Stratified uniforms make the sample moments almost exact.
    assert draws.mean() == pytest.approx(2.5, abs=0.01)
    assert draws.var() == pytest.approx(2.5, abs=0.02)
    big = np.array([poisson_inverse(900.0, x) for x in u[::10]])     # normal approximation
    assert big.mean() == pytest.approx(900.0, abs=0.5) and big.std() == pytest.approx(30.0, rel=0.02)
    assert poisson_inverse(0.0, 0.999) == 0


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 60), st.floats(0.05, 0.95))
def test_binomial_by_inversion_has_the_right_mean_and_variance(n, prob):
    u = (np.arange(20_000) + 0.5) / 20_000
    draws = np.array([binomial_inverse(n, prob, x) for x in u])
    assert draws.min() >= 0 and draws.max() <= n
    assert draws.mean() == pytest.approx(n * prob, abs=0.01 * n + 0.01)
    assert draws.var() == pytest.approx(n * prob * (1 - prob), abs=0.02 * n + 0.02)


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-10, 1 - 1e-10))
def test_fast_normal_quantile_agrees_with_the_refined_one(u):
    assert abs(std_normal(u) - rng.normal_quantile(u)) < 1e-8 * max(1.0, abs(rng.normal_quantile(u)))


def test_four_uniforms_per_call_are_uniform_and_independent():
    key, stream = rng.seed_key(9), rng.stream_id(3, 0)
    u = np.array([uniform_quad(key, stream, np.uint64(i), np.uint64(0)) for i in range(50_000)])
    assert (u > 0).all() and (u < 1).all()
    # Mean 1/2 and variance 1/12 per word: se of the mean 0.289 / sqrt(50,000) = 0.0013, so
    # 0.006 is 4.6 se; se of the variance sqrt((1/80 - 1/144) / 50,000) = 0.00033, so 0.0015
    # is 4.5 se (the fourth moment of U(0, 1) is 1/80).
    assert np.abs(u.mean(axis=0) - 0.5).max() < 0.006
    assert np.abs(u.var(axis=0) - 1 / 12).max() < 0.0015
    # A correlation of independent words has se 1 / sqrt(50,000) = 0.0045: 0.02 is 4.5 se.
    corr = np.corrcoef(u.T)
    assert np.abs(corr - np.eye(4)).max() < 0.02


@pytest.mark.parametrize("visits", [1, 3])
def test_annual_cost_of_visits_has_the_mean_and_spread_of_a_sum_of_visits(spec, elderly_cell,
                                                                         visits):
    """People of the cell with exactly n primary visits: their primary spending is a sum of
    n visits of mean 100 yuan and log-sd 0.8 (the spec), so it averages 100 n yuan with a
    coefficient of variation sqrt((e^0.64 - 1) / n): 0.9468 for 1 visit, 0.5467 for 3
    (the visit costs are drawn independently of severity). About 43,000 and 22,000 people
    of the 200,000 have exactly 1 and 3 primary visits; both statistics are checked within
    four standard errors, estimated by batch means over 20 groups."""
    _, _, ev, batch = elderly_cell
    op = spec.data.health.outpatient.cost_per_visit.primary
    assert (op.mean, op.sigma) == (100, 0.8)
    at = ev.visits[:, 0] == visits
    cost = ev.outpatient[at, 0].sum(axis=1)
    b = batch[at]
    assert at.sum() > 10_000
    mean, se = ratio_with_se(cost, np.ones(cost.size), b)
    assert abs(mean - 100 * visits) < 4 * se
    cv_expected = math.sqrt(math.expm1(0.64) / visits)
    cv = cost.std() / cost.mean()
    by_batch = np.array([cost[b == k].std() / cost[b == k].mean() for k in range(BATCHES)])
    assert abs(cv - cv_expected) < 4 * batch_se(by_batch)


@st.composite
def random_people(draw):
    n = draw(st.integers(1, 25))
    ints = lambda lo, hi: draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))  # noqa: E731
    hh, ps = one_cell(n, 0, 0, 0, 0, first_id=draw(st.integers(0, 2**40)))
    ps.age[:] = ints(0, 120)
    ps.sex[:] = ints(0, 1)
    ps.scheme[:] = ints(0, 3)
    ps.chronic[:] = ints(0, 15)
    hh.residence[:] = ints(0, 1)
    return hh, ps


@settings(max_examples=60, deadline=None)
@given(random_people(), st.integers(0, 2**63), st.integers(0, 50))
def test_every_person_gets_consistent_events(spec, people, seed, replicate):
    hh, ps = people
    ev = draw_events(hh, ps, spec, seed, replicate)
    ch = spec.data.health.chronic
    assert np.all(np.diff(ev.adm_offsets) >= 0) and ev.adm_offsets[0] == 0
    assert np.isfinite(ev.severity).all() and np.isin(ev.adm_level, (0, 1, 2)).all()
    total = ev.adm_cost.sum(axis=1)
    assert (ev.adm_cost >= 0).all() and (ev.adm_cost[:, 0] >= 0.1 * total - 1e-9).all()
    assert (ev.outpatient >= 0).all() and np.isfinite(ev.outpatient).all()
    assert np.array_equal(ev.outpatient[:, :3].sum(axis=2) > 0, ev.visits > 0)
    kinds = ev.outpatient.sum(axis=2)
    ht = (ps.chronic & codes.HYPERTENSION) > 0
    assert (kinds[~ht, 3] == 0).all()
    assert ((kinds[ht, 3] >= ch.hypertension.low) & (kinds[ht, 3] <= ch.hypertension.high)).all()
    no_drugs = (ps.chronic & (codes.SPECIAL_CHRONIC | codes.RARE_DISEASE)) == 0
    assert (kinds[no_drugs, 6] == 0).all()
    assert ((kinds[:, 6] > 0) >= ((ps.chronic & codes.RARE_DISEASE) > 0)).all()
