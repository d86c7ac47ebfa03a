"""Health parameters flattened for the event kernels, with the closed forms that keep means exact.

Takes: a `PopulationSpec` (its `age`, `chronic` and `health` parts). Gives:
`HealthParams`, a tuple of numbers and numpy arrays that the numba kernels of
`microsim.health.events` read, and the closed-form helpers it is built with.

What is precomputed here, so that the kernels do one table look-up per person:
- use intensities by (age band, sex, chronic conditions, scheme, residence):
  the age profile times the sex, condition, scheme and residence factors, the
  sex and condition factors normalised by the male share and the condition
  prevalences of the band (so the profile stays "use per person at that age");
- the facility-level cut points of the ordered-probit level choice, solved so
  that the shares of admissions by level equal the spec's shares in every
  (scheme group, residence) cell whatever the severity loading;
- the log-scale locations of admission costs, solved so that the mean cost of
  an admission at each level equals the spec's mean in every cell although
  sicker patients (who are admitted more often, and to higher levels) cost more.
- the spec's `level` factors of a region-year: admission and visit rates and
  every cost are multiplied by them here (log-scale locations shifted by the
  log of the factor), so the kernels never see them.
The equations are in docs/health.md.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from microsim import codes
from microsim.population.spec import PopulationSpec
from microsim.population.uprate import Uprating

N_SEXES = len(codes.SEX)
N_CONDITIONS = 8           # combinations of the hypertension, diabetes and special-chronic flags
N_SCHEMES = len(codes.SCHEME)
N_RESIDENCES = len(codes.RESIDENCE)
N_LEVELS = len(codes.LEVEL)
MAX_AGE_INDEX = 255        # ages above this use the band of this age
UEBMI_GROUP, RESIDENT_GROUP = 0, 1
SCHEME_GROUP = np.array([RESIDENT_GROUP, UEBMI_GROUP, UEBMI_GROUP, RESIDENT_GROUP], np.int64)
MAX_OUT_OF_CATALOGUE_ROOM = 0.9   # class-B + out-of-catalogue never exceed this share of a bill

SUM_TABLE = 64            # visit counts below this look their cost spread up in a table

_STD = NormalDist()


class HealthParams(NamedTuple):
    """A spec's health part as kernel arrays (codes as in `microsim.codes`)."""

    band_of_age: np.ndarray      # int64 (MAX_AGE_INDEX + 1,) age band of each age
    severity_sigma: float
    adm_intensity: np.ndarray    # float64 flat (band, sex, conditions, scheme, residence)
    level_cut: np.ndarray        # float64 (4 cells, 2) cut points on y = loading * z + e
    level_loading: float
    adm_cost_mu: np.ndarray      # float64 (4 cells, 3 levels) log-scale location
    adm_cost_sigma: np.ndarray   # float64 (3,)
    adm_cost_loading: float
    adm_out_of_area: np.ndarray  # float64 (3,) share of admissions out of area, by level
    adm_tcm: float
    adm_class_b: float
    adm_ooc: float
    adm_ooc_slope: float
    adm_ooc_centre: float        # E[z] among admissions, severity_sigma
    op_intensity: np.ndarray     # float64 flat (band, sex, conditions, scheme, residence)
    op_sigma: float
    op_rho: float
    op_level_share: np.ndarray   # float64 (2 residences, 3 levels)
    op_cost_mean: np.ndarray     # float64 (3,) per visit
    op_cost_excess_var: np.ndarray  # float64 (3,) exp(sigma^2) - 1: squared CV of one visit
    op_sum_log_sd: np.ndarray    # float64 (3, SUM_TABLE) log-scale sd of a sum of n visits' costs
    op_class_b: float
    op_ooc: float
    ch_low: np.ndarray           # float64 (2,) hypertension, diabetes
    ch_high: np.ndarray
    ch_log: np.ndarray           # int64 (2,) 1 where log-uniform
    ch_rho: float
    sc_mu: float
    sc_sigma: float
    sd_share: float
    sd_mu: float
    sd_sigma: float
    rare_mu: float
    rare_sigma: float
    ch_class_b: float
    ch_ooc: float


def intensity_index(band: int, sex: int, conditions: int, scheme: int, residence: int) -> int:
    """Position in the flat intensity tables (the kernels compute the same)."""
    return (((band * N_SEXES + sex) * N_CONDITIONS + conditions) * N_SCHEMES + scheme) \
        * N_RESIDENCES + residence


def lognormal_mu(mean: float, sigma: float) -> float:
    """Log-scale location of a lognormal with this arithmetic mean."""
    return math.log(mean) - 0.5 * sigma * sigma


