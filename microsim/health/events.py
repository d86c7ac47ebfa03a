"""A year of illness: admissions and outpatient spending, drawn person by person.

Takes: `Households`, `Persons`, a `PopulationSpec` (its `health:` part, or the
`HealthParams` built from it once per run), the seed and the replicate.
Gives: `Events`.

Model (parameters and sources in the spec, equations in docs/health.md):
- a latent severity z ~ N(0, 1) per person-year ties everything together;
- admissions N ~ Poisson(lambda * exp(s z - s^2/2)), lambda by age band, sex,
  chronic conditions, scheme and residence: a Poisson-lognormal mixture, so
  some people are admitted many times;
- each admission: facility level by an ordered probit on severity (y = b z + e
  against cut points that reproduce the spec's level shares), out-of-area
  (异地就医) and TCM flags, a lognormal cost whose log rises with severity
  (normalised so each level keeps its mean cost), and the three-way split with
  an out-of-catalogue share that grows with severity;
- general outpatient visits ~ Poisson(mu * personal intensity), the intensity
  lognormal and correlated with severity, split across levels (binomial), each
  level's annual cost lognormal with the mean and spread of a sum of visits;
- chronic outpatient: "两病" (hypertension, diabetes) costs within the cited
  ranges, 门诊慢特病 lognormal, both correlated with severity; special drugs
  (特药) for a share of special-chronic patients; rare-disease drugs (Gaucher,
  Pompe, Fabry) also in the special-drugs kind, their share of it recorded per
  person so a policy can leave them out of its special-drug cover.

Randomness: every draw is Philox4x32-10 addressed by (seed, purpose HEALTH,
replicate, person id, k); one Philox call gives four 32-bit uniforms (tails
reach 6.3 sd, far beyond what any cost here needs). Draw numbers k: 0 severity
and admission count, 1 visits and their split, 2 visit costs, 3-4 chronic
costs, 16 + a admission a. Draws that a person does not need are never made,
and no draw depends on another person, so events do not depend on the chunk
and every scenario sees the same illnesses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from microsim import codes, rng
from microsim.health.params import (MAX_AGE_INDEX, MAX_OUT_OF_CATALOGUE_ROOM, N_CONDITIONS,
                                    N_RESIDENCES, N_SCHEMES, N_SEXES, SCHEME_GROUP, HealthParams,
                                    health_params)
from microsim.population.spec import PopulationSpec
from microsim.population.tables import Households, Persons

# The kernels of this module allocate nothing, so they are compiled without numba's
# reference-counted runtime (`_nrt=False`, as in settlement/kernels.py): array views and
# tuple fields then cost no atomic reference counting in the hot loops.

__all__ = ["Events", "HealthParams", "draw_events", "health_params", "poisson_inverse"]

PURPOSE_HEALTH = 3
N_KINDS = len(codes.OUTPATIENT_KIND)
K_HYPERTENSION, K_DIABETES, K_SPECIAL_CHRONIC, K_SPECIAL_DRUGS = 3, 4, 5, 6
DRAW_SEVERITY, DRAW_VISITS, DRAW_VISIT_COST, DRAW_CHRONIC, DRAW_CHRONIC_EXTRA = 0, 1, 2, 3, 4
FIRST_ADMISSION_DRAW = 16
_TWO_POW_32 = 4294967296.0
_A, _B, _C, _D = rng._A, rng._B, rng._C, rng._D   # Acklam's coefficients
HYPERTENSION, DIABETES, SPECIAL_CHRONIC, RARE_DISEASE = (codes.HYPERTENSION, codes.DIABETES,
                                                         codes.SPECIAL_CHRONIC, codes.RARE_DISEASE)


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
    visits: np.ndarray | None = None  # int32 (n_persons, 3 levels) general outpatient visits
    rare_share: np.ndarray | None = None  # float64 (n_persons,) share of the special-drugs
    #   kind that is rare-disease drugs (None: none)

    @property
    def n_admissions(self) -> int:
        return int(self.adm_offsets[-1])


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _unit32(word: np.uint64) -> float:
    """A 32-bit word mapped to the open interval (0, 1)."""
    return (float(word) + 0.5) / _TWO_POW_32


@nb.njit(cache=True, nogil=True, _nrt=False)
def uniform_quad(key: np.uint64, stream: np.uint64, entity: np.uint64, k: np.uint64):
    """Four independent uniforms on (0, 1) (32 bits each) from one Philox call."""
    c0, c1, c2, c3 = rng.philox4x32(key, stream, entity, k)
    return _unit32(c0), _unit32(c1), _unit32(c2), _unit32(c3)


@nb.njit(cache=True, nogil=True, _nrt=False)
def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@nb.njit(nb.float64(nb.float64), cache=True, nogil=True)
def std_normal(u: float) -> float:
    """Standard normal quantile of u in (0, 1): Acklam's rational approximation (relative
    error below 1.2e-9) without the refinement step of `rng.normal_quantile`, which
    would cost an erfc and an exp for digits that no simulated use or cost needs."""
    if u < 0.02425:
        q = math.sqrt(-2.0 * math.log(u))
        return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    if u > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log(1.0 - u))
        return -(((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / \
            ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0)
    q = u - 0.5
    r = q * q
    return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / \
        (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)


@nb.njit(cache=True, nogil=True, _nrt=False)
def poisson_inverse(lam: float, u: float) -> int:
    """Poisson(lam) by inversion of its CDF at u (exact, one uniform)."""
    if lam <= 0.0:
        return 0
    if lam > 500.0:  # normal approximation far beyond any admission or visit rate
        return max(0, int(round(lam + math.sqrt(lam) * std_normal(u))))
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 10000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@nb.njit(cache=True, nogil=True, _nrt=False)
def binomial_inverse(n: int, prob: float, u: float) -> int:
    """Binomial(n, prob) by inversion at u: exact CDF walk (n is a visit count)."""
    if n <= 0 or prob <= 0.0:
        return 0
    if prob >= 1.0:
        return n
    q = 1.0 - prob
    pk = q ** n
    if pk <= 1e-300:  # underflow for very large n: normal approximation
        x = n * prob + math.sqrt(n * prob * q) * std_normal(u)
        return min(n, max(0, int(round(x))))
    cdf = pk
    k = 0
    while u > cdf and k < n:
        pk *= (n - k) / (k + 1) * prob / q
        k += 1
        cdf += pk
    return k


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _table_index(p: HealthParams, age: int, sex: int, flags: int, scheme: int, residence: int) -> int:
    band = p.band_of_age[min(max(age, 0), MAX_AGE_INDEX)]
    return (((band * N_SEXES + sex) * N_CONDITIONS + (flags & 7)) * N_SCHEMES + scheme) \
        * N_RESIDENCES + residence


@nb.njit(cache=True, nogil=True, _nrt=False)
def _severity_and_admissions(p: HealthParams, key: np.uint64, stream: np.uint64,
                             person_id: np.ndarray, age: np.ndarray, sex: np.ndarray,
                             scheme: np.ndarray, chronic: np.ndarray, hh: np.ndarray,
                             residence: np.ndarray, severity: np.ndarray, counts: np.ndarray):
    """Pass 1: each person's severity z and number of admissions."""
    s = p.severity_sigma
    for j in range(person_id.size):
        u_z, u_n, _, _ = uniform_quad(key, stream, np.uint64(person_id[j]), np.uint64(DRAW_SEVERITY))
        z = std_normal(u_z)
        severity[j] = z
        lam = p.adm_intensity[_table_index(p, age[j], sex[j], chronic[j], scheme[j],
                                           residence[hh[j]])] * math.exp(s * z - 0.5 * s * s)
        counts[j] = poisson_inverse(lam, u_n)


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _put_split(out: np.ndarray, i: int, kind: int, total: float, class_b: float, ooc: float):
    """Write (policy-range, class-B, out-of-catalogue) of a bill; the parts add to total."""
    b = total * class_b
    o = total * ooc
    out[i, kind, 0] = total - b - o
    out[i, kind, 1] = b
    out[i, kind, 2] = o


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _admissions(p: HealthParams, key: np.uint64, stream: np.uint64, pid: np.uint64, z: float,
                cell: int, first: int, n: int, level: np.ndarray, out_of_area: np.ndarray,
                tcm: np.ndarray, adm_cost: np.ndarray):
    """Level, flags, cost and split of a person's n admissions, rows first..first+n-1."""
    c1 = p.level_cut[cell, 0]
    c2 = p.level_cut[cell, 1]
    g = p.adm_ooc_slope
    ooc = p.adm_ooc * math.exp(g * (z - p.adm_ooc_centre) - 0.5 * g * g)
    ooc = min(ooc, MAX_OUT_OF_CATALOGUE_ROOM - p.adm_class_b)
    for a in range(n):
        i = first + a
        u_level, u_cost, u_area, u_tcm = uniform_quad(
            key, stream, pid, np.uint64(FIRST_ADMISSION_DRAW + a))
        y = p.level_loading * z + std_normal(u_level)
        lv = 0 if y < c1 else (1 if y < c2 else 2)
        level[i] = lv
        out_of_area[i] = u_area < p.adm_out_of_area[lv]
        tcm[i] = u_tcm < p.adm_tcm
        cost = math.exp(p.adm_cost_mu[cell, lv] + p.adm_cost_sigma[lv] * std_normal(u_cost)
                        + p.adm_cost_loading * z)
        b = cost * p.adm_class_b
        o = cost * ooc
        adm_cost[i, 0] = cost - b - o
        adm_cost[i, 1] = b
        adm_cost[i, 2] = o


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _general_outpatient(p: HealthParams, key: np.uint64, stream: np.uint64, pid: np.uint64,
                        z: float, index: int, r: int, j: int, outpatient: np.ndarray,
                        visits: np.ndarray):
    """Visits by level and their annual cost: kinds general_primary/secondary/tertiary."""
    u_e, u_v, u_l1, u_l2 = uniform_quad(key, stream, pid, np.uint64(DRAW_VISITS))
    sig = p.op_sigma
    x = p.op_rho * z + math.sqrt(1.0 - p.op_rho * p.op_rho) * std_normal(u_e)
    mu = p.op_intensity[index] * math.exp(sig * x - 0.5 * sig * sig)
    n_all = poisson_inverse(mu, u_v)
    share0 = p.op_level_share[r, 0]
    rest = 1.0 - share0
    n0 = binomial_inverse(n_all, share0, u_l1)
    n1 = binomial_inverse(n_all - n0, p.op_level_share[r, 1] / rest if rest > 0.0 else 0.0, u_l2)
    n2 = n_all - n0 - n1
    visits[j, 0] = n0
    visits[j, 1] = n1
    visits[j, 2] = n2
    for lv in range(3):
        outpatient[j, lv, 0] = 0.0
        outpatient[j, lv, 1] = 0.0
        outpatient[j, lv, 2] = 0.0
    if n_all == 0:
        return
    u_c0, u_c1, u_c2, _ = uniform_quad(key, stream, pid, np.uint64(DRAW_VISIT_COST))
    for lv in range(3):
        nv = n0 if lv == 0 else (n1 if lv == 1 else n2)
        if nv == 0:
            continue
        u = u_c0 if lv == 0 else (u_c1 if lv == 1 else u_c2)
        # The sum of nv visits: mean nv * mean, squared CV (e^{sigma^2} - 1) / nv (Fenton-Wilkinson).
        if nv < p.op_sum_log_sd.shape[1]:
            sn = p.op_sum_log_sd[lv, nv]
        else:
            sn = math.sqrt(math.log1p(p.op_cost_excess_var[lv] / nv))
        amount = nv * p.op_cost_mean[lv] * math.exp(sn * std_normal(u) - 0.5 * sn * sn)
        _put_split(outpatient, j, lv, amount, p.op_class_b, p.op_ooc)


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _range_cost(p: HealthParams, which: int, z: float, u: float) -> float:
    """A two-disease annual cost in [low, high], its rank correlated with severity."""
    v = u
    if p.ch_rho > 0.0:
        v = normal_cdf(p.ch_rho * z + math.sqrt(1.0 - p.ch_rho * p.ch_rho) * std_normal(u))
    lo = p.ch_low[which]
    hi = p.ch_high[which]
    if p.ch_log[which] == 1:
        return lo * math.exp(v * math.log(hi / lo))
    return lo + v * (hi - lo)


@nb.njit(cache=True, nogil=True, inline="always", _nrt=False)
def _chronic_outpatient(p: HealthParams, key: np.uint64, stream: np.uint64, pid: np.uint64,
                        z: float, flags: int, j: int, outpatient: np.ndarray,
                        rare_share: np.ndarray):
    """Two-disease, special-chronic, special-drug and rare-disease spending of one person;
    rare_share[j]: the share of the special-drugs kind that is rare-disease drugs."""
    rare_share[j] = 0.0
    for kind in range(3, N_KINDS):
        outpatient[j, kind, 0] = 0.0
        outpatient[j, kind, 1] = 0.0
        outpatient[j, kind, 2] = 0.0
    if flags == 0:
        return
    u_ht, u_dm, u_sc, u_sd = uniform_quad(key, stream, pid, np.uint64(DRAW_CHRONIC))
    cb = p.ch_class_b
    oc = p.ch_ooc
    if flags & HYPERTENSION:
        _put_split(outpatient, j, K_HYPERTENSION, _range_cost(p, 0, z, u_ht), cb, oc)
    if flags & DIABETES:
        _put_split(outpatient, j, K_DIABETES, _range_cost(p, 1, z, u_dm), cb, oc)
    drugs = 0.0
    on_drugs = (flags & SPECIAL_CHRONIC) != 0 and u_sd < p.sd_share
    if flags & SPECIAL_CHRONIC:
        rho = p.ch_rho
        x = rho * z + math.sqrt(1.0 - rho * rho) * std_normal(u_sc)
        _put_split(outpatient, j, K_SPECIAL_CHRONIC, math.exp(p.sc_mu + p.sc_sigma * x), cb, oc)
    if on_drugs or (flags & RARE_DISEASE):
        u_sdc, u_rare, _, _ = uniform_quad(key, stream, pid, np.uint64(DRAW_CHRONIC_EXTRA))
        if on_drugs:
            drugs += math.exp(p.sd_mu + p.sd_sigma * std_normal(u_sdc))
        if flags & RARE_DISEASE:
            rare = math.exp(p.rare_mu + p.rare_sigma * std_normal(u_rare))
            drugs += rare
            rare_share[j] = rare / drugs
        _put_split(outpatient, j, K_SPECIAL_DRUGS, drugs, cb, oc)


