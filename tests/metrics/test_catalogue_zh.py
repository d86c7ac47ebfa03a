"""The Chinese definitions of the indicator catalogue: every indicator has one, it holds no
Latin word outside backticks, and it fills the same placeholders as the English one, in
their Chinese variants, so the Chinese report shows its definitions in Chinese only."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from microsim.metrics.indicators import CATALOGUE_PATH, load_catalogue
from tests.latin import latin_words

PLACEHOLDER = re.compile(r"\{(\w+)\}")
INDICATORS = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))["indicators"]


def _placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def _as_chinese(names: Counter) -> Counter:
    """The Chinese counterparts of English placeholders: {k_en} -> {k_zh}; others unchanged."""
    return Counter({(n[:-3] + "_zh" if n.endswith("_en") else n): c for n, c in names.items()})


@pytest.mark.parametrize("key", sorted(INDICATORS))
def test_every_indicator_has_a_latin_free_chinese_definition(key):
    spec = INDICATORS[key]
    text = spec.get("definition_zh", "")
    assert text.strip(), f"indicators.{key} has no definition_zh"
    words = latin_words(PLACEHOLDER.sub("", text))
    assert not words, f"indicators.{key}.definition_zh holds Latin words {words}: {text}"


@pytest.mark.parametrize("key", sorted(INDICATORS))
def test_every_chinese_long_name_is_latin_free(key):
    # the names head every table of the Chinese report: 卡克瓦尼指数, not Kakwani指数
    text = INDICATORS[key]["long_name_zh"]
    assert latin_words(PLACEHOLDER.sub("", text)) == [], f"indicators.{key}.long_name_zh: {text}"


def test_every_chinese_expansion_is_latin_free():
    expansions = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))["expansions"]
    texts = {f"{k}.{item}": v["zh"] for k, items in expansions.items() for item, v in items.items()}
    # 5 layers + 6 payers + 2 funds + 2 resources + 10 income deciles
    assert len(texts) == 25
    assert {k: t for k, t in texts.items() if latin_words(t)} == {}


@pytest.mark.parametrize("key", sorted(INDICATORS))
def test_chinese_definitions_fill_the_chinese_placeholders_of_the_english_ones(key):
    spec = INDICATORS[key]
    english, chinese = _placeholders(spec["definition"]), _placeholders(spec["definition_zh"])
    assert chinese == _as_chinese(english), (
        f"indicators.{key}: definition has {dict(english)}, definition_zh {dict(chinese)}")
    assert not any(n.endswith("_en") for n in chinese)


def test_expanded_chinese_definitions_are_latin_free_and_carry_the_chinese_labels():
    # Expanded for two lines and the catalogue's layers, payers, funds and resources, no
    # placeholder is left and no Latin word comes in through an expansion's Chinese text.
    catalogue = load_catalogue(("dibao", "usd215"),
                               labels={"dibao": ("dibao line", "低保线"),
                                       "usd215": ("$2.15 a day line", "每人每天2.15美元国际贫困线")})
    for ind in catalogue.indicators:
        assert "{" not in ind.definition_zh + ind.long_name_zh, ind.name
        assert latin_words(ind.definition_zh) == [], (ind.name, ind.definition_zh)
        assert latin_words(ind.long_name_zh) == [], (ind.name, ind.long_name_zh)
    # the resource expansion fills 消费支出 into the consumption variant, 收入 into the other:
    # "家庭人均{resource_zh}低于贫困线..." becomes "家庭人均消费支出低于贫困线..."
    assert catalogue.get("poverty_before_consumption_usd215").definition_zh.startswith(
        "家庭人均消费支出低于贫困线")
    assert catalogue.get("poverty_before_dibao").definition_zh.startswith("家庭人均收入低于贫困线")
    # the payer expansion: out_of_pocket is 个人现金自付 in Chinese
    assert catalogue.get("cost_share_out_of_pocket").definition_zh.startswith("由个人现金自付承担")


def test_a_definition_zh_is_the_loaders_field_not_an_unknown_key():
    # 144 templates (124 + 20 of the financial-protection tables), each with its Chinese
    # definition carried onto every expansion
    assert len(INDICATORS) == 144
    catalogue = load_catalogue(("dibao",))
    by_template = {}
    for ind in catalogue.indicators:
        by_template.setdefault(ind.template, ind)
    assert set(by_template) == set(INDICATORS)
    assert by_template["households"].definition_zh == "家庭权重之和。"
