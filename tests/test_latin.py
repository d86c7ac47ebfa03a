"""The Latin-word check the Chinese-text tests share (tests/latin.py), on texts whose
answer is known: what it reports, and what it lets through (backticks, paths, microsim)."""

from __future__ import annotations

from tests.latin import latin_words


def test_reports_each_latin_word_in_order():
    assert latin_words("自付医疗费用OOP占SDG指标") == ["OOP", "SDG"]
    assert latin_words("卫生筹资Kakwani指数") == ["Kakwani"]


def test_an_isolated_letter_counts_next_to_chinese_only():
    assert latin_words("B类自付") == ["B"]
    assert latin_words("（B）") == ["B"]           # full-width brackets are Chinese punctuation
    assert latin_words("误差约1e-9") == []          # a letter among digits is not a word


def test_backticks_paths_and_the_product_name_are_allowed():
    assert latin_words("集中指数 `C = 2cov(y,r)/μ`，其中 `y` 为自付") == []
    assert latin_words("见policies/zhejiang/jiaxing_2021.yaml）") == []
    assert latin_words("原文000_55b9bccaf240ac5f.txt。") == []
    assert latin_words("用microsim模拟") == []
    # outside the backticks the check goes on
    assert latin_words("`K` 为负表示regressive") == ["regressive"]
    # a stray backtick opens nothing: the rest is still checked
    assert latin_words("`未闭合 SDG") == ["SDG"]


def test_a_dotted_name_without_a_path_ending_is_not_a_file():
    assert latin_words("按 funds.opening_balance 计算") == ["funds", "opening", "balance"]
