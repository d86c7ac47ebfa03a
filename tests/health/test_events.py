"""Health events: chunk-invariant, shared by scenarios, and internally consistent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microsim.health.events import draw_events, poisson_inverse
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec():
    return load_population_spec(ROOT / "populations" / "china_2023.yaml")


def test_events_do_not_depend_on_the_chunk(spec):
    hh, ps = synthesize(spec, 0, 20_000, 20_000, seed=3, replicate=0)
    ev = draw_events(hh, ps, spec, seed=3, replicate=0)
    hh2, ps2 = synthesize(spec, 7_000, 13_000, 20_000, seed=3, replicate=0)
    ev2 = draw_events(hh2, ps2, spec, seed=3, replicate=0)
    p0, p1 = hh.first_person[7_000], hh.first_person[13_000]
    a0, a1 = ev.adm_offsets[p0], ev.adm_offsets[p1]
    assert np.array_equal(ev.adm_offsets[p0:p1 + 1] - a0, ev2.adm_offsets)
    assert np.array_equal(ev.adm_cost[a0:a1], ev2.adm_cost)
    assert np.array_equal(ev.adm_level[a0:a1], ev2.adm_level)
    assert np.array_equal(ev.outpatient[p0:p1], ev2.outpatient)


def test_bills_split_into_non_negative_parts(spec):
    hh, ps = synthesize(spec, 0, 20_000, 20_000, seed=3, replicate=0)
    ev = draw_events(hh, ps, spec, seed=3, replicate=0)
    assert (ev.adm_cost >= 0).all() and (ev.outpatient >= 0).all()
    assert (ev.adm_cost.sum(1) > 0).all()
    # Only people with a chronic flag have chronic outpatient spending.
    ht = (ps.chronic & 1) == 0
    assert (ev.outpatient[ht, 3].sum(1) == 0).all()


def test_poisson_by_inversion_has_the_right_mean_and_variance():
    u = (np.arange(200_000) + 0.5) / 200_000
    draws = np.array([poisson_inverse(2.5, x) for x in u])
    # Stratified uniforms make the sample moments almost exact.
    assert draws.mean() == pytest.approx(2.5, abs=0.01)
    assert draws.var() == pytest.approx(2.5, abs=0.02)
