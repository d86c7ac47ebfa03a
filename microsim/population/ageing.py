"""Ageing: a chunk's households `years_on` years after the first simulated year.

Takes: a chunk as synthesised for the first simulated year (`synth.synthesize`),
its `SynthParams`, the `DemographyParams` of the population's demography file,
the number of years to move on, the seed and the replicate. Gives: the chunk's
households and persons in that later year.

One step per year, for every person, drawn by (seed, replicate, person, step):
- a woman alive at the start of a step gives birth with the probability of her
  age (the demography file's fertility); the child joins her household, aged 0
  at the end of the step, as member number size + (births so far), so its id is
  household id x 32 + member like every other person (births that would need a
  33rd member are not drawn);
- then the person dies with the probability of their age and sex (nobody lives
  past the spec's `max_age`).
A survivor is a year older each step. Everything else about a person is the
same person's draws evaluated at the new age (`synth.person_attributes`): the
scheme (so members retire, and children start work, as the spec's age shares
say), chronic conditions (prevalence rising with age only adds conditions),
disability, 惠民保 enrolment and wage. A household keeps its weight, residence,
status and per-capita income, consumption and food spending (its totals follow
its members); a household whose members have all died leaves the chunk. No
household is formed or split (docs/years.md says what this leaves out).

Nothing depends on the chunk boundaries or the order of work, so a projection is
the same for any chunk size, worker count or scheduler; every scenario sees the
same people in every year.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from microsim import rng
from microsim.population.demography import DemographyParams
from microsim.population.synth import (MAX_MEMBERS, PURPOSE_HOUSEHOLD, PURPOSE_PERSON,
                                       SynthParams, _four_uniforms, person_attributes)
from microsim.population.tables import Households, Persons

PURPOSE_DEATH = 5
PURPOSE_BIRTH = 6


@nb.njit(cache=True, nogil=True, _nrt=False)
def _survives(q: np.ndarray, key: np.uint64, stream: np.uint64, pid: np.uint64, sex: int,
              age: int, first: int, last: int) -> bool:
    """Whether a person aged `age` at the start of step `first` lives through step `last`."""
    top = q.shape[1] - 1
    for step in range(first, last + 1):
        u, _, _, _ = _four_uniforms(key, stream, pid, np.uint64(step))
        if u < q[sex, min(age, top)]:
            return False
        age += 1
    return True


@nb.njit(cache=True, nogil=True, _nrt=False)
def _walk(d: DemographyParams, key: np.uint64, death: np.uint64, birth: np.uint64,
          pid: np.uint64, sex: int, a0: int, years: int, slot: int, g: int,
          kid_sex: np.ndarray, kid_age: np.ndarray, kid_slot: np.ndarray, kids: int):
    """Follow one member over `years` steps: (alive at the end, births drawn, children that
    live to the end). Those children are written into the kid_* buffers from index `kids`;
    `slot` is the member number the member's first child would take."""
    top = d.q.shape[1] - 1
    alive = True
    drawn = 0
    kept = 0
    for step in range(1, years + 1):
        a = min(a0 + step - 1, top)
        if sex == 1 and d.births[a] > 0.0:
            u, u_sex, _, _ = _four_uniforms(key, birth, pid, np.uint64(step))
            if u < d.births[a] and slot + drawn < MAX_MEMBERS:
                child_slot = slot + drawn
                drawn += 1
                child = np.uint64(g * MAX_MEMBERS + child_slot)
                child_sex = 0 if u_sex < d.male_at_birth else 1
                if _survives(d.q, key, death, child, child_sex, 0, step + 1, years):
                    kid_sex[kids + kept] = child_sex
                    kid_age[kids + kept] = years - step
                    kid_slot[kids + kept] = child_slot
                    kept += 1
        u, _, _, _ = _four_uniforms(key, death, pid, np.uint64(step))
        if u < d.q[sex, a]:
            alive = False
            break
    return alive, drawn, kept


@nb.njit(cache=True, nogil=True, _nrt=False)
def _household(d: DemographyParams, key, death, birth, years, g, first, stop, person_id, age,
               sex, alive_row, kid_sex, kid_age, kid_slot):
    """Walk one household's members: (survivors, surviving children), the survivors' rows in
    alive_row and the children in the kid_* buffers, in the order they were drawn."""
    slot = stop - first
    survivors = 0
    kids = 0
    for j in range(first, stop):
        alive, drawn, kept = _walk(d, key, death, birth, np.uint64(person_id[j]), sex[j],
                                   age[j], years, slot, g, kid_sex, kid_age, kid_slot, kids)
        slot += drawn
        kids += kept
        if alive:
            alive_row[survivors] = j
            survivors += 1
    return survivors, kids


