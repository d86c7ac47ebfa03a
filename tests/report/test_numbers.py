"""Numbers as printed: units in each language, digits, signs and intervals, worked by hand."""

from __future__ import annotations

import pytest

from microsim.report.content import labels, value_cells
from microsim.report.numbers import (MAX_DIGITS, clip_interval, compact, digits_for, interval,
                                     number, resolving_digits, unit_display)


def test_numbers_have_separators_signs_and_no_negative_zero():
    assert number(1234.567, 0) == "1,235"
    assert number(-1234.567, 1) == "-1,234.6"
    assert number(0.126, 2, signed=True) == "+0.13"
    assert number(-0.004, 2, signed=True) == "0.00"        # rounds to zero: no sign
    assert number(float("nan"), 2, "zh") == "—"
    assert number(None, 2, "en") == "n/a"
    assert interval(1.0, float("nan"), 2) == ""            # one replicate: no interval
    assert interval(-0.52, -0.21, 2, signed=True) == "[-0.52, -0.21]"


def test_percentages_get_one_decimal_from_ten_up_and_two_below():
    pct = unit_display("percent", labels("en")["units"])
    assert digits_for(pct, [9.994, 3.2]) == 2
    assert digits_for(pct, [10.0, 3.2]) == 1
    assert digits_for(pct, [float("nan")]) == 2


def test_chinese_units_count_money_in_yi_yuan_and_people_in_wan():
    zh = labels("zh")["units"]
    bn = unit_display("billion yuan per year", zh)
    assert (bn.label, bn.scale, bn.digits) == ("亿元/年", 10.0, 1)
    # -1.2734 billion yuan = -12.734 亿元 -> "-12.7" (one decimal), interval scaled the same way.
    (cell,) = value_cells([(-1.2734, -1.32, -1.2268)], bn, "zh")
    assert (cell.text, cell.interval) == ("-12.7", "[-13.2, -12.3]")
    people = unit_display("million persons", zh)
    (cell,) = value_cells([(1.2346, 1.2, 1.3)], people, "zh")   # 1.2346 M = 123.46 万人
    assert cell.text == "123.5"
    en = unit_display("billion yuan per year", labels("en")["units"])
    assert (en.label, en.scale) == ("bn yuan/year", 1.0)


@pytest.mark.parametrize("units, en, zh", [
    ("percent of persons", "% of persons", "%（人口）"),
    ("percentage points (percent)", "pp", "百分点"),          # a rural - urban difference
    ("months", "months", "月"),
    ("a unit nobody knows", "a unit nobody knows", "a unit nobody knows"),
])
def test_units_are_translated(units, en, zh):
    assert unit_display(units, labels("en")["units"]).label == en
    assert unit_display(units, labels("zh")["units"]).label == zh


def test_effects_of_percentages_are_in_percentage_points():
    assert unit_display("percent", labels("en")["units"]).effect_label == "pp"
    assert unit_display("percent of persons", labels("zh")["units"]).effect_label == "百分点"


def test_stated_numbers_drop_trailing_zeros():
    assert [compact(v) for v in (72.0, 87.5, 0.35, 1000.0, 14.2857)] == ["72", "87.5", "0.35",
                                                                         "1,000", "14.29"]


