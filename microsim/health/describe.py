"""Simulated utilisation and unit costs beside their cited targets.

Takes: a `PopulationSpec`, a number of synthetic households, a seed and a
replicate. Gives: `HealthDescription`, the statistics of a simulated year of
illness (visits, admissions, costs by level and scheme, spending by category,
the three-way split, the tail of annual spending) and one `Check` per target
of the spec's `health.targets`, each with a standard error.

The population is synthesised and its events drawn chunk by chunk, so memory
is bounded by the chunk (plus one float per person for the tail statistics).
Synthetic households all carry the same weight, so statistics are plain
means over persons and admissions. Standard errors are batch means: households
fall into `N_BATCHES` batches by id, every statistic is computed per batch,
and its standard error is the batch-to-batch sd / sqrt(batches), which keeps
the clustering of persons in households and of admissions in persons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from microsim import codes
from microsim.health.events import (K_DIABETES, K_HYPERTENSION, K_SPECIAL_CHRONIC, K_SPECIAL_DRUGS,
                                    draw_events)
from microsim.health.params import SCHEME_GROUP, UEBMI_GROUP, health_params
from microsim.population.spec import PopulationSpec
from microsim.population.synth import synth_params, synthesize

N_BATCHES = 20
CATEGORIES = ("inpatient", "general_outpatient", "two_disease", "special_chronic", "special_drugs")
SPENDING_THRESHOLDS = (10_000.0, 50_000.0, 100_000.0)
TOP_SHARES = (0.01, 0.05, 0.10)
PERCENTILES = (50, 90, 99)

# Sums accumulated per batch; every statistic is a ratio of two of them.
_SUMS = (
    ["persons", "enrollees.uebmi", "enrollees.urrbmi", "admitted", "admissions",
     "admissions.uebmi", "admissions.urrbmi", "cost.uebmi", "cost.urrbmi",
     "out_of_area", "tcm", "chronic_visits", "visits", "visit_cost"]
    + [f"admissions.{lv}" for lv in codes.LEVEL] + [f"cost.{lv}" for lv in codes.LEVEL]
    + [f"visits.{lv}" for lv in codes.LEVEL] + [f"visit_cost.{lv}" for lv in codes.LEVEL]
    + ["visits.hospital", "visit_cost.hospital"]
    + [f"spending.{c}" for c in CATEGORIES]
    + [f"inpatient.{p}" for p in codes.PART] + [f"outpatient.{p}" for p in codes.PART]
    + [f"above.{int(t)}" for t in SPENDING_THRESHOLDS]
)
_INDEX = {name: i for i, name in enumerate(_SUMS)}


@dataclass(frozen=True)
class Check:
    """One target: the simulated value, its standard error, and whether it is close enough."""

    key: str
    label: str
    simulated: float
    standard_error: float
    target: float
    source: str
    tolerance: float          # allowed |simulated - target|
    tolerance_kind: str       # "relative" or "absolute"

    @property
    def deviation(self) -> float:
        return self.simulated - self.target

    @property
    def ok(self) -> bool:
        return abs(self.deviation) <= self.tolerance


@dataclass
class HealthDescription:
    spec: str
    households: int
    persons: int
    seed: int
    replicate: int
    statistics: dict[str, float] = field(default_factory=dict)
    standard_errors: dict[str, float] = field(default_factory=dict)
    admission_cost_percentiles: dict[str, dict[str, float]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "spec": self.spec, "households": self.households, "persons": self.persons,
            "seed": self.seed, "replicate": self.replicate,
            "statistics": self.statistics, "standard_errors": self.standard_errors,
            "admission_cost_percentiles": self.admission_cost_percentiles,
            "checks": [dict(key=c.key, label=c.label, simulated=c.simulated,
                            standard_error=c.standard_error, target=c.target, source=c.source,
                            tolerance=c.tolerance, tolerance_kind=c.tolerance_kind, ok=c.ok)
                       for c in self.checks],
        }


def _bincount(batch: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(batch, weights=weights, minlength=N_BATCHES).astype(np.float64)


def _accumulate(sums: np.ndarray, hh, ps, ev, p) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Add one chunk into the batch sums; return person totals, their batches and
    admission costs by level."""
    batch_p = (hh.hh_id[ps.hh] % N_BATCHES).astype(np.int64)
    n = len(ps)
    counts = np.diff(ev.adm_offsets)
    person_of_adm = np.repeat(np.arange(n), counts)
    batch_a = batch_p[person_of_adm]
    group_p = SCHEME_GROUP[ps.scheme]
    insured = ps.scheme != codes.UNINSURED
    uebmi_p = insured & (group_p == UEBMI_GROUP)
    urrbmi_p = ps.scheme == codes.URRBMI
    adm_total = ev.adm_cost.sum(axis=1)
    scheme_a = ps.scheme[person_of_adm]

    def add(name, values, batch=batch_p):
        sums[_INDEX[name]] += _bincount(batch, values)

    add("persons", None)
    add("enrollees.uebmi", uebmi_p.astype(float))
    add("enrollees.urrbmi", urrbmi_p.astype(float))
    add("admitted", (counts > 0).astype(float))
    add("admissions", None, batch_a)
    a_uebmi = (SCHEME_GROUP[scheme_a] == UEBMI_GROUP) & (scheme_a != codes.UNINSURED)
    a_urrbmi = scheme_a == codes.URRBMI
    add("admissions.uebmi", a_uebmi.astype(float), batch_a)
    add("admissions.urrbmi", a_urrbmi.astype(float), batch_a)
    add("cost.uebmi", adm_total * a_uebmi, batch_a)
    add("cost.urrbmi", adm_total * a_urrbmi, batch_a)
    add("out_of_area", ev.adm_out_of_area.astype(float), batch_a)
    add("tcm", ev.adm_tcm.astype(float), batch_a)
    by_level = []
    for lv, name in enumerate(codes.LEVEL):
        at = ev.adm_level == lv
        add(f"admissions.{name}", at.astype(float), batch_a)
        add(f"cost.{name}", adm_total * at, batch_a)
        by_level.append(adm_total[at])
    visits = ev.visits.astype(np.float64)
    general = ev.outpatient[:, :3, :].sum(axis=2)
    for lv, name in enumerate(codes.LEVEL):
        add(f"visits.{name}", visits[:, lv])
        add(f"visit_cost.{name}", general[:, lv])
    add("visits.hospital", visits[:, 1] + visits[:, 2])
    add("visit_cost.hospital", general[:, 1] + general[:, 2])
    chronic_visits = (((ps.chronic & codes.HYPERTENSION) > 0) * p["visits_ht"]
                      + ((ps.chronic & codes.DIABETES) > 0) * p["visits_dm"]
                      + ((ps.chronic & codes.SPECIAL_CHRONIC) > 0) * p["visits_sc"])
    add("chronic_visits", chronic_visits)
    add("visits", visits.sum(axis=1) + chronic_visits)
    add("visit_cost", general.sum(axis=1))
    inpatient = np.bincount(person_of_adm, weights=adm_total, minlength=n)
    kinds = ev.outpatient.sum(axis=2)
    by_category = {
        "inpatient": inpatient,
        "general_outpatient": general.sum(axis=1),
        "two_disease": kinds[:, K_HYPERTENSION] + kinds[:, K_DIABETES],
        "special_chronic": kinds[:, K_SPECIAL_CHRONIC],
        "special_drugs": kinds[:, K_SPECIAL_DRUGS],
    }
    total = np.zeros(n)
    for name, values in by_category.items():
        add(f"spending.{name}", values)
        total += values
    for q, part in enumerate(codes.PART):
        add(f"inpatient.{part}", ev.adm_cost[:, q], batch_a)
        add(f"outpatient.{part}", ev.outpatient[:, :, q].sum(axis=1))
    for t in SPENDING_THRESHOLDS:
        add(f"above.{int(t)}", (total > t).astype(float))
    return total, batch_p, by_level


