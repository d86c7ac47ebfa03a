"""Indicators: the catalogue's ratios computed from merged accumulators, by group.

Takes: the indicator catalogue (`catalogue.yaml`), a `Layout`, and merged
`Accumulators` for each (scenario, replicate). Gives: for each indicator an
array (scenario, replicate, residence, quintile, status) with `all` margins,
and its attributes (units, names in English and Chinese, definition, source).

Quintiles are fifths of persons ranked by household per-capita income,
computed per replicate from the merged income-bin histogram (every scenario
shares its replicate's population). A bin that straddles a quintile boundary
is split in proportion to its persons, as if they were spread evenly across
the bin; the bins are 4.6% wide, which bounds how far a boundary can move
(see tests/metrics for the measured error against exact ranking).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microsim import codes
from microsim.errors import InputError
from microsim.metrics.accumulate import SCALE, Accumulators, Layout
from microsim.yamltree import load_tree

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
N_QUINTILES = 5
REF = re.compile(r"^(-?)(hh|person)(?:\[([a-z_,]+)\])?:(.+)$")


@dataclass(frozen=True)
class Term:
    sign: float
    table: str                 # "hh" or "person"
    stat: str
    schemes: tuple[int, ...]   # person terms: schemes summed


@dataclass(frozen=True)
class Indicator:
    name: str
    long_name: str
    long_name_zh: str
    units: str
    numerator: tuple[Term, ...]
    denominator: tuple[Term, ...]
    scale: float
    definition: str
    source: str


@dataclass(frozen=True)
class Catalogue:
    che_thresholds: tuple[float, float]
    indicators: tuple[Indicator, ...]

    def names(self) -> list[str]:
        return [i.name for i in self.indicators]


def _term(ref: str, file: str, key: str) -> Term:
    m = REF.match(ref.strip())
    if not m:
        raise InputError(file, f"a term looks like 'hh:STAT' or 'person[schemes]:STAT'", key=key,
                         value=ref, has_value=True)
    sign, table, schemes, stat = m.groups()
    ids: tuple[int, ...] = tuple(range(len(codes.SCHEME)))
    if schemes:
        try:
            ids = tuple(codes.SCHEME.index(s) for s in schemes.split(","))
        except ValueError:
            raise InputError(file, f"unknown scheme in {ref!r}", key=key) from None
    return Term(-1.0 if sign else 1.0, table, stat, ids)


def load_catalogue(line_names: tuple[str, ...], path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read the catalogue and expand `{line}` indicators for each poverty line."""
    tree = load_tree(path, "indicator catalogue")
    raw = tree.values
    thresholds = tuple(float(x) for x in raw["parameters"]["che_thresholds"])
    out = []
    for name, spec in raw["indicators"].items():
        lines = line_names if "{line}" in name else ("",)
        for line in lines:
            sub = (lambda s: s.replace("{line}", line)) if line else (lambda s: s)
            key = f"indicators.{name}"
            out.append(Indicator(
                name=sub(name), long_name=sub(spec["long_name"]),
                long_name_zh=sub(spec["long_name_zh"]), units=spec["units"],
                numerator=tuple(_term(sub(t), str(path), key) for t in spec["numerator"]),
                denominator=tuple(_term(sub(t), str(path), key) for t in spec["denominator"]),
                scale=float(spec["scale"]), definition=sub(spec["definition"]),
                source=spec["source"]))
    return Catalogue((thresholds[0], thresholds[1]), tuple(out))


def quintile_weights(persons_by_bin: np.ndarray) -> np.ndarray:
    """(bins, 5): the fraction of each income bin's persons that falls in each quintile."""
    total = persons_by_bin.sum()
    weights = np.zeros((persons_by_bin.size, N_QUINTILES))
    if total <= 0:
        return weights
    upper = np.cumsum(persons_by_bin) / total
    lower = np.concatenate([[0.0], upper[:-1]])
    width = upper - lower
    for k in range(N_QUINTILES):
        lo, hi = k / N_QUINTILES, (k + 1) / N_QUINTILES
        inside = np.clip(np.minimum(upper, hi) - np.maximum(lower, lo), 0.0, None)
        weights[:, k] = np.divide(inside, width, out=np.zeros_like(width), where=width > 0)
    return weights


def group_sums(grid: np.ndarray, qweights: np.ndarray) -> np.ndarray:
    """(stats, r, s, bins) -> (stats, 3 residence, 6 quintile, 6 status) with `all` margins."""
    n_stats, n_r, n_s, _ = grid.shape
    by_q = grid @ qweights                                # (stats, r, s, 5)
    out = np.zeros((n_stats, n_r + 1, N_QUINTILES + 1, n_s + 1))
    out[:, :n_r, :N_QUINTILES, :n_s] = by_q.transpose(0, 1, 3, 2)
    out[:, :n_r, N_QUINTILES, :n_s] = grid.sum(axis=3)    # exact `all` quintile margin
    out[:, n_r] = out[:, :n_r].sum(axis=1)
    out[:, :, :, n_s] = out[:, :, :, :n_s].sum(axis=3)
    return out


def _sum_terms(terms, hh_sums, person_sums, hh_index, person_index) -> np.ndarray:
    total = 0.0
    for t in terms:
        if t.table == "hh":
            total = total + t.sign * hh_sums[hh_index[t.stat]]
        else:
            total = total + t.sign * person_sums[t.schemes][person_index[t.stat]]
    return total


def compute(catalogue: Catalogue, layout: Layout, acc: Accumulators) -> dict[str, np.ndarray]:
    """Every indicator for one (scenario, replicate): arrays (3 residence, 6 quintile, 6 status)."""
    hh_index = {s: i for i, s in enumerate(layout.hh_stats)}
    person_index = {s: i for i, s in enumerate(layout.person_stats)}
    for ind in catalogue.indicators:
        for t in ind.numerator + ind.denominator:
            index = hh_index if t.table == "hh" else person_index
            if t.stat not in index:
                raise InputError(CATALOGUE_PATH, f"unknown statistic {t.stat!r}",
                                 key=f"indicators.{ind.name}")
    hh = acc.hh.astype(np.float64) / SCALE
    person = acc.person.astype(np.float64) / SCALE
    qw = quintile_weights(hh[hh_index["persons"]].sum(axis=(0, 1)))
    hh_sums = group_sums(hh, qw)
    needed = {t.schemes for i in catalogue.indicators for t in i.numerator + i.denominator
              if t.table == "person"}
    person_sums = {sch: group_sums(person[:, :, :, list(sch), :].sum(axis=3), qw) for sch in needed}
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for ind in catalogue.indicators:
            num = _sum_terms(ind.numerator, hh_sums, person_sums, hh_index, person_index)
            if not ind.denominator:
                out[ind.name] = ind.scale * num
                continue
            den = _sum_terms(ind.denominator, hh_sums, person_sums, hh_index, person_index)
            value = np.where(den != 0, ind.scale * num / np.where(den != 0, den, 1.0), np.nan)
            out[ind.name] = value
    return out
