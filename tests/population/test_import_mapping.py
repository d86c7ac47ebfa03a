"""The mapping's value keys: numbers match as numbers whatever their spelling, text after
trimming, and every kind of missing cell as one key."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, strategies as st

from microsim.population.import_mapping import MISSING, normalise


@given(st.integers(min_value=-2**62, max_value=2**62))
def test_a_whole_number_is_one_key_however_it_is_written(n):
    key = normalise(n)
    assert key == ("num", n)
    assert normalise(str(n)) == key and normalise(f"  {n} ") == key
    assert normalise(np.int64(n)) == key
    if abs(n) < 2**53:                     # exactly representable as a float
        assert normalise(float(n)) == key and normalise(np.float64(n)) == key


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_fraction_keeps_its_value(x):
    key = normalise(x)
    assert key[0] == "num" and key[1] == x
    assert normalise(repr(x)) == key


def test_missing_cells_are_one_key_and_text_is_trimmed():
    for value in (None, float("nan"), np.nan, pd.NA, "", "   "):
        assert normalise(value) == MISSING
    assert normalise(" 城镇 ") == ("str", "城镇")
    assert normalise("0940041040") == ("num", 940041040)     # an id written with a leading 0
    assert normalise("nan") == ("str", "nan")                # the word, not a missing value
    assert normalise(True) == ("num", 1) and normalise(False) == ("num", 0)
    assert normalise("inf") == ("num", math.inf)