def top_share(totals: np.ndarray, fraction: float) -> float:
    """Share of the sum carried by the top `fraction` of values (at least one value)."""
    if totals.size == 0 or totals.sum() <= 0.0:
        return 0.0
    k = max(1, int(round(fraction * totals.size)))
    top = np.partition(totals, totals.size - k)[totals.size - k:]
    return float(top.sum() / totals.sum())


def _ratios(s: np.ndarray) -> dict[str, np.ndarray]:
    """Every statistic from sums (works on one row or on a batch-by-sum matrix)."""
    def g(name):
        return s[..., _INDEX[name]]

    def ratio(a, b):
        num, den = g(a), g(b)
        return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=den > 0)

    out = {
        "visits_per_person": ratio("visits", "persons"),
        "general_visits_per_person": (g("visits") - g("chronic_visits")) / g("persons"),
        "chronic_visits_per_person": ratio("chronic_visits", "persons"),
        "hospital_cost_per_visit": ratio("visit_cost.hospital", "visits.hospital"),
        "admissions_per_person": ratio("admissions", "persons"),
        "admitted_share": ratio("admitted", "persons"),
        "admissions_per_admitted": ratio("admissions", "admitted"),
        "admissions_per_enrollee.uebmi": ratio("admissions.uebmi", "enrollees.uebmi"),
        "admissions_per_enrollee.urrbmi": ratio("admissions.urrbmi", "enrollees.urrbmi"),
        "cost_per_admission.uebmi": ratio("cost.uebmi", "admissions.uebmi"),
        "cost_per_admission.urrbmi": ratio("cost.urrbmi", "admissions.urrbmi"),
        "out_of_area_share": ratio("out_of_area", "admissions"),
        "tcm_share": ratio("tcm", "admissions"),
    }
    for lv in codes.LEVEL:
        out[f"cost_per_admission_by_level.{lv}"] = ratio(f"cost.{lv}", f"admissions.{lv}")
        out[f"admission_share.{lv}"] = ratio(f"admissions.{lv}", "admissions")
        out[f"cost_per_visit.{lv}"] = ratio(f"visit_cost.{lv}", f"visits.{lv}")
        out[f"visit_share.{lv}"] = ratio(f"visits.{lv}", "visits")
    total = sum(g(f"spending.{c}") for c in CATEGORIES)
    out["spending_per_person"] = total / g("persons")
    for c in CATEGORIES:
        out[f"spending_per_person.{c}"] = ratio(f"spending.{c}", "persons")
        out[f"spending_share.{c}"] = g(f"spending.{c}") / total
    for kind in ("inpatient", "outpatient"):
        bill = sum(g(f"{kind}.{p}") for p in codes.PART)
        for p in codes.PART:
            out[f"{kind}_part_share.{p}"] = g(f"{kind}.{p}") / bill
    for t in SPENDING_THRESHOLDS:
        out[f"share_above.{int(t)}"] = ratio(f"above.{int(t)}", "persons")
    return out


