"""Ageing: ages advance by one a year, deaths and births follow the demography's rates."""

from __future__ import annotations

import numpy as np
import pytest

from microsim.population.ageing import age_chunk
from microsim.population.demography import DemographyParams, load_demography
from microsim.population.spec import load_population_spec
from microsim.population.synth import synth_params, synthesize

SPEC = load_population_spec("populations/china_2023.yaml")
PARAMS = synth_params(SPEC)
MAX_AGE = SPEC.data.age.max_age


def _chunk(n=3000, seed=5):
    return synthesize(SPEC, 0, n, n, seed, 0, PARAMS)


def _flat(q: float, births: float) -> DemographyParams:
    table = np.full((2, 121), q)
    table[:, MAX_AGE:] = 1.0
    fertility = np.zeros(121)
    fertility[20:40] = births
    return DemographyParams(q=table, births=fertility, male_at_birth=0.5)


@pytest.mark.parametrize("years", [1, 2, 5])
def test_ages_advance_by_one_per_year(years):
    households, persons = _chunk()
    # nobody dies before max_age and nobody is born: every person is there, `years` older
    aged_h, aged = age_chunk(households, persons, PARAMS, _flat(0.0, 0.0), years, 5, 0)
    base = dict(zip(persons.person_id.tolist(), persons.age.tolist()))
    survivors = {p: a for p, a in base.items() if a + years <= MAX_AGE}
    assert dict(zip(aged.person_id.tolist(), aged.age.tolist())) == {
        p: a + years for p, a in survivors.items()}
    assert aged_h.first_person[-1] == len(aged) and (aged_h.size > 0).all()


def test_the_shipped_test_demography_keeps_survivors_a_year_older_each_year():
    households, persons = _chunk()
    d = load_demography("tests/fixtures/years/demography.yaml").params(MAX_AGE)
    base = dict(zip(persons.person_id.tolist(), persons.age.tolist()))
    for years in (1, 3):
        _, aged = age_chunk(households, persons, PARAMS, d, years, 5, 0)
        for pid, age in zip(aged.person_id.tolist(), aged.age.tolist()):
            if pid in base:
                assert age == base[pid] + years
            else:                   # a child born in the projection: younger than `years`
                assert 0 <= age < years and pid % 32 >= 1


def test_deaths_follow_the_probability_of_dying():
    households, persons = _chunk(20000)
    q = 0.1
    _, aged = age_chunk(households, persons, PARAMS, _flat(q, 0.0), 2, 5, 0)
    young = persons.age < MAX_AGE - 2
    expected = young.sum() * (1 - q) ** 2      # two steps at 10%: 81% survive
    sd = np.sqrt(young.sum() * 0.81 * 0.19)
    assert abs(np.isin(aged.person_id, persons.person_id[young]).sum() - expected) < 5 * sd


def test_births_follow_fertility_and_join_the_mothers_household():
    households, persons = _chunk(20000)
    rate = 0.1
    aged_h, aged = age_chunk(households, persons, PARAMS, _flat(0.0, rate), 1, 5, 0)
    women = ((persons.sex == 1) & (persons.age >= 20) & (persons.age < 40)).sum()
    born = ~np.isin(aged.person_id, persons.person_id)
    assert abs(born.sum() - women * rate) < 5 * np.sqrt(women * rate * (1 - rate))
    assert (aged.age[born] == 0).all()
    # a child's id is its household's id x 32 + a member number after the first members
    hh_of_child = aged_h.hh_id[aged.hh[born]]
    assert (aged.person_id[born] // 32 == hh_of_child).all()


def test_ageing_is_the_same_whatever_the_chunk():
    d = load_demography("tests/fixtures/years/demography.yaml").params(MAX_AGE)
    whole_h, whole = age_chunk(*synthesize(SPEC, 0, 1000, 1000, 5, 0, PARAMS), PARAMS, d, 3, 5, 0)
    parts = [age_chunk(*synthesize(SPEC, a, b, 1000, 5, 0, PARAMS), PARAMS, d, 3, 5, 0)
             for a, b in ((0, 333), (333, 1000))]
    for col in ("person_id", "age", "sex", "scheme", "chronic", "wage"):
        joined = np.concatenate([getattr(p, col) for _, p in parts])
        assert np.array_equal(getattr(whole, col), joined), col
    assert np.array_equal(whole_h.income, np.concatenate([h.income for h, _ in parts]))


def test_members_move_on_to_retirement_as_they_age():
    households, persons = _chunk(20000)
    _, aged = age_chunk(households, persons, PARAMS, _flat(0.0, 0.0), 5, 5, 0)
    retired_before = (persons.scheme == 2).sum()
    retired_after = (aged.scheme == 2).sum()
    assert retired_after > retired_before       # the same people, five years older