def sex_multipliers(female_ratio: list[float] | None, male_share: float, n_bands: int) -> np.ndarray:
    """(band, sex): men 1 / (m + (1 - m) r), women r times that, so the band's mean is 1."""
    r = np.ones(n_bands) if female_ratio is None else np.asarray(female_ratio, float)
    male = 1.0 / (male_share + (1.0 - male_share) * r)
    return np.stack([male, r * male], axis=1)


def condition_multipliers(factors: tuple[float, float, float],
                          prevalence: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """(band, condition flags 0-7): the product of the factors of the flags that are set,
    divided by its mean in the band (flags are drawn independently in synthesis)."""
    n_bands = prevalence[0].size
    out = np.empty((n_bands, N_CONDITIONS))
    mean = np.ones(n_bands)
    for f, p in zip(factors, prevalence):
        mean *= 1.0 + p * (f - 1.0)
    for c in range(N_CONDITIONS):
        prod = 1.0
        for bit, f in enumerate(factors):
            if c & (1 << bit):
                prod *= f
        out[:, c] = prod / mean
    return out


def intensity_table(age_profile: list[float], female_ratio, male_share: float, condition_factor,
                    prevalence, scheme_factor, residence_factor) -> np.ndarray:
    """The flat table of use per person-year by (band, sex, conditions, scheme, residence)."""
    n_bands = len(age_profile)
    sex = sex_multipliers(female_ratio, male_share, n_bands)
    cond = condition_multipliers((condition_factor.hypertension, condition_factor.diabetes,
                                  condition_factor.special_chronic), prevalence)
    scheme = np.array([getattr(scheme_factor, s) for s in codes.SCHEME])
    res = np.array([residence_factor.urban, residence_factor.rural])
    table = (np.asarray(age_profile, float)[:, None, None, None, None] * sex[:, :, None, None, None]
             * cond[:, None, :, None, None] * scheme[None, None, None, :, None]
             * res[None, None, None, None, :])
    return np.ascontiguousarray(table.ravel())


def level_cuts(shares: list[float], loading: float, severity_sigma: float) -> tuple[float, float]:
    """Cut points c1 <= c2 of y = loading * z + e (e ~ N(0, 1)) so that, among admissions
    (where z ~ N(severity_sigma, 1)), y < c1 with share[0] and y >= c2 with share[2]."""
    centre = loading * severity_sigma
    scale = math.sqrt(1.0 + loading * loading)

    def cut(cum: float) -> float:
        if cum <= 1e-12:
            return -math.inf
        if cum >= 1.0 - 1e-12:
            return math.inf
        return centre + scale * _STD.inv_cdf(cum)

    return cut(shares[0]), cut(shares[0] + shares[1])


def _band_probability(lo: float, hi: float, centre: float, scale: float) -> float:
    upper = 1.0 if hi == math.inf else _STD.cdf((hi - centre) / scale)
    lower = 0.0 if lo == -math.inf else _STD.cdf((lo - centre) / scale)
    return max(upper - lower, 0.0)


def level_cost_log_mean_loading(cuts: tuple[float, float], loading: float, severity_sigma: float,
                                cost_loading: float) -> np.ndarray:
    """log E[exp(cost_loading * z) | admission at each level], z ~ N(severity_sigma, 1) among
    admissions: exp(L s + L^2 / 2) P'(level) / P(level), P' with z ~ N(s + L, 1)."""
    s, lam = severity_sigma, cost_loading
    scale = math.sqrt(1.0 + loading * loading)
    bounds = (-math.inf, cuts[0], cuts[1], math.inf)
    out = np.zeros(N_LEVELS)
    for lv in range(N_LEVELS):
        p = _band_probability(bounds[lv], bounds[lv + 1], loading * s, scale)
        p_tilted = _band_probability(bounds[lv], bounds[lv + 1], loading * (s + lam), scale)
        if p > 0.0 and p_tilted > 0.0:
            out[lv] = lam * s + 0.5 * lam * lam + math.log(p_tilted / p)
    return out


def sum_log_sd(sigmas: np.ndarray, n_max: int) -> np.ndarray:
    """(level, n): log-scale sd of a lognormal with the mean and variance of a sum of n
    independent LN(., sigma) costs (Fenton-Wilkinson): sqrt(ln(1 + (e^sigma^2 - 1) / n));
    column 0 is unused."""
    n = np.arange(n_max, dtype=np.float64)
    n[0] = 1.0
    return np.sqrt(np.log1p(np.expm1(np.asarray(sigmas, float) ** 2)[:, None] / n[None, :]))


def _band_lookup(bands: list[int]) -> np.ndarray:
    ages = np.arange(MAX_AGE_INDEX + 1)
    return (np.searchsorted(np.asarray(bands), ages, side="right") - 1).astype(np.int64)


def health_params(spec: PopulationSpec, up: Uprating | None = None) -> HealthParams:
    """Flatten the spec's health part for the kernels (pure arithmetic, no draws). `up` moves
    use and costs from the spec's year to the simulated year (population/uprate.py): its
    factors multiply the spec's `level` factors."""
    d = spec.data
    h = d.health
    ip, op, ch = h.inpatient, h.outpatient, h.chronic
    s = float(h.severity_sigma)
    lv_use_ip, lv_use_op = float(h.level.admissions), float(h.level.visits)
    lv_cost_ip, lv_cost_op = float(h.level.inpatient_cost), float(h.level.outpatient_cost)
    if up is not None and not up.identity:
        lv_use_ip *= up.admissions
        lv_use_op *= up.visits
        lv_cost_ip *= up.inpatient_cost
        lv_cost_op *= up.outpatient_cost
    log_ip, log_op = math.log(lv_cost_ip), math.log(lv_cost_op)
    prevalence = (np.asarray(d.chronic.hypertension, float), np.asarray(d.chronic.diabetes, float),
                  np.asarray(d.chronic.special_chronic, float))
    male = float(d.age.male_share)

    beta = float(ip.severity_level_loading)
    lam = float(ip.severity_cost_loading)
    sigmas = np.array([getattr(ip.cost, lv).sigma for lv in codes.LEVEL], float)
    base_mu = np.array([lognormal_mu(getattr(ip.cost, lv).mean, getattr(ip.cost, lv).sigma)
                        for lv in codes.LEVEL])
    cuts = np.empty((2 * N_RESIDENCES, 2))
    mu = np.empty((2 * N_RESIDENCES, N_LEVELS))
    for group, name in ((UEBMI_GROUP, "uebmi"), (RESIDENT_GROUP, "urrbmi")):
        for r, res in enumerate(codes.RESIDENCE):
            shares = getattr(getattr(ip.level_shares, name), res)
            cell = group * N_RESIDENCES + r
            cuts[cell] = level_cuts(shares, beta, s)
            mu[cell] = base_mu - level_cost_log_mean_loading(tuple(cuts[cell]), beta, s, lam) \
                + log_ip

    def mu_of(cost) -> float:
        return lognormal_mu(cost.mean, cost.sigma) + log_op

    op_sigmas = np.array([getattr(op.cost_per_visit, lv).sigma for lv in codes.LEVEL], float)
    return HealthParams(
        band_of_age=_band_lookup(d.age.bands),
        severity_sigma=s,
        adm_intensity=lv_use_ip * intensity_table(ip.admissions_per_person, ip.female_ratio, male,
                                                  ip.condition_factor, prevalence,
                                                  ip.scheme_factor, ip.residence_factor),
        level_cut=cuts,
        level_loading=beta,
        adm_cost_mu=mu,
        adm_cost_sigma=sigmas,
        adm_cost_loading=lam,
        adm_out_of_area=np.array([getattr(ip.out_of_area_share, lv) for lv in codes.LEVEL], float),
        adm_tcm=float(ip.tcm_share),
        adm_class_b=float(ip.split.class_b_share),
        adm_ooc=float(ip.split.out_of_catalogue_share),
        adm_ooc_slope=float(ip.split.severity_slope),
        adm_ooc_centre=s,
        op_intensity=lv_use_op * intensity_table(op.visits_per_person, op.female_ratio, male,
                                                 op.condition_factor, prevalence,
                                                 op.scheme_factor, op.residence_factor),
        op_sigma=float(op.intensity_sigma),
        op_rho=float(op.severity_correlation),
        op_level_share=np.array([op.level_shares.urban, op.level_shares.rural], float),
        op_cost_mean=lv_cost_op * np.array([getattr(op.cost_per_visit, lv).mean
                                            for lv in codes.LEVEL], float),
        op_cost_excess_var=np.expm1(op_sigmas ** 2),
        op_sum_log_sd=sum_log_sd(op_sigmas, SUM_TABLE),
        op_class_b=float(op.split.class_b_share),
        op_ooc=float(op.split.out_of_catalogue_share),
        ch_low=lv_cost_op * np.array([ch.hypertension.low, ch.diabetes.low], float),
        ch_high=lv_cost_op * np.array([ch.hypertension.high, ch.diabetes.high], float),
        ch_log=np.array([ch.hypertension.distribution == "log_uniform",
                         ch.diabetes.distribution == "log_uniform"], np.int64),
        ch_rho=float(ch.severity_correlation),
        sc_mu=mu_of(ch.special_chronic), sc_sigma=float(ch.special_chronic.sigma),
        sd_share=float(ch.special_drugs_share),
        sd_mu=mu_of(ch.special_drugs), sd_sigma=float(ch.special_drugs.sigma),
        rare_mu=mu_of(ch.rare_disease), rare_sigma=float(ch.rare_disease.sigma),
        ch_class_b=float(ch.split.class_b_share),
        ch_ooc=float(ch.split.out_of_catalogue_share),
    )
