"""A year of illness: admissions and outpatient spending, drawn person by person.

Takes: `Households`, `Persons`, a `PopulationSpec` (its `health:` part), the
seed and the replicate. Gives: `Events`.

Model (parameters and sources in the spec, equations in docs/health.md):
- a latent severity z ~ N(0, 1) per person-year ties everything together;
- admissions N ~ Poisson(rate[age band] * scheme factor * residence factor *
  exp(s z - s^2/2)), a Poisson-lognormal mixture (overdispersed);
- each admission: facility level with shares tilted toward higher levels by
  severity, out-of-area and TCM flags, cost lognormal by level with a
  severity loading, split into class-B and out-of-catalogue shares (the
  out-of-catalogue share grows with severity) and the policy-range rest;
- outpatient visits ~ Poisson(rate * exp(w s z - (w s)^2/2)) split across
  levels, with the level's annual cost lognormal around visits x mean cost;
- chronic outpatient: "两病" costs uniform in the cited ranges, 门诊慢特病
  lognormal, special drugs for a share of special-chronic patients, rare
  disease drug costs.

All draws are addressed by person id (purpose HEALTH), so events do not depend
on the chunk and every scenario sees the same illnesses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np

from microsim import codes, rng
from microsim.population.spec import PopulationSpec
from microsim.population.tables import Households, Persons

PURPOSE_HEALTH = 3
N_KINDS = len(codes.OUTPATIENT_KIND)
K_HYPERTENSION, K_DIABETES, K_SPECIAL_CHRONIC, K_SPECIAL_DRUGS = 3, 4, 5, 6
_FIRST_ADMISSION_DRAW = 16   # draw counters below this are per-person draws


@dataclass
class Events:
    """Admissions (CSR by person) and annual outpatient spending, yuan."""

    adm_offsets: np.ndarray   # int64 (n_persons + 1,)
    adm_level: np.ndarray     # int8 codes.LEVEL
    adm_out_of_area: np.ndarray  # bool
    adm_tcm: np.ndarray       # bool, traditional Chinese medicine hospital
    adm_cost: np.ndarray      # float64 (n_admissions, 3) codes.PART
    outpatient: np.ndarray    # float64 (n_persons, 7 kinds, 3 parts) codes.OUTPATIENT_KIND x codes.PART
    severity: np.ndarray      # float64 (n_persons,) latent severity z

    @property
    def n_admissions(self) -> int:
        return int(self.adm_offsets[-1])


class HealthParams(NamedTuple):
    age_edges: np.ndarray        # (n bands,) lower edges
    severity_sigma: float
    adm_rate: np.ndarray         # (n bands,)
    adm_scheme_factor: np.ndarray  # (4,)
    adm_residence_factor: np.ndarray  # (2,)
    adm_level_share: np.ndarray  # (2, 3)
    adm_level_shift: float
    adm_out_of_area: float
    adm_tcm: float
    adm_cost_mu: np.ndarray      # (3,) log-scale location so that the mean matches
    adm_cost_sigma: np.ndarray   # (3,)
    adm_cost_loading: float
    adm_class_b: float
    adm_ooc: float
    adm_ooc_slope: float
    op_rate: np.ndarray          # (n bands,)
    op_scheme_factor: np.ndarray  # (4,)
    op_severity_weight: float
    op_level_share: np.ndarray   # (2, 3)
    op_cost_mean: np.ndarray     # (3,)
    op_cost_sigma: np.ndarray    # (3,)
    op_class_b: float
    op_ooc: float
    ch_low: np.ndarray           # (2,) hypertension, diabetes
    ch_high: np.ndarray          # (2,)
    sc_mu: float
    sc_sigma: float
    sd_share: float
    sd_mu: float
    sd_sigma: float
    rare_mu: float
    rare_sigma: float
    ch_class_b: float
    ch_ooc: float


def _mu(cost) -> float:
    return math.log(cost.mean) - 0.5 * cost.sigma ** 2


def health_params(spec: PopulationSpec) -> HealthParams:
    h = spec.data.health
    ip, op, ch = h.inpatient, h.outpatient, h.chronic
    levels = codes.LEVEL
    schemes = codes.SCHEME
    return HealthParams(
        age_edges=np.array(spec.data.age.bands, dtype=np.float64),
        severity_sigma=float(h.severity_sigma),
        adm_rate=np.array(ip.admissions_per_person, dtype=np.float64),
        adm_scheme_factor=np.array([getattr(ip.scheme_factor, s) for s in schemes]),
        adm_residence_factor=np.array([ip.residence_factor.urban, ip.residence_factor.rural]),
        adm_level_share=np.array([ip.level_shares.urban, ip.level_shares.rural], dtype=np.float64),
        adm_level_shift=float(ip.severity_level_shift),
        adm_out_of_area=float(ip.out_of_area_share),
        adm_tcm=float(ip.tcm_share),
        adm_cost_mu=np.array([_mu(getattr(ip.cost, lv)) for lv in levels]),
        adm_cost_sigma=np.array([getattr(ip.cost, lv).sigma for lv in levels]),
        adm_cost_loading=float(ip.severity_cost_loading),
        adm_class_b=float(ip.split.class_b_share),
        adm_ooc=float(ip.split.out_of_catalogue_share),
        adm_ooc_slope=float(ip.split.severity_slope),
        op_rate=np.array(op.visits_per_person, dtype=np.float64),
        op_scheme_factor=np.array([getattr(op.scheme_factor, s) for s in schemes]),
        op_severity_weight=float(op.severity_weight),
        op_level_share=np.array([op.level_shares.urban, op.level_shares.rural], dtype=np.float64),
        op_cost_mean=np.array([getattr(op.cost_per_visit, lv).mean for lv in levels]),
        op_cost_sigma=np.array([getattr(op.cost_per_visit, lv).sigma for lv in levels]),
        op_class_b=float(op.split.class_b_share),
        op_ooc=float(op.split.out_of_catalogue_share),
        ch_low=np.array([ch.hypertension.low, ch.diabetes.low]),
        ch_high=np.array([ch.hypertension.high, ch.diabetes.high]),
        sc_mu=_mu(ch.special_chronic), sc_sigma=float(ch.special_chronic.sigma),
        sd_share=float(ch.special_drugs_share),
        sd_mu=_mu(ch.special_drugs), sd_sigma=float(ch.special_drugs.sigma),
        rare_mu=_mu(ch.rare_disease), rare_sigma=float(ch.rare_disease.sigma),
        ch_class_b=float(ch.split.class_b_share),
        ch_ooc=float(ch.split.out_of_catalogue_share),
    )


@nb.njit(cache=True, nogil=True)
def poisson_inverse(lam: float, u: float) -> int:
    """Poisson(lam) by inversion of its CDF at u (exact, one uniform)."""
    if lam <= 0.0:
        return 0
    if lam > 500.0:  # normal approximation far beyond any admission or visit rate
        return max(0, int(round(lam + math.sqrt(lam) * rng.normal_quantile(u))))
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 10000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@nb.njit(cache=True, nogil=True)
def _band(edges: np.ndarray, age: float) -> int:
    b = edges.size - 1
    while b > 0 and age < edges[b]:
        b -= 1
    return b


@nb.njit(cache=True, nogil=True)
def _split(total: float, class_b: float, ooc: float, out: np.ndarray) -> None:
    """Split a bill into (policy-range, class-B, out-of-catalogue) so the parts add to total."""
    b = total * class_b
    o = total * ooc
    out[1] = b
    out[2] = o
    out[0] = total - b - o


@nb.njit(cache=True, nogil=True)
def _person_rates(p: HealthParams, key, stream, pid, age, scheme, residence):
    u_sev, u_n = rng.uniform_pair(key, stream, pid, np.uint64(0))
    z = rng.normal_quantile(u_sev)
    s = p.severity_sigma
    b = _band(p.age_edges, age)
    lam = p.adm_rate[b] * p.adm_scheme_factor[scheme] * p.adm_residence_factor[residence] * \
        math.exp(s * z - 0.5 * s * s)
    return z, poisson_inverse(lam, u_n), b


@nb.njit(cache=True, nogil=True)
def _count_admissions(p: HealthParams, key, stream, person_id, age, scheme, hh, residence, counts):
    for j in range(person_id.size):
        _, n, _ = _person_rates(p, key, stream, np.uint64(person_id[j]), age[j], scheme[j],
                                residence[hh[j]])
        counts[j] = n


@nb.njit(cache=True, nogil=True)
def _fill_events(p: HealthParams, key, stream, person_id, age, scheme, chronic, hh, residence,
                 offsets, level, out_of_area, tcm, adm_cost, outpatient, severity):
    w = np.empty(3)
    parts = np.empty(3)
    for j in range(person_id.size):
        pid = np.uint64(person_id[j])
        r = residence[hh[j]]
        z, n, b = _person_rates(p, key, stream, pid, age[j], scheme[j], r)
        severity[j] = z
        # Admissions: level tilted toward higher levels with severity.
        total_w = 0.0
        for lv in range(3):
            w[lv] = p.adm_level_share[r, lv] * math.exp(p.adm_level_shift * z * lv)
            total_w += w[lv]
        for a in range(n):
            i = offsets[j] + a
            k = np.uint64(_FIRST_ADMISSION_DRAW + 2 * a)
            u_level, u_cost = rng.uniform_pair(key, stream, pid, k)
            u_area, u_tcm = rng.uniform_pair(key, stream, pid, k + np.uint64(1))
            target = u_level * total_w
            lv = 0
            acc = w[0]
            while lv < 2 and target >= acc:
                lv += 1
                acc += w[lv]
            level[i] = lv
            out_of_area[i] = u_area < p.adm_out_of_area
            tcm[i] = u_tcm < p.adm_tcm
            L = p.adm_cost_loading
            cost = math.exp(p.adm_cost_mu[lv] + p.adm_cost_sigma[lv] * rng.normal_quantile(u_cost)
                            + L * z - 0.5 * L * L)
            ooc = min(p.adm_ooc * math.exp(p.adm_ooc_slope * z), 0.9 - p.adm_class_b)
            _split(cost, p.adm_class_b, ooc, parts)
            for q in range(3):
                adm_cost[i, q] = parts[q]
        # General outpatient: visits, split across levels, lognormal annual cost per level.
        sw = p.op_severity_weight * p.severity_sigma
        u_v, u_l1 = rng.uniform_pair(key, stream, pid, np.uint64(1))
        u_l2, u_c0 = rng.uniform_pair(key, stream, pid, np.uint64(2))
        u_c1, u_c2 = rng.uniform_pair(key, stream, pid, np.uint64(3))
        lam = p.op_rate[b] * p.op_scheme_factor[scheme[j]] * math.exp(sw * z - 0.5 * sw * sw)
        visits = poisson_inverse(lam, u_v)
        share = p.op_level_share[r]
        n0 = _binomial_normal(visits, share[0], u_l1)
        rest = 1.0 - share[0]
        n1 = _binomial_normal(visits - n0, share[1] / rest if rest > 0 else 0.0, u_l2)
        n_level = (n0, n1, visits - n0 - n1)
        u_cost3 = (u_c0, u_c1, u_c2)
        for lv in range(3):
            nv = n_level[lv]
            amount = 0.0
            if nv > 0:
                s = p.op_cost_sigma[lv] / math.sqrt(nv)
                amount = nv * p.op_cost_mean[lv] * math.exp(
                    s * rng.normal_quantile(u_cost3[lv]) - 0.5 * s * s)
            _split(amount, p.op_class_b, p.op_ooc, parts)
            for q in range(3):
                outpatient[j, lv, q] = parts[q]
        # Chronic outpatient spending.
        flags = chronic[j]
        u_ht, u_dm = rng.uniform_pair(key, stream, pid, np.uint64(4))
        u_sc, u_sd = rng.uniform_pair(key, stream, pid, np.uint64(5))
        u_sdc, u_rare = rng.uniform_pair(key, stream, pid, np.uint64(6))
        amounts = np.zeros(4)
        if flags & 1:
            amounts[0] = p.ch_low[0] + u_ht * (p.ch_high[0] - p.ch_low[0])
        if flags & 2:
            amounts[1] = p.ch_low[1] + u_dm * (p.ch_high[1] - p.ch_low[1])
        if flags & 4:
            amounts[2] = math.exp(p.sc_mu + p.sc_sigma * rng.normal_quantile(u_sc))
            if u_sd < p.sd_share:
                amounts[3] += math.exp(p.sd_mu + p.sd_sigma * rng.normal_quantile(u_sdc))
        if flags & 8:
            amounts[3] += math.exp(p.rare_mu + p.rare_sigma * rng.normal_quantile(u_rare))
        for c in range(4):
            _split(amounts[c], p.ch_class_b, p.ch_ooc, parts)
            for q in range(3):
                outpatient[j, 3 + c, q] = parts[q]


@nb.njit(cache=True, nogil=True)
def _binomial_normal(n: int, prob: float, u: float) -> int:
    """Binomial(n, prob) by inversion at u: exact CDF walk (n is a visit count)."""
    if n <= 0 or prob <= 0.0:
        return 0
    if prob >= 1.0:
        return n
    q = 1.0 - prob
    pk = q ** n
    cdf = pk
    k = 0
    if pk <= 0.0:  # underflow for very large n: normal approximation
        x = n * prob + math.sqrt(n * prob * q) * rng.normal_quantile(u)
        return min(n, max(0, int(round(x))))
    while u > cdf and k < n:
        pk *= (n - k) / (k + 1) * prob / q
        k += 1
        cdf += pk
    return k


def draw_events(households: Households, persons: Persons, spec: PopulationSpec, seed: int,
                replicate: int, params: HealthParams | None = None) -> Events:
    """This year's admissions and outpatient spending for every person of a chunk."""
    p = params if params is not None else health_params(spec)
    key = rng.seed_key(seed)
    stream = rng.stream_id(PURPOSE_HEALTH, replicate)
    n = len(persons)
    counts = np.empty(n, np.int64)
    _count_admissions(p, key, stream, persons.person_id, persons.age, persons.scheme, persons.hh,
                      households.residence, counts)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    m = int(offsets[-1])
    events = Events(
        adm_offsets=offsets, adm_level=np.empty(m, np.int8), adm_out_of_area=np.empty(m, np.bool_),
        adm_tcm=np.empty(m, np.bool_), adm_cost=np.empty((m, 3), np.float64),
        outpatient=np.zeros((n, N_KINDS, 3), np.float64), severity=np.empty(n, np.float64))
    _fill_events(p, key, stream, persons.person_id, persons.age, persons.scheme, persons.chronic,
                 persons.hh, households.residence, offsets, events.adm_level,
                 events.adm_out_of_area, events.adm_tcm, events.adm_cost, events.outpatient,
                 events.severity)
    return events
