"""Uprating: factors from the base year by index series, and the identity at the base year."""

from __future__ import annotations

import numpy as np
import pytest

from microsim.errors import InputError
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize
from microsim.population.uprate import (identity, load_index_series, uprate_chunk, uprating,
                                        value_at)

SERIES = "tests/fixtures/years/index.yaml"


def test_a_listed_year_is_read_and_a_year_between_grows_at_constant_rate():
    values = {"2019": 100.0, "2021": 121.0}
    assert value_at(values, 2021, "f") == (121.0, "2021")
    # 2020 between 100 and 121 at constant growth: 100 x 1.1 = 110
    got, how = value_at(values, 2020, "f")
    assert got == pytest.approx(110.0, rel=1e-12)
    assert how == "2020 interpolated between 2019 and 2021"


def test_a_year_outside_the_series_is_refused_naming_the_series():
    with pytest.raises(InputError, match=r"income\.urban.*no value for 2026 \(it runs 2023-2025\)"):
        uprating(load_index_series(SERIES), 2023, 2026, "spec.yaml")


def test_factors_worked_by_hand():
    up = uprating(load_index_series(SERIES), 2023, 2025, "spec.yaml")
    assert up.income == pytest.approx((1.21, 1.21))          # 60500 / 50000, 24200 / 20000
    assert up.consumption == up.income                       # no consumption series
    assert up.prices == pytest.approx(1.0404)
    assert up.poverty_line == pytest.approx((882 / 800, 661.5 / 600))    # 1.1025 both
    mid = uprating(load_index_series(SERIES), 2023, 2024, "spec.yaml")
    assert mid.income[0] == pytest.approx(1.1)               # sqrt(1.21)
    assert mid.basis["income.urban"].startswith("55,000 (2024 interpolated between 2023 and 2025)")


def test_uprating_to_the_base_year_is_the_identity():
    up = uprating(load_index_series(SERIES), 2023, 2023, "spec.yaml")
    assert up == identity(2023) and up.identity
    spec = load_population_spec("populations/china_2023.yaml")
    households, persons = synthesize(spec, 0, 500, 500, 3, 0)
    before = (households.income.copy(), households.consumption.copy(), persons.wage.copy())
    uprate_chunk(households, persons, up)
    for a, b in zip(before, (households.income, households.consumption, persons.wage)):
        assert np.array_equal(a, b)


def test_a_chunk_moves_by_its_residence_factor():
    up = uprating(load_index_series(SERIES), 2023, 2025, "spec.yaml")
    spec = load_population_spec("populations/china_2023.yaml")
    households, persons = synthesize(spec, 0, 500, 500, 3, 0)
    income, food, wage = households.income.copy(), households.food.copy(), persons.wage.copy()
    uprate_chunk(households, persons, up)
    assert np.allclose(households.income, income * 1.21, rtol=1e-12)
    assert np.allclose(households.food, food * 1.21, rtol=1e-12)    # consumption moves as income
    assert np.allclose(persons.wage, wage * 1.21, rtol=1e-12)


def test_another_year_without_series_is_refused_naming_the_spec():
    with pytest.raises(InputError, match="population is of 2023 and the run simulates 2025"):
        uprating(None, 2023, 2025, "populations/china_2023.yaml")


def test_a_series_needs_every_required_index(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: x\nseries:\n  income: {urban: {"2023": 1}, rural: {"2023": 1}}\n')
    with pytest.raises(InputError, match="prices, inpatient_cost, outpatient_cost, admissions, "
                                         "visits, poverty_line are required"):
        load_index_series(bad)
    text = open(SERIES, encoding="utf-8").read()
    bad.write_text(text.replace('urban: {"2023": 50000, "2025": 60500}', 'all: {"2023": 1}')
                   .replace('    rural: {"2023": 20000, "2025": 24200}\n', "", 1))
    with pytest.raises(InputError, match=r"key 'series': .*series 'income' is given by residence"):
        load_index_series(bad)