def _checks(spec: PopulationSpec, stats: dict[str, float], errors: dict[str, float]) -> list[Check]:
    targets = spec.data.health.targets
    tol = targets.tolerance
    tree = spec.tree
    items = [
        ("visits_per_person", "outpatient visits per person", targets.visits_per_person, "relative"),
        ("hospital_cost_per_visit", "hospital cost per outpatient visit (yuan)",
         targets.hospital_cost_per_visit, "relative"),
    ]
    for scheme in ("uebmi", "urrbmi"):
        items.append((f"admissions_per_enrollee.{scheme}", f"admissions per {scheme.upper()} member",
                      getattr(targets.admissions_per_enrollee, scheme), "absolute"))
    for scheme in ("uebmi", "urrbmi"):
        items.append((f"cost_per_admission.{scheme}", f"cost per {scheme.upper()} admission (yuan)",
                      getattr(targets.cost_per_admission, scheme), "relative"))
    for lv in codes.LEVEL:
        items.append((f"cost_per_admission_by_level.{lv}", f"cost per {lv} admission (yuan)",
                      getattr(targets.cost_per_admission_by_level, lv), "relative"))
    items.append(("top1_share", "share of spending of the top 1% of persons", targets.top1_share,
                  "absolute"))
    checks = []
    for key, label, target, kind in items:
        if target is None:
            continue
        path = ("health", "targets") + tuple(key.split("."))
        source = tree.sources[path].source if path in tree.sources else "(no source)"
        allowed = tol.relative * abs(target) if kind == "relative" else tol.absolute
        checks.append(Check(key, label, float(stats[key]), float(errors.get(key, math.nan)),
                            float(target), source, float(allowed), kind))
    return checks


def describe_health(spec: PopulationSpec, households: int = 200_000, seed: int = 1,
                    replicate: int = 0, chunk_size: int = 100_000) -> HealthDescription:
    """Simulate `households` synthetic households of the spec and describe their year of illness."""
    if households < N_BATCHES:
        raise ValueError(f"describe needs at least {N_BATCHES} households, got {households}")
    synth = synth_params(spec)
    params = health_params(spec)
    chronic = spec.data.health.chronic
    visit_counts = {"visits_ht": chronic.hypertension.visits_per_year,
                    "visits_dm": chronic.diabetes.visits_per_year,
                    "visits_sc": chronic.special_chronic.visits_per_year}
    sums = np.zeros((N_BATCHES, len(_SUMS)))
    totals, batches = [], []
    level_costs: list[list[np.ndarray]] = [[] for _ in codes.LEVEL]
    for start in range(0, households, chunk_size):
        stop = min(households, start + chunk_size)
        hh, ps = synthesize(spec, start, stop, households, seed, replicate, synth)
        ev = draw_events(hh, ps, spec, seed, replicate, params)
        total, batch, by_level = _accumulate(sums.T, hh, ps, ev, visit_counts)
        totals.append(total)
        batches.append(batch.astype(np.int8))
        for lv in range(len(codes.LEVEL)):
            level_costs[lv].append(by_level[lv])
    all_totals = np.concatenate(totals)
    all_batches = np.concatenate(batches)
    overall = {k: float(v) for k, v in _ratios(sums.sum(axis=0)).items()}
    per_batch = _ratios(sums)
    errors = {k: float(np.nanstd(v, ddof=1) / math.sqrt(N_BATCHES)) for k, v in per_batch.items()}
    for frac in TOP_SHARES:
        key = f"top{int(round(frac * 100))}_share"
        overall[key] = top_share(all_totals, frac)
        batch_values = [top_share(all_totals[all_batches == b], frac) for b in range(N_BATCHES)]
        errors[key] = float(np.std(batch_values, ddof=1) / math.sqrt(N_BATCHES))
    percentiles = {}
    for lv, name in enumerate(codes.LEVEL):
        costs = np.concatenate(level_costs[lv]) if level_costs[lv] else np.zeros(0)
        percentiles[name] = ({"mean": float(costs.mean())} | {
            f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(costs, PERCENTILES))}
            if costs.size else {})
    out = HealthDescription(spec=str(spec.path), households=households, persons=int(all_totals.size),
                            seed=seed, replicate=replicate, statistics=overall,
                            standard_errors=errors, admission_cost_percentiles=percentiles)
    out.checks = _checks(spec, overall, errors)
    return out