@nb.njit(cache=True, nogil=True, _nrt=False)
def _fill_events(p: HealthParams, key: np.uint64, stream: np.uint64, person_id: np.ndarray,
                 age: np.ndarray, sex: np.ndarray, scheme: np.ndarray, chronic: np.ndarray,
                 hh: np.ndarray, residence: np.ndarray, severity: np.ndarray, offsets: np.ndarray,
                 level: np.ndarray, out_of_area: np.ndarray, tcm: np.ndarray,
                 adm_cost: np.ndarray, outpatient: np.ndarray, visits: np.ndarray,
                 rare_share: np.ndarray):
    """Pass 2: admissions, general visits and chronic spending of every person."""
    for j in range(person_id.size):
        pid = np.uint64(person_id[j])
        z = severity[j]
        r = residence[hh[j]]
        sch = scheme[j]
        flags = chronic[j]
        first = offsets[j]
        n = offsets[j + 1] - first
        if n > 0:
            cell = SCHEME_GROUP[sch] * N_RESIDENCES + r
            _admissions(p, key, stream, pid, z, cell, first, n, level, out_of_area, tcm, adm_cost)
        index = _table_index(p, age[j], sex[j], flags, sch, r)
        _general_outpatient(p, key, stream, pid, z, index, r, j, outpatient, visits)
        _chronic_outpatient(p, key, stream, pid, z, flags, j, outpatient, rare_share)


