"""Describe a population: every target of its spec beside the value the population gives.

Takes: a population spec and a number of households to synthesise (or a
microdata folder and the spec to compare it with). Gives: `TargetRow`s
(name, target, simulated, relative and absolute error, tolerance, verdict,
source), computed from the households and persons themselves, never from the
model's formulas, so they check synthesis end to end.

Statistics (the `statistic` of a target, see `spec.STATISTICS`) follow NBS
conventions where NBS publishes them: income and consumption means are over
persons (total / persons); the median and the quintile (五等份) groups rank
households by per-capita income, with weights, and a quintile's figure is its
total income over its persons. A household straddling a fifth's boundary goes
to the fifth that holds the midpoint of its weight.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from microsim import codes
from microsim.population.microdata import Microdata, open_microdata, read_households
from microsim.population.spec import PopulationSpec, TargetSpec, parse_ages
from microsim.population.synth import synth_params, synthesize
from microsim.population.tables import Households, Persons

HOUSEHOLD_STATS = ("households", "mean_household_size", "income_mean", "income_median",
                   "income_quintile_mean", "consumption_mean", "engel_coefficient", "urban_share")


@dataclass(frozen=True)
class TargetRow:
    name: str
    statistic: str
    target: float
    simulated: float
    standard_error: float   # sampling standard error of `simulated` (batch means)
    relative_error: float
    absolute_error: float
    kind: str           # "share" (tolerance in points) or "level" (relative tolerance)
    tolerance: float
    ok: bool
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


BATCHES = 10   # interleaved household subsets (hh_id mod 10) for batch-means standard errors


def _person_mask(t: TargetSpec, h: Households, p: Persons, numerator: bool) -> np.ndarray:
    """Persons of the target's group (and, for the numerator, matching its filters)."""
    res = h.residence[p.hh]
    mask = np.ones(len(p), bool) if t.residence == "all" else res == codes.RESIDENCE.index(t.residence)
    if t.among == "insured":
        mask &= p.scheme != codes.UNINSURED
    if not numerator:
        return mask
    if t.ages is not None:
        lo, hi = parse_ages(t.ages)
        mask &= (p.age >= lo) & (p.age < hi)
    if t.sex is not None:
        mask &= p.sex == codes.SEX.index(t.sex)
    if t.status is not None:
        mask &= h.status[p.hh] == codes.STATUS.index(t.status)
    if t.scheme == "insured":
        mask &= p.scheme != codes.UNINSURED
    elif t.scheme is not None:
        mask &= p.scheme == codes.SCHEME.index(t.scheme)
    if t.condition == "disabled":
        mask &= p.disabled
    elif t.condition is not None:
        bit = 1 << codes.CHRONIC.index(t.condition)
        mask &= (p.chronic & bit) != 0
    if t.supplementary is not None:
        mask &= p.supplementary == t.supplementary
    return mask


class _Tally:
    """Person sums per target and batch, and the household columns household statistics need."""

    def __init__(self, targets: list[TargetSpec]):
        self.person_targets = [t for t in targets if t.statistic not in HOUSEHOLD_STATS]
        self.num = np.zeros((len(self.person_targets), BATCHES))
        self.den = np.zeros((len(self.person_targets), BATCHES))
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                                  ("weight", "residence", "size", "income",
                                                   "consumption", "food", "batch")}

    def add(self, h: Households, p: Persons) -> None:
        w = h.weight[p.hh]
        batch = (h.hh_id % BATCHES).astype(np.int64)
        pb = batch[p.hh]
        for i, t in enumerate(self.person_targets):
            m = _person_mask(t, h, p, True)
            self.num[i] += np.bincount(pb[m], weights=w[m], minlength=BATCHES)
            m = _person_mask(t, h, p, False)
            self.den[i] += np.bincount(pb[m], weights=w[m], minlength=BATCHES)
        for k in self.cols:
            self.cols[k].append(batch if k == "batch" else np.asarray(getattr(h, k)))

    def household_values(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.cols.items()}


def _sorted_columns(v: dict[str, np.ndarray], residence: str) -> dict[str, np.ndarray]:
    """The households of `residence`, sorted by per-capita income (sorted once, reused per batch)."""
    keep = np.ones(v["weight"].size, bool) if residence == "all" else \
        v["residence"] == codes.RESIDENCE.index(residence)
    size = v["size"][keep].astype(np.float64)
    pc = v["income"][keep] / size
    order = np.argsort(pc, kind="stable")
    out = {k: v[k][keep][order] for k in ("weight", "residence", "income", "consumption", "food",
                                          "batch")}
    out["size"] = size[order]
    out["pc"] = pc[order]
    return out


