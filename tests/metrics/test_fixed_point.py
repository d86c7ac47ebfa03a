"""Exact accumulation: integer fixed-point sums are order-free; float sums are not."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest

from microsim.metrics.accumulate import SCALE, Accumulators, check_range, fixed


@nb.njit(cache=True)
def fixed_sum(values: np.ndarray, weights: np.ndarray, chunk: int) -> np.int64:
    """Sum chunk by chunk, as the engine does, in fixed point."""
    total = np.int64(0)
    for start in range(0, values.size, chunk):
        part = np.int64(0)
        for i in range(start, min(start + chunk, values.size)):
            part += fixed(values[i] * weights[i])
        total += part
    return total


@nb.njit(cache=True)
def float_sum(values: np.ndarray, weights: np.ndarray, chunk: int) -> float:
    total = 0.0
    for start in range(0, values.size, chunk):
        part = 0.0
        for i in range(start, min(start + chunk, values.size)):
            part += values[i] * weights[i]
        total += part
    return total


def test_fixed_point_sums_do_not_depend_on_order_or_chunking_but_float_sums_do():
    rng = np.random.default_rng(1)
    n = 10_000_000
    values = rng.lognormal(7.0, 1.5, n)          # yuan, heavy-tailed like medical bills
    weights = np.full(n, 494_157_423 / 3_000_000)  # a national weight
    order = rng.permutation(n)
    shuffled_v, shuffled_w = values[order], weights[order]
    floats = {float_sum(values, weights, c) for c in (10_000, 37_000)} | \
        {float_sum(shuffled_v, shuffled_w, 10_000)}
    fixeds = {int(fixed_sum(values, weights, c)) for c in (10_000, 37_000)} | \
        {int(fixed_sum(shuffled_v, shuffled_w, 10_000))}
    # Floating-point addition is not associative: chunking and order change the last bits.
    assert len(floats) > 1
    # Integer sums of fixed-point addends are exact, so every order gives the same total.
    assert len(fixeds) == 1
    # And that total is within the rounding bound of the exactly rounded sum: each addend
    # is off by at most half a unit of 1/1024, so |error| <= n / 2048 (4,883 here, on a
    # total of about 2.9e12: 2e-9 relative); a national run of 1e9 rows stays within 5e5.
    exact = math.fsum(values * weights)
    assert abs(fixeds.pop() / SCALE - exact) <= n / (2 * SCALE)


def test_sums_near_int64_overflow_are_refused():
    acc = Accumulators(hh=np.zeros((1, 2, 5, 3), np.int64), person=np.zeros((1, 2, 5, 4, 3), np.int64))
    acc.hh[0, 0, 0, 0] = 2 ** 62 + 1
    with pytest.raises(OverflowError, match="2\\*\\*62"):
        check_range(acc)
    acc.hh[0, 0, 0, 0] = 2 ** 61
    check_range(acc)   # a large but safe sum passes


def test_fixed_rounds_half_away_from_zero():
    # 1/2048 is exactly half a unit of 1/1024.
    assert fixed(1.0 / 2048) == 1 and fixed(-1.0 / 2048) == -1
    assert fixed(0.3 / 1024) == 0 and fixed(1.7 / 1024) == 2
