"""The closed forms behind the health parameters, checked against independent integrals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm

from microsim import codes
from microsim.health.params import (condition_multipliers, health_params, intensity_index,
                                    level_cost_log_mean_loading, level_cuts, sex_multipliers,
                                    sum_log_sd)
from microsim.population.spec import load_population_spec

ROOT = Path(__file__).resolve().parents[2]


@st.composite
def level_shares(draw):
    a = draw(st.floats(0.02, 0.9))
    b = draw(st.floats(0.02, 0.9))
    c = draw(st.floats(0.02, 0.9))
    total = a + b + c
    return [a / total, b / total, c / total]


def _level_probability_given_z(z, cuts, lv, loading):
    """P(level | z) for y = loading * z + e, e ~ N(0, 1)."""
    bounds = (-math.inf, cuts[0], cuts[1], math.inf)
    return norm.cdf(bounds[lv + 1] - loading * z) - norm.cdf(bounds[lv] - loading * z)


@settings(max_examples=30, deadline=None)
@given(level_shares(), st.floats(0.0, 2.0), st.floats(0.1, 1.5))
def test_cut_points_reproduce_the_level_shares_among_admissions(shares, loading, sigma):
    # Among admissions the severity is N(sigma, 1); integrate P(level | z) over it.
    cuts = level_cuts(shares, loading, sigma)
    for lv in range(3):
        p, _ = integrate.quad(lambda z: norm.pdf(z - sigma)
                              * _level_probability_given_z(z, cuts, lv, loading), -12, 12)
        assert p == pytest.approx(shares[lv], abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(level_shares(), st.floats(0.0, 2.0), st.floats(0.1, 1.5), st.floats(0.0, 1.0))
def test_cost_normaliser_is_the_mean_severity_loading_within_each_level(shares, loading, sigma,
                                                                        cost_loading):
    # log E[exp(L z) | admission at level] by quadrature over z ~ N(sigma, 1).
    cuts = level_cuts(shares, loading, sigma)
    got = level_cost_log_mean_loading(cuts, loading, sigma, cost_loading)
    for lv in range(3):
        num, _ = integrate.quad(lambda z: norm.pdf(z - sigma) * math.exp(cost_loading * z)
                                * _level_probability_given_z(z, cuts, lv, loading), -14, 14)
        assert got[lv] == pytest.approx(math.log(num / shares[lv]), abs=1e-6)


def test_without_severity_loading_costs_need_no_normalising():
    cuts = level_cuts([0.2, 0.3, 0.5], 0.7, 1.0)
    assert np.all(level_cost_log_mean_loading(cuts, 0.7, 1.0, 0.0) == 0.0)


def test_a_level_with_no_admissions_gets_infinite_cut_points():
    # No primary admissions: the first cut point is -inf, so y < c1 never happens.
    c1, c2 = level_cuts([0.0, 0.4, 0.6], 0.5, 1.0)
    assert c1 == -math.inf and math.isfinite(c2)
    c1, c2 = level_cuts([0.5, 0.5, 0.0], 0.5, 1.0)
    assert c2 == math.inf


def test_sex_multipliers_by_hand():
    # Women twice men's rate, half the band male: men 1 / (0.5 + 0.5 * 2) = 2/3, women 4/3,
    # and the band's mean stays 0.5 * 2/3 + 0.5 * 4/3 = 1.
    m = sex_multipliers([2.0, 1.0], 0.5, 2)
    assert m[0] == pytest.approx([2 / 3, 4 / 3])
    assert m[1] == pytest.approx([1.0, 1.0])
    assert sex_multipliers(None, 0.51, 3) == pytest.approx(np.ones((3, 2)))


def test_condition_multipliers_by_hand():
    # Hypertension factor 2 at prevalence 0.25: band mean 1 + 0.25 * (2 - 1) = 1.25, so people
    # without it get 1 / 1.25 = 0.8 and people with it 2 / 1.25 = 1.6.
    m = condition_multipliers((2.0, 1.0, 1.0), (np.array([0.25]), np.array([0.0]), np.array([0.0])))
    assert m[0, 0] == pytest.approx(0.8)
    assert m[0, codes.HYPERTENSION] == pytest.approx(1.6)
    assert m[0, codes.DIABETES] == pytest.approx(0.8)          # diabetes factor 1
    assert m[0, codes.HYPERTENSION | codes.DIABETES] == pytest.approx(1.6)


@settings(max_examples=50, deadline=None)
@given(st.tuples(st.floats(0.2, 5.0), st.floats(0.2, 5.0), st.floats(0.2, 5.0)),
       st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0)))
def test_condition_multipliers_average_to_one_in_every_band(factors, prevalence):
    # Flags are independent in synthesis, so P(flags c) is a product of prevalences.
    prev = tuple(np.array([p]) for p in prevalence)
    m = condition_multipliers(factors, prev)
    mean = 0.0
    for c in range(8):
        prob = 1.0
        for bit, p in enumerate(prevalence):
            prob *= p if c & (1 << bit) else 1.0 - p
        mean += prob * m[0, c]
    assert mean == pytest.approx(1.0, rel=1e-12)


def test_intensity_table_entry_by_hand():
    spec = load_population_spec(ROOT / "populations" / "china_2023.yaml")
    d = spec.data
    ip = d.health.inpatient
    p = health_params(spec)
    band = 9                                   # ages 70-74
    flags = codes.HYPERTENSION
    got = p.adm_intensity[intensity_index(band, codes.FEMALE, flags, codes.URRBMI, codes.RURAL)]
    f = ip.female_ratio[band]
    sex = f / (d.age.male_share + (1 - d.age.male_share) * f)
    cf = ip.condition_factor
    mean_cond = ((1 + d.chronic.hypertension[band] * (cf.hypertension - 1))
                 * (1 + d.chronic.diabetes[band] * (cf.diabetes - 1))
                 * (1 + d.chronic.special_chronic[band] * (cf.special_chronic - 1)))
    expected = (ip.admissions_per_person[band] * sex * cf.hypertension / mean_cond
                * ip.scheme_factor.urrbmi * ip.residence_factor.rural)
    assert got == pytest.approx(expected, rel=1e-12)
    # Every age maps to the band whose lower edge it passed.
    assert p.band_of_age[69] == 8 and p.band_of_age[70] == 9 and p.band_of_age[100] == 11


def test_spread_of_a_sum_of_visit_costs_by_hand():
    # sigma 0.8, n = 4: e^0.64 = 1.896481, (1.896481 - 1) / 4 = 0.224120, ln(1.224120) = 0.202222,
    # sqrt = 0.449691; one visit keeps sigma itself.
    table = sum_log_sd(np.array([0.8]), 8)
    assert table[0, 4] == pytest.approx(0.449691, abs=1e-6)
    assert table[0, 1] == pytest.approx(0.8)
    assert np.all(np.diff(table[0, 1:]) < 0)      # more visits, relatively less spread


def test_level_factors_scale_use_and_every_cost(tmp_path):
    # A region-year at 0.8 times the admissions, 0.9 times the visits, 1.25 times the cost of
    # an admission and half the cost of outpatient care of the national 2023 spec.
    national_path = ROOT / "populations" / "china_2023.yaml"
    spec_path = tmp_path / "scaled.yaml"
    spec_path.write_text(
        f"inherits: {national_path}\n"
        "health:\n"
        "  level:\n"
        "    admissions: {value: 0.8, source: assumption, note: test}\n"
        "    visits: {value: 0.9, source: assumption, note: test}\n"
        "    inpatient_cost: {value: 1.25, source: assumption, note: test}\n"
        "    outpatient_cost: {value: 0.5, source: assumption, note: test}\n", encoding="utf-8")
    base = health_params(load_population_spec(national_path))
    scaled = health_params(load_population_spec(spec_path))
    np.testing.assert_allclose(scaled.adm_intensity, 0.8 * base.adm_intensity, rtol=1e-12)
    np.testing.assert_allclose(scaled.op_intensity, 0.9 * base.op_intensity, rtol=1e-12)
    # A lognormal's mean scales with exp of its location: ln 1.25 = 0.223144, ln 0.5 = -0.693147.
    np.testing.assert_allclose(scaled.adm_cost_mu - base.adm_cost_mu, 0.223144, atol=1e-6)
    for name in ("sc_mu", "sd_mu", "rare_mu"):
        assert getattr(scaled, name) - getattr(base, name) == pytest.approx(-0.693147, abs=1e-6)
    # Visit costs and the 两病 ranges halve: 100 -> 50 yuan a primary visit, 300-8,000 -> 150-4,000
    # (the national ranges, whatever they are, halve).
    np.testing.assert_allclose(scaled.op_cost_mean, 0.5 * base.op_cost_mean, rtol=1e-12)
    np.testing.assert_allclose(scaled.ch_low, 0.5 * base.ch_low, rtol=1e-12)
    np.testing.assert_allclose(scaled.ch_high, 0.5 * base.ch_high, rtol=1e-12)
    # Spreads, level choice and bill splits do not move.
    np.testing.assert_array_equal(scaled.adm_cost_sigma, base.adm_cost_sigma)
    np.testing.assert_array_equal(scaled.level_cut, base.level_cut)
    np.testing.assert_array_equal(scaled.op_sum_log_sd, base.op_sum_log_sd)