@nb.njit(cache=True, nogil=True, _nrt=False)
def _count(d: DemographyParams, key, death, birth, years, hh_id, first_person, person_id, age,
           sex, new_size, alive_row, kid_sex, kid_age, kid_slot):
    for i in range(hh_id.size):
        survivors, kids = _household(d, key, death, birth, years, hh_id[i], first_person[i],
                                     first_person[i + 1], person_id, age, sex, alive_row,
                                     kid_sex, kid_age, kid_slot)
        new_size[i] = survivors + kids


@nb.njit(cache=True, nogil=True, _nrt=False)
def _fill(p: SynthParams, d: DemographyParams, key, death, birth, hh_stream, stream, years,
          hh_id, residence, income, first_person, new_first, new_row,
          person_id, age, sex, o_id, o_hh, o_age, o_sex, o_scheme, o_chronic, o_disabled,
          o_supplementary, o_wage, alive_row, kid_sex, kid_age, kid_slot):
    for i in range(hh_id.size):
        row = new_row[i]
        if row < 0:
            continue
        g = hh_id[i]
        r = residence[i]
        per_capita = income[i] / (first_person[i + 1] - first_person[i])
        _, _, income_u, _ = _four_uniforms(key, hh_stream, np.uint64(g), np.uint64(0))
        survivors, kids = _household(d, key, death, birth, years, g, first_person[i],
                                     first_person[i + 1], person_id, age, sex, alive_row,
                                     kid_sex, kid_age, kid_slot)
        # survivors first, in member order; then the children, in the order they were drawn
        for e in range(survivors + kids):
            out = new_first[row] + e
            if e < survivors:
                j = alive_row[e]
                pid = person_id[j]
                a = min(age[j] + years, p.max_age)
                x = sex[j]
            else:
                pid = g * MAX_MEMBERS + kid_slot[e - survivors]
                a = kid_age[e - survivors]
                x = kid_sex[e - survivors]
            u_scheme = _four_uniforms(key, stream, np.uint64(pid), np.uint64(0))[3]
            sch, flags, dis, sup, w = person_attributes(p, r, a, per_capita, income_u, u_scheme,
                                                        key, stream, np.uint64(pid))
            o_id[out] = pid
            o_hh[out] = row
            o_age[out] = a
            o_sex[out] = x
            o_scheme[out] = sch
            o_chronic[out] = flags
            o_disabled[out] = dis
            o_supplementary[out] = sup
            o_wage[out] = w


def age_chunk(households: Households, persons: Persons, p: SynthParams, d: DemographyParams,
              years: int, seed: int, replicate: int) -> tuple[Households, Persons]:
    """The chunk `years` years on (the chunk itself for 0)."""
    if years <= 0:
        return households, persons
    key = rng.seed_key(seed)
    death = rng.stream_id(PURPOSE_DEATH, replicate)
    birth = rng.stream_id(PURPOSE_BIRTH, replicate)
    n = len(households)
    buffers = (np.empty(MAX_MEMBERS, np.int64), np.empty(MAX_MEMBERS, np.int8),
               np.empty(MAX_MEMBERS, np.int64), np.empty(MAX_MEMBERS, np.int64))
    new_size = np.empty(n, np.int64)
    age = persons.age.astype(np.int64)
    sex = persons.sex.astype(np.int64)
    _count(d, key, death, birth, years, households.hh_id, households.first_person,
           persons.person_id, age, sex, new_size, *buffers)
    kept = new_size > 0
    new_row = np.full(n, -1, np.int64)
    new_row[kept] = np.arange(int(kept.sum()))
    sizes = new_size[kept]
    first = np.zeros(sizes.size + 1, np.int64)
    np.cumsum(sizes, out=first[1:])
    m = int(first[-1])
    out = Persons(person_id=np.empty(m, np.int64), hh=np.empty(m, np.int64),
                  age=np.empty(m, np.int16), sex=np.empty(m, np.int8),
                  scheme=np.empty(m, np.int8), chronic=np.empty(m, np.uint8),
                  disabled=np.empty(m, np.bool_), supplementary=np.empty(m, np.bool_),
                  wage=np.empty(m, np.float64))
    _fill(p, d, key, death, birth, rng.stream_id(PURPOSE_HOUSEHOLD, replicate),
          rng.stream_id(PURPOSE_PERSON, replicate), years, households.hh_id,
          households.residence.astype(np.int64), households.income, households.first_person,
          first, new_row, persons.person_id, age, sex, out.person_id, out.hh, out.age, out.sex,
          out.scheme, out.chronic, out.disabled, out.supplementary, out.wage, *buffers)
    ratio = sizes / households.size[kept].astype(np.float64)
    aged = Households(
        hh_id=households.hh_id[kept], weight=households.weight[kept],
        region=households.region[kept], residence=households.residence[kept],
        size=sizes.astype(np.int16), income=households.income[kept] * ratio,
        consumption=households.consumption[kept] * ratio, food=households.food[kept] * ratio,
        status=households.status[kept], first_person=first)
    return aged, out
