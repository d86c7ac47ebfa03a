"""Synthesis: deterministic, chunk-invariant, and faithful to the spec's structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microsim.errors import InputError
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"


@pytest.fixture(scope="module")
def spec():
    return load_population_spec(SPEC)


def test_a_household_is_the_same_in_any_chunk(spec):
    whole_h, whole_p = synthesize(spec, 0, 30_000, 30_000, seed=5, replicate=0)
    part_h, part_p = synthesize(spec, 12_345, 20_000, 30_000, seed=5, replicate=0)
    sl = slice(12_345, 20_000)
    for col in ("residence", "size", "income", "consumption", "food", "status"):
        assert np.array_equal(getattr(whole_h, col)[sl], getattr(part_h, col))
    p0, p1 = whole_h.first_person[12_345], whole_h.first_person[20_000]
    for col in ("person_id", "age", "sex", "scheme", "chronic", "disabled", "supplementary", "wage"):
        assert np.array_equal(getattr(whole_p, col)[p0:p1], getattr(part_p, col))


def test_replicates_draw_new_households(spec):
    a, _ = synthesize(spec, 0, 1000, 1000, seed=5, replicate=0)
    b, _ = synthesize(spec, 0, 1000, 1000, seed=5, replicate=1)
    assert not np.array_equal(a.income, b.income)


def test_structure_follows_the_spec(spec):
    hh, ps = synthesize(spec, 0, 100_000, 100_000, seed=1, replicate=0)
    # Weights make the synthetic households stand for the spec's number of households.
    assert hh.weight.sum() == pytest.approx(spec.data.households)
    # Persons point back at their household; members are contiguous and the oldest comes first.
    assert np.array_equal(ps.hh, np.repeat(np.arange(len(hh)), hh.size))
    pairs = hh.first_person[:-1][hh.size >= 2]
    assert (ps.age[pairs] >= ps.age[pairs + 1]).all()
    # Urban share of persons: 0.5817 in the spec; sampling sd at 260,000 persons in
    # 100,000 households is about 0.002 (clustered), so 0.01 is 5 sd.
    urban = hh.size[hh.residence == 0].sum() / hh.size.sum()
    assert abs(urban - spec.data.residence.urban_person_share) < 0.01
    # Mean per-capita income of urban persons: target 51,821; lognormal sigma 0.42 gives a
    # standard error of about 0.5% at 60,000 urban households, so 2.5% is 5 se.
    pc = hh.income / hh.size
    u = hh.residence == 0
    assert np.average(pc[u], weights=hh.size[u]) == pytest.approx(51821, rel=0.025)
    # Only insured persons enrol in supplementary insurance; only UEBMI employees have wages.
    assert not ps.supplementary[ps.scheme == 0].any()
    assert (ps.wage[ps.scheme != 1] == 0).all() and (ps.wage[ps.scheme == 1] > 0).all()


def test_spec_errors_name_the_file_and_key(tmp_path):
    text = SPEC.read_text(encoding="utf-8").replace(
        "value: [0.26, 0.31, 0.22, 0.12, 0.06, 0.03]", "value: [0.26, 0.31, 0.22, 0.12, 0.06, 0.13]")
    bad = tmp_path / "bad_spec.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"bad_spec\.yaml, key 'household_size\.urban': shares must sum to 1"):
        load_population_spec(bad)
