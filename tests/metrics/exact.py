"""Exact reference computations by sorting households, for populations small enough to rank."""

from __future__ import annotations

import numpy as np


def fractional_ranks(x: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Each household's rank: the mid-point of its cumulative share of persons when households
    are sorted by x; households with equal x share the mid-point of their group."""
    order = np.argsort(x, kind="stable")
    xs, ps = x[order], persons[order]
    cum = np.cumsum(ps)
    total = cum[-1]
    ranks_sorted = (cum - ps / 2.0) / total
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], xs.size]
    for s, e in zip(starts, ends):
        if e - s > 1:
            lo = cum[s] - ps[s]
            ranks_sorted[s:e] = (lo + (cum[e - 1] - lo) / 2.0) / total
    ranks = np.empty_like(ranks_sorted)
    ranks[order] = ranks_sorted
    return ranks


def concentration(y: np.ndarray, x: np.ndarray, persons: np.ndarray) -> float:
    """C = 2 sum(y r) / sum(y) - 1, y a household total (weight x value), r its fractional rank."""
    return float(2.0 * np.sum(y * fractional_ranks(x, persons)) / np.sum(y) - 1.0)


def quintile_sums(y: np.ndarray, x: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """(5,) sums of y by fifth of persons ranked by x, a household straddling a boundary split
    in proportion to its persons."""
    order = np.argsort(x, kind="stable")
    ys, ps = y[order], persons[order]
    upper = np.cumsum(ps) / ps.sum()
    lower = np.r_[0.0, upper[:-1]]
    out = np.zeros(5)
    for k in range(5):
        frac = np.clip(np.minimum(upper, (k + 1) / 5) - np.maximum(lower, k / 5), 0.0, None) \
            / np.where(upper > lower, upper - lower, 1.0)
        out[k] = np.sum(frac * ys)
    return out