def _batches(s: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    out = []
    for b in range(BATCHES):
        m = s["batch"] == b
        out.append({k: a[m] for k, a in s.items()})
    return out


def _household_statistic(t: TargetSpec, s: dict[str, np.ndarray], scale: float = 1.0) -> float:
    """A household statistic over sorted columns `s` (weights times `scale`)."""
    w = s["weight"] * scale
    if w.size == 0:
        return float("nan")
    size = s["size"]
    persons = (w * size).sum()
    if t.statistic == "households":
        return float(w.sum())
    if t.statistic == "mean_household_size":
        return float(persons / w.sum())
    if t.statistic == "urban_share":
        return float((w * size)[s["residence"] == codes.URBAN].sum() / persons)
    if t.statistic == "income_mean":
        return float((w * s["income"]).sum() / persons)
    if t.statistic == "consumption_mean":
        return float((w * s["consumption"]).sum() / persons)
    if t.statistic == "engel_coefficient":
        return float((w * s["food"]).sum() / (w * s["consumption"]).sum())
    cum = np.cumsum(w)
    if t.statistic == "income_median":
        return float(s["pc"][np.searchsorted(cum, 0.5 * cum[-1])])
    if t.statistic == "income_quintile_mean":
        mid = (cum - 0.5 * w) / cum[-1]
        k = int(t.quintile[1]) - 1
        m = (mid >= k / 5) & (mid < (k + 1) / 5) if k < 4 else mid >= 0.8
        persons_k = (w * size)[m].sum()
        return float((w * size * s["pc"])[m].sum() / persons_k) if persons_k > 0 else float("nan")
    raise ValueError(f"not a household statistic: {t.statistic}")


def _batch_se(per_batch: np.ndarray) -> float:
    """Standard error of the full-sample statistic from statistics of equal random batches."""
    ok = per_batch[np.isfinite(per_batch)]
    if ok.size < 2:
        return float("nan")
    return float(ok.std(ddof=1) / np.sqrt(ok.size))


def measure(targets: list[TargetSpec], chunks) -> dict[str, tuple[float, float]]:
    """(value, standard error) of every target's statistic over (Households, Persons) chunks.

    Standard errors are batch means over ten interleaved household subsets (hh_id mod 10),
    each evaluated as a population of its own (weights x 10).
    """
    tally = _Tally(targets)
    for h, p in chunks:
        tally.add(h, p)
    out: dict[str, tuple[float, float]] = {}
    for i, t in enumerate(tally.person_targets):
        num, den = tally.num[i], tally.den[i]
        if t.statistic == "persons":
            out[t.name] = (float(num.sum()), _batch_se(num * BATCHES))
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                per_batch = num / den
            value = float(num.sum() / den.sum()) if den.sum() > 0 else float("nan")
            out[t.name] = (value, _batch_se(per_batch))
    v = tally.household_values()
    prepared: dict[str, tuple] = {}
    for t in targets:
        if t.statistic in HOUSEHOLD_STATS:
            if t.residence not in prepared:
                full = _sorted_columns(v, t.residence)
                prepared[t.residence] = (full, _batches(full))
            full, parts = prepared[t.residence]
            value = _household_statistic(t, full)
            per_batch = np.array([_household_statistic(t, part, BATCHES) for part in parts])
            out[t.name] = (value, _batch_se(per_batch))
    return out


def compare(spec: PopulationSpec, simulated: dict[str, tuple[float, float]]) -> list[TargetRow]:
    """Target rows in the spec's order, with errors and the tolerance verdict."""
    tol = spec.data.tolerance
    rows = []
    for i, t in enumerate(spec.data.targets):
        sim, se = simulated[t.name]
        rel = (sim - t.target) / t.target if t.target != 0 else (0.0 if sim == 0 else float("inf"))
        absolute = sim - t.target
        if t.kind == "share":
            tolerance = tol.share_points
            ok = bool(abs(absolute) <= tolerance)
        else:
            tolerance = tol.relative
            ok = bool(abs(rel) <= tolerance)
        source = spec.tree.sources.get(("targets", str(i), "target"))
        rows.append(TargetRow(t.name, t.statistic, float(t.target), float(sim), float(se),
                              float(rel), float(absolute), t.kind, float(tolerance), ok,
                              source.source if source else ""))
    return rows


def synthetic_chunks(spec: PopulationSpec, households: int, seed: int, replicate: int,
                     chunk: int = 250_000):
    params = synth_params(spec)
    for start in range(0, households, chunk):
        yield synthesize(spec, start, min(start + chunk, households), households, seed, replicate,
                         params)


def microdata_chunks(md: Microdata, chunk: int = 250_000):
    for start in range(0, md.n_households, chunk):
        yield read_households(md, start, min(start + chunk, md.n_households))


def describe_spec(spec: PopulationSpec, households: int, seed: int = 0,
                  replicate: int = 0) -> list[TargetRow]:
    """Synthesise `households` households and compare them with the spec's targets."""
    return compare(spec, measure(list(spec.data.targets),
                                 synthetic_chunks(spec, households, seed, replicate)))


def describe_microdata(folder: str | Path, spec: PopulationSpec | None = None) -> list[TargetRow]:
    """Compare a microdata folder with a spec's targets (default: the spec embedded by synth)."""
    md = open_microdata(folder)
    spec = spec or md.embedded_spec()
    if spec is None:
        from microsim.errors import InputError
        raise InputError(folder, "this microdata carries no population spec; name one with --spec")
    return compare(spec, measure(list(spec.data.targets), microdata_chunks(md)))