def test_decimals_grow_until_an_interval_no_longer_collapses():
    yuan = unit_display("yuan per person per year", labels("en")["units"])   # 0 decimals
    # -33.01 [-33.24, -32.78] at 0 decimals is "-33 [-33, -33]"; at 1 decimal the three read
    # -33.0, -33.2, -32.8: all apart, so 1 decimal and no more.
    (cell,) = value_cells([(-33.01, -33.24, -32.78)], yuan, "en")
    assert (cell.text, cell.interval) == ("-33.0", "[-33.2, -32.8]")
    # A row keeps common decimals: the second cell needs 2 (1.0 vs 1.0 at 1 decimal for
    # 1.04 and 1.01), so the first prints 2 as well.
    cells = value_cells([(100.0, 90.0, 110.0), (1.04, 1.01, 1.07)], yuan, "en")
    assert [(c.text, c.interval) for c in cells] == [("100.00", "[90.00, 110.00]"),
                                                     ("1.04", "[1.01, 1.07]")]
    # An interval that is really one point keeps the unit's digits.
    (cell,) = value_cells([(5.0, 5.0, 5.0)], yuan, "en")
    assert (cell.text, cell.interval) == ("5", "[5, 5]")
    # A difference narrower than 10^-4 stops at MAX_DIGITS (4), not at ever more decimals.
    assert MAX_DIGITS == 4
    assert resolving_digits([(1.0, 1.0 - 1e-9, 1.0 + 1e-9)], 0) == 4
    # Bounds that differ from each other but not from the value: 2.5 [2.5, 2.6] at 1 decimal
    # would hide that the lower bound is below the value (2.49 vs 2.50).
    assert resolving_digits([(2.5, 2.49, 2.6)], 1) == 2
    assert resolving_digits([(float("nan"), 1.0, 2.0)], 1) == 1          # no value: nothing to tell


def test_intervals_of_shares_of_persons_stay_between_0_and_100():
    share = unit_display("percent of persons", labels("en")["units"])
    assert share.bounds == (0.0, 100.0)
    # mean 0.3%, Student t interval [-0.12, 0.72]: a share cannot be negative -> [0.00, 0.72].
    (cell,) = value_cells([(0.3, -0.12, 0.72)], share, "en")
    assert (cell.text, cell.interval, cell.clipped) == ("0.30", "[0.00, 0.72]", True)
    (cell,) = value_cells([(99.6, 99.1, 100.3)], share, "zh")        # 100.3 -> 100
    assert (cell.text, cell.interval, cell.clipped) == ("99.6", "[99.1, 100.0]", True)
    (cell,) = value_cells([(40.0, 38.0, 42.0)], share, "en")
    assert (cell.interval, cell.clipped) == ("[38.0, 42.0]", False)
    # A change of a share (a signed difference) may be negative: never clipped.
    (cell,) = value_cells([(-0.3, -0.72, 0.12)], share, "en", signed=True)
    assert (cell.interval, cell.clipped) == ("[-0.72, +0.12]", False)
    # Shares of a spending total (unit "percent", e.g. OOP over income of a poor quintile)
    # are not bounded by definition and are left as computed.
    assert unit_display("percent", labels("en")["units"]).bounds is None
    assert clip_interval(-1.0, 101.0, unit_display("percent", labels("en")["units"])) == \
        (-1.0, 101.0, False)


def test_the_intervals_sentence_says_what_they_cover_in_both_languages():
    en, zh = labels("en"), labels("zh")
    assert "simulation noise only" in en["intervals_cover"]
    assert "Student t" in en["intervals_cover"] and "docs/sensitivity.md" in en["intervals_cover"]
    assert "模拟的随机误差" in zh["intervals_cover"] and "docs/sensitivity.md" in zh["intervals_cover"]
    assert en["unit_and_change"].format(unit="% of persons", change="pp") == \
        "% of persons; changes in pp"
    assert zh["unit_and_change"].format(unit="%（人口）", change="百分点") == "%（人口）；变化以百分点计"


def test_an_interval_of_rounding_noise_asks_for_no_extra_decimals():
    from microsim.report.numbers import resolving_digits
    # replicates that all give 60: mean 60, bounds 60 -/+ 7e-15 from the t interval's arithmetic
    assert resolving_digits([(60.0, 60.0 - 7e-15, 60.0 + 7e-15)], 1) == 1
    # a real width still resolves: 11.904 [11.868, 11.940] needs 2 decimals to part its bounds
    assert resolving_digits([(11.904, 11.868, 11.940), (60.0, 60.0 - 7e-15, 60.0 + 7e-15)], 1) == 2
