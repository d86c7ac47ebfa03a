"""Numbers as printed: units in each language, digits, signs and intervals, worked by hand."""

from __future__ import annotations

import pytest

from microsim.report.content import labels, value_cells
from microsim.report.numbers import compact, digits_for, interval, number, unit_display


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