def draw_events(households: Households, persons: Persons, spec: PopulationSpec, seed: int,
                replicate: int, params: HealthParams | None = None) -> Events:
    """This year's admissions and outpatient spending for every person of a chunk."""
    p = params if params is not None else health_params(spec)
    key = rng.seed_key(seed)
    stream = rng.stream_id(PURPOSE_HEALTH, replicate)
    n = len(persons)
    severity = np.empty(n, np.float64)
    counts = np.empty(n, np.int64)
    _severity_and_admissions(p, key, stream, persons.person_id, persons.age, persons.sex,
                             persons.scheme, persons.chronic, persons.hh, households.residence,
                             severity, counts)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    m = int(offsets[-1])
    events = Events(
        adm_offsets=offsets, adm_level=np.empty(m, np.int8), adm_out_of_area=np.empty(m, np.bool_),
        adm_tcm=np.empty(m, np.bool_), adm_cost=np.empty((m, 3), np.float64),
        outpatient=np.empty((n, N_KINDS, 3), np.float64), severity=severity,
        visits=np.empty((n, 3), np.int32), rare_share=np.empty(n, np.float64))
    _fill_events(p, key, stream, persons.person_id, persons.age, persons.sex, persons.scheme,
                 persons.chronic, persons.hh, households.residence, severity, offsets,
                 events.adm_level, events.adm_out_of_area, events.adm_tcm, events.adm_cost,
                 events.outpatient, events.visits, events.rare_share)
    return events
