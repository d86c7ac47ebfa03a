"""Figures: labels wrap without splitting numbers, and Chinese figures use a CJK font (no
empty boxes: matplotlib warns of every glyph its fonts lack)."""

from __future__ import annotations

import warnings

import matplotlib
import pytest

from microsim.report.figures import _new, _render, _style, wrap


def test_labels_wrap_between_words_and_characters_never_inside_a_number():
    assert wrap("居民住院报销比例提高5个百分点", "zh", 16) == "居民住院报销比例\n提高5个百分点"
    # 16 columns: 6 characters (12) + "（" (2) = 14, "2023" would pass 16 but never follows an
    # opening bracket on a new line, and a number is never split.
    assert "2023" in wrap("全国基准政策（2023）", "zh", 16).split("\n")[-1]
    assert wrap("Catastrophic health spending, OOP above 10% of consumption", "en", 28) == \
        "Catastrophic health\nspending, OOP above 10% of\nconsumption"
    assert wrap("short", "en", 28) == "short"



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chinese_text_draws_with_no_missing_glyphs(lang):
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(_style(lang)):
        warnings.simplefilter("always")
        fig = _new(3, 2)
        ax = fig.subplots()
        ax.set_title("因病致贫发生率（低保线，收入）")
        ax.set_xlabel("惠民保 supplementary (特困, 低保)")
        png = _render(fig).png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing
