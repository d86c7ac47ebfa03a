"""Sums beyond the int64 fixed-point range are refused, including an addend that wrapped."""

from __future__ import annotations

import numpy as np
import pytest

from microsim.metrics.accumulate import Accumulators, check_range, fixed


def _acc() -> Accumulators:
    return Accumulators(hh=np.zeros((1, 2, 5, 3), np.int64),
                        person=np.zeros((1, 2, 5, 4, 3), np.int64))


def test_an_addend_beyond_int64_becomes_its_most_negative_value_and_is_refused():
    # 1e16 yuan-weights x 1024 = 1.0e19 > 2**63 - 1: the conversion gives -2**63, whose
    # absolute value is itself (it does not fit int64 either), so the check compares the
    # minimum with -2**62 instead of taking absolute values.
    assert fixed(1e16) == np.iinfo(np.int64).min
    acc = _acc()
    acc.person[0, 1, 2, 3, 0] = fixed(1e16)
    with pytest.raises(OverflowError, match=r"person accumulator exceeds 2\*\*62"):
        check_range(acc)


def test_large_negative_sums_are_refused_and_safe_ones_pass():
    acc = _acc()
    acc.hh[0, 1, 4, 2] = -(2 ** 62) - 1
    with pytest.raises(OverflowError, match=r"household accumulator exceeds 2\*\*62"):
        check_range(acc)
    acc.hh[0, 1, 4, 2] = -(2 ** 61)     # an income net of out of pocket may be negative
    check_range(acc)
