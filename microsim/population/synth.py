"""Synthesis: households and persons of one chunk, drawn from a population spec.

Takes: a `PopulationSpec`, the global household range [start, stop) of the
chunk, the total number of synthetic households, the experiment seed and the
replicate. Gives: `Households` and `Persons` of that range.

Every draw is addressed by the household id (households) or the person id
(persons: household id * 32 + member), so a household is the same whatever
chunk it falls in. The kernel is one pass over households (residence, size,
income, consumption, food, poverty status) and one over their members (age,
sex, scheme, chronic conditions, disability, supplementary enrolment, wage).

Model (parameters and sources in the spec):
- residence: urban with the household share implied by the urban share of
  persons and the mean household sizes;
- per-capita income: lognormal with the spec's mean and median by residence;
- per-capita consumption: scale * income**elasticity * lognormal noise, the
  scale set so the mean matches; food = consumption * food share (noisy);
- status: households below `below_line` x the 低保 line get a status with
  the rule's probability (see `StatusRule`);
- members: ages drawn from the residence's age structure, the oldest first;
  scheme from the uninsured share, then UEBMI employed (working age) or
  retired (above working age) shares, else URRBMI.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from microsim import codes, rng
from microsim.population.spec import PopulationSpec
from microsim.population.tables import Households, Persons

PURPOSE_HOUSEHOLD = 1
PURPOSE_PERSON = 2
MAX_MEMBERS = 32   # person id = household id * MAX_MEMBERS + member


class SynthParams(NamedTuple):
    """A population spec flattened for the synthesis kernel (index 0 urban, 1 rural)."""

    p_urban_household: float
    size_cdf: np.ndarray          # (2, max size)
    age_edges: np.ndarray         # (n bands + 1,) lower edges then max_age
    age_cdf: np.ndarray           # (2, n bands)
    male_share: float
    income_mu: np.ndarray         # (2,) log of median per-capita income
    income_sigma: np.ndarray      # (2,)
    cons_scale: np.ndarray        # (2,)
    cons_elasticity: np.ndarray   # (2,)
    cons_sigma: np.ndarray        # (2,)
    food_share: np.ndarray        # (2,)
    food_sigma: np.ndarray        # (2,)
    dibao_line: np.ndarray        # (2,) yuan per person per year
    rule_status: np.ndarray       # (n rules,) status code
    rule_below: np.ndarray        # (n rules,)
    rule_prob: np.ndarray         # (2, n rules)
    p_uninsured: np.ndarray       # (2,)
    working_age: np.ndarray       # (2,) [first, last + 1)
    p_employed: np.ndarray        # (2,)
    p_retired: np.ndarray         # (2,)
    p_supplementary: np.ndarray   # (2,)
    wage_ratio: float
    wage_sigma: float
    p_hypertension: np.ndarray    # (n bands,)
    p_diabetes: np.ndarray
    p_special: np.ndarray
    p_rare: float
    p_disabled: np.ndarray


def synth_params(spec: PopulationSpec) -> SynthParams:
    """Flatten a validated spec into kernel arrays (pure arithmetic, no draws)."""
    d = spec.data
    res = ("urban", "rural")
    sizes = [np.asarray(getattr(d.household_size, r), float) for r in res]
    width = max(s.size for s in sizes)
    size_cdf = np.ones((2, width))
    mean_size = np.zeros(2)
    for i, s in enumerate(sizes):
        size_cdf[i, : s.size] = np.cumsum(s) / s.sum()
        mean_size[i] = float(np.dot(np.arange(1, s.size + 1), s / s.sum()))
    share = d.residence.urban_person_share
    hh_u = share / mean_size[0]
    hh_r = (1.0 - share) / mean_size[1]
    p_urban_household = hh_u / (hh_u + hh_r) if hh_u + hh_r > 0 else 0.0

    income = [getattr(d.income, r) for r in res]
    mu = np.array([math.log(x.median) for x in income])
    sigma = np.array([math.sqrt(2.0 * math.log(x.mean / x.median)) for x in income])
    cons = [getattr(d.consumption, r) for r in res]
    e = np.array([c.elasticity for c in cons])
    # E[y**e] for lognormal y = exp(e*mu + (e*sigma)**2 / 2); noise has mean 1.
    cons_scale = np.array([c.mean_per_capita for c in cons]) / np.exp(e * mu + (e * sigma) ** 2 / 2)

    rules = d.poverty.rules
    status_code = {name: i for i, name in enumerate(codes.STATUS)}
    age = d.age
    return SynthParams(
        p_urban_household=float(p_urban_household),
        size_cdf=size_cdf,
        age_edges=np.array(list(age.bands) + [age.max_age + 1], dtype=np.float64),
        age_cdf=np.array([np.cumsum(getattr(age, r)) / sum(getattr(age, r)) for r in res]),
        male_share=float(age.male_share),
        income_mu=mu,
        income_sigma=sigma,
        cons_scale=cons_scale,
        cons_elasticity=e,
        cons_sigma=np.array([c.sigma for c in cons]),
        food_share=np.array([c.food_share for c in cons]),
        food_sigma=np.array([c.food_sigma for c in cons]),
        dibao_line=np.array([getattr(d.poverty.dibao_line, r) for r in res]),
        rule_status=np.array([status_code[r.status] for r in rules], dtype=np.int8),
        rule_below=np.array([r.below_line for r in rules], dtype=np.float64),
        rule_prob=np.array([[getattr(r.probability, x) for r in rules] for x in res]).reshape(2, len(rules)),
        p_uninsured=np.array([getattr(d.insurance.uninsured, r) for r in res]),
        working_age=np.array(d.insurance.working_age, dtype=np.int64),
        p_employed=np.array([getattr(d.insurance.uebmi_employed, r) for r in res]),
        p_retired=np.array([getattr(d.insurance.uebmi_retired, r) for r in res]),
        p_supplementary=np.array([getattr(d.insurance.supplementary_uptake, r) for r in res]),
        wage_ratio=float(d.insurance.wage.ratio_to_per_capita_income),
        wage_sigma=float(d.insurance.wage.sigma),
        p_hypertension=np.array(d.chronic.hypertension, dtype=np.float64),
        p_diabetes=np.array(d.chronic.diabetes, dtype=np.float64),
        p_special=np.array(d.chronic.special_chronic, dtype=np.float64),
        p_rare=float(d.chronic.rare_disease),
        p_disabled=np.array(d.chronic.disabled, dtype=np.float64),
    )


@nb.njit(cache=True, nogil=True)
def _pick(cdf: np.ndarray, u: float) -> int:
    """Index of the first cdf entry above u (categorical draw)."""
    for i in range(cdf.size):
        if u < cdf[i]:
            return i
    return cdf.size - 1


@nb.njit(cache=True, nogil=True)
def _draw_households(p: SynthParams, start: int, stop: int, key: np.uint64, stream: np.uint64,
                     residence, size, income, consumption, food, status):
    for i in range(stop - start):
        g = np.uint64(start + i)
        u_res, u_size = rng.uniform_pair(key, stream, g, np.uint64(0))
        u_inc, u_cons = rng.uniform_pair(key, stream, g, np.uint64(1))
        u_food, u_status = rng.uniform_pair(key, stream, g, np.uint64(2))
        r = 0 if u_res < p.p_urban_household else 1
        residence[i] = r
        n = _pick(p.size_cdf[r], u_size) + 1
        size[i] = n
        y = math.exp(p.income_mu[r] + p.income_sigma[r] * rng.normal_quantile(u_inc))
        income[i] = y * n
        s = p.cons_sigma[r]
        c = p.cons_scale[r] * y ** p.cons_elasticity[r] * math.exp(
            s * rng.normal_quantile(u_cons) - 0.5 * s * s)
        consumption[i] = c * n
        fs = p.food_sigma[r]
        share = p.food_share[r] * math.exp(fs * rng.normal_quantile(u_food) - 0.5 * fs * fs)
        food[i] = min(share, 0.95) * c * n
        ratio = y / p.dibao_line[r]
        st = 0
        acc = 0.0
        for j in range(p.rule_status.size):
            if ratio < p.rule_below[j]:
                acc += p.rule_prob[r, j]
                if u_status < acc:
                    st = p.rule_status[j]
                    break
        status[i] = st


@nb.njit(cache=True, nogil=True)
def _draw_persons(p: SynthParams, start: int, key: np.uint64, stream: np.uint64,
                  residence, income, size, first_person,
                  person_id, hh, age, sex, scheme, chronic, disabled, supplementary, wage):
    n_bands = p.age_cdf.shape[1]
    ages = np.empty(MAX_MEMBERS, dtype=np.int64)
    for i in range(residence.size):
        r = residence[i]
        n = size[i]
        g = start + i
        for m in range(n):
            u_band, u_within = rng.uniform_pair(key, stream, np.uint64(g * MAX_MEMBERS + m), np.uint64(0))
            b = _pick(p.age_cdf[r], u_band)
            lo = p.age_edges[b]
            hi = p.age_edges[b + 1]
            ages[m] = int(lo + math.floor(u_within * (hi - lo)))
        ages[:n] = np.sort(ages[:n])[::-1]
        per_capita = income[i] / n
        for m in range(n):
            j = first_person[i] + m
            pid = np.uint64(g * MAX_MEMBERS + m)
            a = ages[m]
            b = n_bands - 1
            while b > 0 and a < p.age_edges[b]:
                b -= 1
            person_id[j] = g * MAX_MEMBERS + m
            hh[j] = i
            age[j] = a
            u_sex, u_scheme = rng.uniform_pair(key, stream, pid, np.uint64(1))
            u_ht, u_dm = rng.uniform_pair(key, stream, pid, np.uint64(2))
            u_sc, u_rare = rng.uniform_pair(key, stream, pid, np.uint64(3))
            u_dis, u_sup = rng.uniform_pair(key, stream, pid, np.uint64(4))
            u_wage, _ = rng.uniform_pair(key, stream, pid, np.uint64(5))
            sex[j] = 0 if u_sex < p.male_share else 1
            sch = 3  # URRBMI
            pu = p.p_uninsured[r]
            if u_scheme < pu:
                sch = 0
            else:
                v = (u_scheme - pu) / (1.0 - pu)
                if p.working_age[0] <= a < p.working_age[1]:
                    if v < p.p_employed[r]:
                        sch = 1
                elif a >= p.working_age[1]:
                    if v < p.p_retired[r]:
                        sch = 2
            scheme[j] = sch
            flags = 0
            if u_ht < p.p_hypertension[b]:
                flags |= 1
            if u_dm < p.p_diabetes[b]:
                flags |= 2
            if u_sc < p.p_special[b]:
                flags |= 4
            if u_rare < p.p_rare:
                flags |= 8
            chronic[j] = flags
            disabled[j] = u_dis < p.p_disabled[b]
            supplementary[j] = sch != 0 and u_sup < p.p_supplementary[r]
            if sch == 1:
                ws = p.wage_sigma
                wage[j] = per_capita * p.wage_ratio * math.exp(
                    ws * rng.normal_quantile(u_wage) - 0.5 * ws * ws)
            else:
                wage[j] = 0.0


def synthesize(spec: PopulationSpec, start: int, stop: int, n_households: int, seed: int,
               replicate: int, params: SynthParams | None = None) -> tuple[Households, Persons]:
    """Households [start, stop) of a synthetic population of `n_households`."""
    if not 0 <= start <= stop <= n_households:
        raise ValueError(f"household range [{start}, {stop}) outside [0, {n_households})")
    p = params if params is not None else synth_params(spec)
    key = rng.seed_key(seed)
    n = stop - start
    residence = np.empty(n, np.int8)
    size = np.empty(n, np.int16)
    income = np.empty(n, np.float64)
    consumption = np.empty(n, np.float64)
    food = np.empty(n, np.float64)
    status = np.empty(n, np.int8)
    _draw_households(p, start, stop, key, rng.stream_id(PURPOSE_HOUSEHOLD, replicate),
                     residence, size, income, consumption, food, status)
    first_person = np.zeros(n + 1, np.int64)
    np.cumsum(size, out=first_person[1:])
    m = int(first_person[-1])
    persons = Persons(
        person_id=np.empty(m, np.int64), hh=np.empty(m, np.int64), age=np.empty(m, np.int16),
        sex=np.empty(m, np.int8), scheme=np.empty(m, np.int8), chronic=np.empty(m, np.uint8),
        disabled=np.empty(m, np.bool_), supplementary=np.empty(m, np.bool_),
        wage=np.empty(m, np.float64))
    _draw_persons(p, start, rng.seed_key(seed), rng.stream_id(PURPOSE_PERSON, replicate),
                  residence, income, size, first_person,
                  persons.person_id, persons.hh, persons.age, persons.sex, persons.scheme,
                  persons.chronic, persons.disabled, persons.supplementary, persons.wage)
    households = Households(
        hh_id=np.arange(start, stop, dtype=np.int64),
        weight=np.full(n, spec.data.households / n_households, dtype=np.float64),
        region=np.full(n, spec.data.region.code, dtype=np.int32),
        residence=residence, size=size, income=income, consumption=consumption, food=food,
        status=status, first_person=first_person)
    return households, persons
