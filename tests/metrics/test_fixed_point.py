"""Exact accumulation: the accumulators hold integer fixed-point sums of rounded addends, so\nthey do not depend on the order of households or on how they are cut into chunks."""

from __future__ import annotations

import numpy as np
import pytest

from microsim.metrics.accumulate import (SCALE, Accumulators, Layout, accumulate, check_range,
                                         fixed, income_bin_edges, new_accumulators)
from tests.builders import build, household, person
from tests.metrics.test_accumulate import claims_paying
from tests.metrics.test_properties import part


NATIONAL_WEIGHT = 494_157_423 / 3_000_000      # households per simulated household


def _chunk(order: list[int]):
    """Three one-person households (weights 1/3, 1/3 and a national weight), each with one
    admission entirely out of pocket (1,000, 2,000 and 1,234.5 yuan), in the given order."""
    spec = [(1 / 3, 1_000.0), (1 / 3, 2_000.0), (NATIONAL_WEIGHT, 1_234.5)]
    hh, ps, ev = build([household(weight=spec[i][0],
                                  members=[person(admissions=[("primary", spec[i][1], 0, 0)])])
                        for i in order])
    return hh, ps, ev, claims_paying(ev, 1.0)


def test_accumulated_sums_are_the_hand_rounded_addends_whatever_the_order_or_chunking():
    layout = Layout(income_bin_edges(), (0.10, 0.25), ("line",), np.array([[9_000.0, 9_000.0]]))
    row = layout.hh_stats.index("oop")
    # Each addend is weight x out of pocket in units of 1/1024 yuan, rounded half away from 0:
    #   1,000 / 3 x 1,024 = 341,333.33 -> 341,333
    #   2,000 / 3 x 1,024 = 682,666.67 -> 682,667
    #   164.719141 x 1,234.5 x 1,024 = 208,226,078.27 -> 208,226,078
    # total 209,250,078 units = 204,345.779296875 yuan (exact weighted sum 204,345.7795645).
    expected = 341_333 + 682_667 + 208_226_078
    totals = set()
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        hh, ps, ev, c = _chunk(order)
        whole = new_accumulators(layout)
        accumulate(whole, layout, hh, ps, ev, c)
        for cut in (1, 2):          # the same households in two chunks, merged by addition
            first, second = new_accumulators(layout), new_accumulators(layout)
            accumulate(first, layout, *part(hh, ps, ev, c, 0, cut))
            accumulate(second, layout, *part(hh, ps, ev, c, cut, 3))
            first += second
            assert np.array_equal(first.hh, whole.hh) and np.array_equal(first.person,
                                                                         whole.person)
        totals.add(int(whole.hh[row].sum()))
    assert totals == {expected}
    # Three addends, each within half a unit: |error| <= 3 / 2048 yuan.
    assert abs(expected / SCALE - 204_345.7795645) <= 3 / (2 * SCALE)


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
