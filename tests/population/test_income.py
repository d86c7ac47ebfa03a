"""The income model in closed form: Singh-Maddala by residence and household size."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from microsim.population.income import (income_model, sm_cdf, sm_moment, sm_partial_mean,
                                        sm_quantile)
from microsim.population.spec import load_population_spec

ROOT = Path(__file__).resolve().parents[2]


def test_singh_maddala_by_hand():
    # a = 2, q = 1, b = 1: F(y) = 1 - 1/(1 + y^2), so F(sqrt 3) = 1 - 1/4 = 0.75 and the
    # 0.75 quantile is ((1 - 0.75)^-1 - 1)^(1/2) = sqrt(3).
    assert sm_quantile(0.75, 2.0, 1.0) == pytest.approx(math.sqrt(3.0), rel=1e-12)
    assert float(sm_cdf(math.sqrt(3.0), 2.0, 1.0, 1.0)) == pytest.approx(0.75, rel=1e-12)
    # Mean = Γ(1 + 1/2) Γ(1 - 1/2) / Γ(1) = (sqrt(pi)/2) sqrt(pi) = pi/2.
    assert sm_moment(1.0, 2.0, 1.0) == pytest.approx(math.pi / 2, rel=1e-12)
    # E[y 1{y < 1}] = ∫0^1 2y^2/(1+y^2)^2 dy = [atan y - y/(1+y^2)]0^1 = pi/4 - 1/2.
    assert float(sm_partial_mean(1.0, 2.0, 1.0, 1.0)) == pytest.approx(math.pi / 4 - 0.5, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.8, 6.0), q=st.floats(0.6, 30.0), u=st.floats(1e-9, 1 - 1e-9))
def test_quantile_inverts_the_cdf(a, q, u):
    y = sm_quantile(u, a, q)
    assert float(sm_cdf(y, a, 1.0, q)) == pytest.approx(u, rel=1e-7, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(a=st.floats(1.2, 5.0), q=st.floats(1.0, 20.0), t=st.floats(0.05, 5.0))
def test_partial_mean_is_the_integral_of_y_times_the_density(a, q, t):
    density = lambda y: a * q * y ** (a - 1) * (1 + y ** a) ** (-q - 1)   # b = 1
    want, _ = integrate.quad(lambda y: y * density(y), 0, t, limit=200)
    assert float(sm_partial_mean(t, a, 1.0, q)) == pytest.approx(want, rel=1e-6, abs=1e-10)


@pytest.fixture(scope="module")
def national():
    return load_population_spec(ROOT / "populations" / "china_2023.yaml")


def test_the_scale_makes_the_mean_over_persons_the_spec_mean(national):
    model = income_model(national)
    assert model.mean("urban") == pytest.approx(51821, rel=1e-10)
    assert model.mean("rural") == pytest.approx(21691, rel=1e-10)
    # National mean = s * urban + (1 - s) * rural with s = 0.5817:
    # 0.5817 * 51821 + 0.4183 * 21691 = 30144.3 + 9073.3 = 39217.6.
    assert model.mean() == pytest.approx(0.5817 * 51821 + 0.4183 * 21691, rel=1e-9)


def test_larger_households_are_poorer_per_head_in_the_fitted_model(national):
    model = income_model(national)
    e = national.data.income.urban.size_elasticity
    # The scale of a 4-person household relative to a 1-person one is 4**e.
    assert model.scale[0, 3] / model.scale[0, 0] == pytest.approx(4.0 ** e, rel=1e-12)
    assert e < 0


def test_quintile_means_reproduce_the_persons_mean(national):
    # Fifths of households hold different numbers of persons, so the national mean is the
    # persons-weighted average of the quintile means; the plain average is higher because
    # poorer households are larger (the NBS pattern: 41,425 > 39,218).
    model = income_model(national)
    q = model.quintile_means()
    cuts = [0.0] + [model.household_quantile(k / 5) for k in range(1, 5)] + [math.inf]
    persons = np.array([model.person_share_between(cuts[k], cuts[k + 1], "all") for k in range(5)])
    assert persons.sum() == pytest.approx(1.0, rel=1e-9)
    assert float((persons * q).sum()) == pytest.approx(model.mean(), rel=1e-9)
    assert q.mean() > model.mean()
    assert (np.diff(persons) < 0).all()
