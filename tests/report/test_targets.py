"""Targets: met or not, by comparison and tolerance, worked by hand; the target's wording."""

from __future__ import annotations

import pytest

from microsim.experiment import Target
from microsim.report.content import labels
from microsim.report.numbers import unit_display
from microsim.report.targets import target_text, verdict


def target(**kw) -> Target:
    return Target(indicator="x", document="d.txt", **kw)


@pytest.mark.parametrize("kw, value, met", [
    ({"target": 72}, 72.0, True),                                     # at least, on the line
    ({"target": 72}, 71.99, False),
    ({"target": 90, "tolerance": 2}, 88.0, True),                     # 90 - 2 = 88
    ({"target": 90, "tolerance": 2}, 87.99, False),
    ({"target": 15, "comparison": "at_most"}, 15.0, True),
    ({"target": 15, "comparison": "at_most", "tolerance": 1}, 16.01, False),   # 15 + 1 = 16
    ({"target": 14.29, "comparison": "about", "tolerance": 2}, 12.6, True),    # |12.6 - 14.29| = 1.69
    ({"target": 14.29, "comparison": "about", "tolerance": 2}, 16.3, False),   # 2.01 > 2
    ({"target": 75, "comparison": "about"}, 75.0, True),
    ({"target": 3, "comparison": "at_least"}, float("nan"), None),    # not computed: no verdict
])
def test_verdicts(kw, value, met):
    assert verdict(value, target(**kw)) is met


def test_target_wording_in_both_languages():
    en, zh = labels("en"), labels("zh")
    pct_en = unit_display("percent", en["units"])
    pct_zh = unit_display("percent", zh["units"])
    months = unit_display("months", en["units"])
    assert target_text(target(target=90, tolerance=2), pct_en, en) == "at least 90% (tolerance 2)"
    assert target_text(target(target=90, tolerance=2), pct_zh, zh) == "不低于 90%（容差2）"
    assert target_text(target(target=87, comparison="about", tolerance=1), pct_zh, zh) == "约 87%（±1）"
    assert target_text(target(target=3), months, en) == "at least 3 months"
    persons = unit_display("percent of persons", zh["units"])
    assert target_text(target(target=99), persons, zh) == "不低于 99%（人口）"
