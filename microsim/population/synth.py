"""Synthesis: households and persons of one chunk, drawn from a population spec.

Takes: a `PopulationSpec`, the global household range [start, stop) of the
chunk, the total number of synthetic households, the experiment seed and the
replicate. Gives: `Households` and `Persons` of that range.

Every draw is addressed by the household id (households) or the person id
(persons: household id * 32 + member), so a household is the same whatever
chunk it falls in. The kernel is one pass over households (residence, size,
income, consumption, food, poverty status) and one over their members (age
and sex from the household's composition, scheme, chronic conditions,
disability, supplementary enrolment, wage).

Model (parameters and sources in the spec; equations in docs/populations.md):
- residence: urban with the household share implied by the urban share of
  persons and the mean household sizes; size from the residence's size shares;
- per-capita income: Singh-Maddala with a scale that falls with household size
  (`income.py`), the scale set so that the mean over persons matches;
- per-capita consumption: scale * income**elasticity * lognormal noise, the
  scale set so the mean over persons matches; food share falls with
  consumption (Engel's law) around a level set so that total food / total
  consumption matches;
- status: households in a rule's income zone (multiples of the 低保 line)
  get the status with a probability set so that the expected number of
  persons with it matches the rule's count or share (`status_probabilities`);
- members: a head (18+), a spouse, and parents, children or grandchildren
  of the head, with head ages solved so that the age structure matches
  (`composition.py`);
- scheme: uninsured, UEBMI employed or retired, else URRBMI, with shares by
  residence and age band; a share (`income_link`) of the draw follows the
  household's income rank, so richer households hold employee insurance more
  often while every band's shares stay as given.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from microsim import codes, rng
from microsim.errors import InputError
from microsim.population.composition import (SPOUSE, Composition, composition,
                                             member_age_range)
from microsim.population.income import IncomeModel, RES, income_model, sm_quantile
from microsim.population.spec import PopulationSpec
from microsim.population.tables import Households, Persons

# The kernels of this module allocate nothing, so they are compiled without numba's
# reference-counted runtime (`_nrt=False`, as in settlement/kernels.py): array views and
# tuple fields then cost no atomic reference counting in the hot loops.

PURPOSE_HOUSEHOLD = 1
PURPOSE_PERSON = 2
MAX_MEMBERS = 32   # person id = household id * MAX_MEMBERS + member
_KINDS = np.array([1, 2, 3], np.int64)   # PARENT, CHILD, GRANDCHILD in member-type order


class SynthParams(NamedTuple):
    """A population spec flattened for the synthesis kernel (index 0 urban, 1 rural)."""

    p_urban_household: float
    size_cdf: np.ndarray          # (2, max size)
    income_a: np.ndarray          # (2,) Singh-Maddala shapes
    income_q: np.ndarray          # (2,)
    income_scale: np.ndarray      # (2, max size) scale by household size
    cons_scale: np.ndarray        # (2,)
    cons_elasticity: np.ndarray   # (2,)
    cons_sigma: np.ndarray        # (2,)
    cons_mean: np.ndarray         # (2,) mean per-capita consumption (Engel reference)
    food_level: np.ndarray        # (2,) food share at the mean consumption
    engel: np.ndarray             # (2,) elasticity of the food share to consumption (>= 0)
    food_sigma: np.ndarray        # (2,)
    dibao_line: np.ndarray        # (2,) yuan per person per year
    rule_status: np.ndarray       # (n rules,) status code
    rule_from: np.ndarray         # (n rules,) zone lower edge, multiple of the line
    rule_below: np.ndarray        # (n rules,) zone upper edge
    rule_max_size: np.ndarray     # (n rules,) int, largest household size eligible
    rule_prob: np.ndarray         # (2, n rules)
    head_min_age: int
    head_age_cdf: np.ndarray      # (2, max size, K)
    spouse_prob: np.ndarray       # (2, max size + 1)
    group_edges: np.ndarray       # (G,)
    type_cdf: np.ndarray          # (2, G, 3)
    gaps: np.ndarray              # (4,)
    max_age: int
    male_head: np.ndarray         # (2,)
    male_other: np.ndarray        # (2,)
    age_band: np.ndarray          # (max_age + 1,) band of each single age
    p_uninsured: np.ndarray       # (2, n bands)
    p_employed: np.ndarray        # (2, n bands)
    p_retired: np.ndarray         # (2, n bands)
    income_link: float
    p_supplementary: np.ndarray   # (2,)
    wage_ratio: float
    wage_sigma: float
    p_hypertension: np.ndarray    # (n bands,)
    p_diabetes: np.ndarray
    p_special: np.ndarray
    p_rare: float
    p_disabled: np.ndarray


def status_probabilities(spec: PopulationSpec, model: IncomeModel) -> np.ndarray:
    """(2, n rules) take-up probability of each status rule, from its target.

    Expected persons with status j in residence r = p_j x persons of r in households
    in the rule's zone, so p_j = target / persons in zone. Refused when a target needs
    more persons than the zone holds, or overlapping zones would exceed probability 1.
    """
    d = spec.data
    rules = d.poverty.rules
    probs = np.zeros((2, len(rules)))
    per_hh = np.array([model.persons_per_household(r) for r in RES])
    persons = d.households * np.array([model.p_urban, 1.0 - model.p_urban]) * per_hh
    for j, rule in enumerate(rules):
        for r, name in enumerate(RES):
            line = getattr(d.poverty.dibao_line, name)
            zone = model.person_share_between(rule.income_from * line, rule.income_below * line,
                                              name, rule.max_size)
            if rule.persons is not None:
                want = getattr(rule.persons, name) / persons[r]
            else:
                want = getattr(rule.person_share, name)
            if want == 0.0:
                continue
            if zone <= 0.0 or want > zone * (1.0 + 1e-12):
                raise InputError(
                    spec.tree.file_of(("poverty", "rules", str(j))),
                    f"{name} {rule.status} needs {want:.4%} of {name} persons but only "
                    f"{zone:.4%} live in households with per-capita income in "
                    f"[{rule.income_from}, {rule.income_below}) x the 低保 line"
                    + (f" and at most {rule.max_size} members" if rule.max_size else "")
                    + "; widen the zone or lower the target", key=f"poverty.rules.{j}")
            probs[r, j] = want / zone
    # Zones that overlap share one uniform draw: their probabilities must add up to <= 1.
    edges = sorted({e for rule in rules for e in (rule.income_from, rule.income_below)})
    for lo, hi in zip(edges, edges[1:]):
        for r, name in enumerate(RES):
            total = sum(probs[r, j] for j, rule in enumerate(rules)
                        if rule.income_from <= lo and hi <= rule.income_below)
            if total > 1.0 + 1e-9:
                raise InputError(spec.tree.file_of(("poverty", "rules")),
                                 f"{name} households with per-capita income in [{lo}, {hi}) x "
                                 f"the line would get a status with total probability "
                                 f"{total:.3f} > 1; lower the targets or widen the zones",
                                 key="poverty.rules")
    return probs


def _consumption(spec: PopulationSpec, model: IncomeModel):
    """Consumption scale and food-share level per residence, so that means match (closed form)."""
    d = spec.data
    scale = np.zeros(2)
    level = np.zeros(2)
    for r, name in enumerate(RES):
        c = getattr(d.consumption, name)
        e, s, eta = c.elasticity, c.sigma, c.engel_elasticity
        a, q = model.a[r], model.q[r]
        if e * 1.0 >= a * q:
            raise InputError(spec.tree.file_of(("consumption", name, "elasticity")),
                             "consumption elasticity must be below shape_a x shape_q of income",
                             key=f"consumption.{name}.elasticity")
        # c = K y**e eps, eps lognormal with mean 1: E[c] over persons = K E[y**e].
        mean_ye = model.moment_over_persons(e, name)
        scale[r] = c.mean_per_capita / mean_ye
        # food/cons totals = level * cbar**eta * E[n c**(1-eta)] / E[n c]; E[eps**p] = exp(p(p-1)s^2/2).
        p = 1.0 - eta
        moment = scale[r] ** p * model.moment_over_persons(e * p, name) * math.exp(p * (p - 1) * s * s / 2)
        level[r] = c.food_share * c.mean_per_capita / (c.mean_per_capita ** eta * moment)
    return scale, level


def synth_params(spec: PopulationSpec) -> SynthParams:
    """Flatten a validated spec into kernel arrays (pure arithmetic, no draws)."""
    d = spec.data
    model = income_model(spec)
    comp: Composition = composition(spec)
    size_cdf = np.cumsum(model.size_share, axis=1)
    size_cdf[:, -1] = 1.0
    cons_scale, food_level = _consumption(spec, model)
    cons = [getattr(d.consumption, r) for r in RES]
    rules = d.poverty.rules
    status_code = {name: i for i, name in enumerate(codes.STATUS)}
    age = d.age
    ages = np.arange(age.max_age + 1)
    age_band = (np.searchsorted(np.asarray(age.bands), ages, side="right") - 1).astype(np.int64)
    ins = d.insurance
    return SynthParams(
        p_urban_household=model.p_urban,
        size_cdf=size_cdf,
        income_a=model.a.copy(),
        income_q=model.q.copy(),
        income_scale=model.scale.copy(),
        cons_scale=cons_scale,
        cons_elasticity=np.array([c.elasticity for c in cons]),
        cons_sigma=np.array([c.sigma for c in cons]),
        cons_mean=np.array([c.mean_per_capita for c in cons]),
        food_level=food_level,
        engel=np.array([c.engel_elasticity for c in cons]),
        food_sigma=np.array([c.food_sigma for c in cons]),
        dibao_line=np.array([getattr(d.poverty.dibao_line, r) for r in RES]),
        rule_status=np.array([status_code[r.status] for r in rules], dtype=np.int8),
        rule_from=np.array([r.income_from for r in rules], dtype=np.float64),
        rule_below=np.array([r.income_below for r in rules], dtype=np.float64),
        rule_max_size=np.array([r.max_size or 1000 for r in rules], dtype=np.int64),
        rule_prob=status_probabilities(spec, model).reshape(2, len(rules)),
        head_min_age=int(comp.head_min_age),
        head_age_cdf=comp.head_age_cdf,
        spouse_prob=comp.spouse_prob,
        group_edges=comp.group_edges,
        type_cdf=comp.type_cdf,
        gaps=comp.gaps,
        max_age=int(age.max_age),
        male_head=comp.male_head,
        male_other=comp.male_other,
        age_band=age_band,
        p_uninsured=np.array([getattr(ins.uninsured, r) for r in RES], dtype=np.float64),
        p_employed=np.array([getattr(ins.uebmi_employed, r) for r in RES], dtype=np.float64),
        p_retired=np.array([getattr(ins.uebmi_retired, r) for r in RES], dtype=np.float64),
        income_link=float(ins.income_link),
        p_supplementary=np.array([getattr(ins.supplementary_uptake, r) for r in RES]),
        wage_ratio=float(ins.wage.ratio_to_per_capita_income),
        wage_sigma=float(ins.wage.sigma),
        p_hypertension=np.array(d.chronic.hypertension, dtype=np.float64),
        p_diabetes=np.array(d.chronic.diabetes, dtype=np.float64),
        p_special=np.array(d.chronic.special_chronic, dtype=np.float64),
        p_rare=float(d.chronic.rare_disease),
        p_disabled=np.array(d.chronic.disabled, dtype=np.float64),
    )


_INV_2_32 = 1.0 / 4294967296.0


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _four_uniforms(key: np.uint64, stream: np.uint64, entity: np.uint64, k: np.uint64):
    """Four independent uniforms on (0, 1) with 32-bit resolution from one Philox call."""
    c0, c1, c2, c3 = rng.philox4x32(key, stream, entity, k)
    return ((float(c0) + 0.5) * _INV_2_32, (float(c1) + 0.5) * _INV_2_32,
            (float(c2) + 0.5) * _INV_2_32, (float(c3) + 0.5) * _INV_2_32)


@nb.njit(cache=True, nogil=True, _nrt=False)
def _pick(cdf: np.ndarray, u: float) -> int:
    """Index of the first cdf entry above u (categorical draw, binary search)."""
    lo = 0
    hi = cdf.size - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if u < cdf[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@nb.njit(cache=True, nogil=True, _nrt=False)
def _draw_households(p: SynthParams, start: int, stop: int, key: np.uint64, stream: np.uint64,
                     residence, size, income, consumption, food, status, income_u):
    for i in range(stop - start):
        g = np.uint64(start + i)
        u_res, u_size, u_inc, u_cons = _four_uniforms(key, stream, g, np.uint64(0))
        u_food, u_status, _, _ = _four_uniforms(key, stream, g, np.uint64(1))
        r = 0 if u_res < p.p_urban_household else 1
        residence[i] = r
        n = _pick(p.size_cdf[r], u_size) + 1
        size[i] = n
        income_u[i] = u_inc
        y = p.income_scale[r, n - 1] * sm_quantile(u_inc, p.income_a[r], p.income_q[r])
        income[i] = y * n
        s = p.cons_sigma[r]
        c = p.cons_scale[r] * y ** p.cons_elasticity[r] * math.exp(
            s * rng.normal_quantile(u_cons) - 0.5 * s * s)
        consumption[i] = c * n
        fs = p.food_sigma[r]
        share = p.food_level[r] * (c / p.cons_mean[r]) ** (-p.engel[r]) * math.exp(
            fs * rng.normal_quantile(u_food) - 0.5 * fs * fs)
        food[i] = min(share, 0.95) * c * n
        ratio = y / p.dibao_line[r]
        st = 0
        acc = 0.0
        for j in range(p.rule_status.size):
            if p.rule_from[j] <= ratio < p.rule_below[j] and n <= p.rule_max_size[j]:
                acc += p.rule_prob[r, j]
                if u_status < acc:
                    st = p.rule_status[j]
                    break
        status[i] = st


@nb.njit(cache=True, nogil=True, _nrt=False)
def _draw_persons(p: SynthParams, start: int, key: np.uint64, hh_stream: np.uint64,
                  stream: np.uint64, residence, income, size, first_person, income_u,
                  person_id, hh, age, sex, scheme, chronic, disabled, supplementary, wage):
    gl = p.gaps[0]
    gh = p.gaps[1]
    ml = p.gaps[2]
    mh = p.gaps[3]
    for i in range(residence.size):
        r = residence[i]
        n = size[i]
        g = start + i
        _, _, u_head, u_spouse = _four_uniforms(key, hh_stream, np.uint64(g), np.uint64(1))
        u_head_sex, _, _, _ = _four_uniforms(key, hh_stream, np.uint64(g), np.uint64(2))
        head_age = p.head_min_age + _pick(p.head_age_cdf[r, n - 1], u_head)
        has_spouse = n >= 2 and u_spouse < p.spouse_prob[r, n]
        head_male = u_head_sex < p.male_head[r]
        group = 0
        while group + 1 < p.group_edges.size and head_age >= p.group_edges[group + 1]:
            group += 1
        per_capita = income[i] / n
        for m in range(n):
            j = first_person[i] + m
            pid = np.uint64(g * MAX_MEMBERS + m)
            u_type, u_age, u_sex, u_scheme = _four_uniforms(key, stream, pid, np.uint64(0))
            if m == 0:
                a = head_age
                male = head_male
            else:
                if m == 1 and has_spouse:
                    kind = SPOUSE
                    male = not head_male
                else:
                    kind = _KINDS[_pick(p.type_cdf[r, group], u_type)]
                    male = u_sex < p.male_other[r]
                lo, hi = member_age_range(kind, head_age, gl, gh, ml, mh, p.head_min_age,
                                          p.max_age)
                a = lo + int(u_age * (hi - lo + 1))
                if a > hi:
                    a = hi
            person_id[j] = g * MAX_MEMBERS + m
            hh[j] = i
            age[j] = a
            sex[j] = 0 if male else 1
            sch, flags, dis, sup, w = person_attributes(p, r, a, per_capita, income_u[i], u_scheme,
                                                        key, stream, pid)
            scheme[j] = sch
            chronic[j] = flags
            disabled[j] = dis
            supplementary[j] = sup
            wage[j] = w


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def person_attributes(p: SynthParams, r: int, a: int, per_capita: float, income_u: float,
                      u_scheme: float, key: np.uint64, stream: np.uint64, pid: np.uint64):
    """(scheme, chronic flags, disabled, supplementary, wage) of a person aged `a` in a
    household of residence `r`, from the person's own draws: the same person evaluated at an
    older age keeps every draw, so shares that rise with age only ever add a condition or
    move a member on to retirement (population/ageing.py)."""
    u_ht, u_dm, u_sc, u_rare = _four_uniforms(key, stream, pid, np.uint64(1))
    u_dis, u_sup, u_wage, u_link = _four_uniforms(key, stream, pid, np.uint64(2))
    b = p.age_band[a]
    sch = 3  # URRBMI
    pu = p.p_uninsured[r, b]
    if u_scheme < pu:
        sch = 0
    else:
        v = (u_scheme - pu) / (1.0 - pu)
        if u_link < p.income_link:
            v = 1.0 - income_u
        pe = p.p_employed[r, b]
        if v < pe:
            sch = 1
        elif v < pe + p.p_retired[r, b]:
            sch = 2
    flags = 0
    if u_ht < p.p_hypertension[b]:
        flags |= 1
    if u_dm < p.p_diabetes[b]:
        flags |= 2
    if u_sc < p.p_special[b]:
        flags |= 4
    if u_rare < p.p_rare:
        flags |= 8
    disabled = u_dis < p.p_disabled[b]
    supplementary = sch != 0 and u_sup < p.p_supplementary[r]
    wage = 0.0
    if sch == 1:
        ws = p.wage_sigma
        wage = per_capita * p.wage_ratio * math.exp(
            ws * rng.normal_quantile(u_wage) - 0.5 * ws * ws)
    return sch, flags, disabled, supplementary, wage


def synthesize(spec: PopulationSpec, start: int, stop: int, n_households: int, seed: int,
               replicate: int, params: SynthParams | None = None) -> tuple[Households, Persons]:
    """Households [start, stop) of a synthetic population of `n_households`."""
    if not 0 <= start <= stop <= n_households:
        raise ValueError(f"household range [{start}, {stop}) outside [0, {n_households})")
    p = params if params is not None else synth_params(spec)
    key = rng.seed_key(seed)
    hh_stream = rng.stream_id(PURPOSE_HOUSEHOLD, replicate)
    n = stop - start
    residence = np.empty(n, np.int8)
    size = np.empty(n, np.int16)
    income = np.empty(n, np.float64)
    consumption = np.empty(n, np.float64)
    food = np.empty(n, np.float64)
    status = np.empty(n, np.int8)
    income_u = np.empty(n, np.float64)
    _draw_households(p, start, stop, key, hh_stream, residence, size, income, consumption, food,
                     status, income_u)
    first_person = np.zeros(n + 1, np.int64)
    np.cumsum(size, out=first_person[1:])
    m = int(first_person[-1])
    persons = Persons(
        person_id=np.empty(m, np.int64), hh=np.empty(m, np.int64), age=np.empty(m, np.int16),
        sex=np.empty(m, np.int8), scheme=np.empty(m, np.int8), chronic=np.empty(m, np.uint8),
        disabled=np.empty(m, np.bool_), supplementary=np.empty(m, np.bool_),
        wage=np.empty(m, np.float64))
    _draw_persons(p, start, key, hh_stream, rng.stream_id(PURPOSE_PERSON, replicate),
                  residence, income, size, first_person, income_u,
                  persons.person_id, persons.hh, persons.age, persons.sex, persons.scheme,
                  persons.chronic, persons.disabled, persons.supplementary, persons.wage)
    households = Households(
        hh_id=np.arange(start, stop, dtype=np.int64),
        weight=np.full(n, spec.data.households / n_households, dtype=np.float64),
        region=np.full(n, spec.data.region.code, dtype=np.int32),
        residence=residence, size=size, income=income, consumption=consumption, food=food,
        status=status, first_person=first_person)
    return households, persons
