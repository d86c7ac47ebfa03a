"""Where the model is weak: a hand-built results Dataset with a fund at -40% of revenue and a
惠民保 loss ratio of 130% gets both flags with those numbers; one inside the bands gets none;
an index outside its range, a calibrated target and a policy of another year are stated."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
import yaml

from microsim.report.caveats import (caveat_indicators, caveats_section, find_flags, plausibility,
                                     year_text)
from microsim.report.content import Report, labels, settings, summaries
from microsim.report.render import to_markdown

UNITS = {"fund_balance_share_uebmi": "percent", "fund_balance_share_urrbmi": "percent",
         "supplementary_loss_ratio": "percent", "ci_oop": "index", "che10": "percent of persons"}
NAMES_ZH = {"fund_balance_share_uebmi": "当期结余率（职工医保）",
            "fund_balance_share_urrbmi": "当期结余率（居民医保）",
            "supplementary_loss_ratio": "惠民保赔付率", "ci_oop": "自付医疗费用集中指数",
            "che10": "灾难性卫生支出（10%）"}


def results(values: dict[str, float], years=(2023, 2023), population_year=2023,
            targets=(), experiment_year=None) -> xr.Dataset:
    """Two scenarios, two replicates (equal, so the mean is the value), every group cell the
    same value; the second scenario's values are the first's."""
    coords = {"scenario": ["baseline", "reform"], "replicate": [0, 1],
              "residence": ["urban", "rural", "all"], "quintile": ["Q1", "all"],
              "status": ["general", "all"],
              "scenario_label": ("scenario", ["Baseline", "Reform"]),
              "scenario_label_zh": ("scenario", ["基准", "改革"])}
    shape = (2, 2, 3, 2, 2)
    data = {n: (("scenario", "replicate", "residence", "quintile", "status"), np.full(shape, v),
                {"units": UNITS[n], "long_name": n, "long_name_zh": NAMES_ZH[n]})
            for n, v in values.items()}
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["policies"] = json.dumps({"baseline": {"policy": "p", "year": years[0], "files": [],
                                                    "sources": []},
                                       "reform": {"policy": "p", "year": years[1], "files": [],
                                                  "sources": []}})
    ds.attrs["population_year"] = population_year
    year = population_year if experiment_year is None else experiment_year
    ds.attrs["year"] = year
    ds.attrs["experiment"] = yaml.safe_dump({"year": year, "targets": list(targets)})
    return ds


INSIDE = {"fund_balance_share_uebmi": 12.0, "fund_balance_share_urrbmi": 2.0,
          "supplementary_loss_ratio": 85.0, "ci_oop": -0.1, "che10": 20.0}


def flags_of(ds):
    st = settings(ds)
    sm = summaries(ds, caveat_indicators(ds) + [t.indicator for t in st.targets])
    return find_flags(ds, sm, st), sm, st


def test_bands_come_from_the_yaml_with_their_sources():
    bands = {b["name"]: b for b in plausibility()["bands"]}
    fund = bands["fund_balance"]
    assert (fund["lower"]["value"], fund["upper"]["value"]) == (-5, 30)
    assert fund["rule"]["quote"] == "坚持以收定支、收支平衡、略有结余"
    assert bands["supplementary_loss_ratio"]["upper"]["value"] == 100
    for b in bands.values():
        for side in ("lower", "upper"):
            assert b[side]["source"] and b[side]["note"]


def test_a_fund_at_minus_40_and_a_loss_ratio_of_130_are_flagged_with_their_numbers():
    ds = results({**INSIDE, "fund_balance_share_urrbmi": -40.0, "supplementary_loss_ratio": 130.0})
    flags, sm, st = flags_of(ds)
    found = {(f.kind, f.indicator, f.scenario): f for f in flags}
    assert set(found) == {("band", "fund_balance_share_urrbmi", "baseline"),
                          ("band", "fund_balance_share_urrbmi", "reform"),
                          ("band", "supplementary_loss_ratio", "baseline"),
                          ("band", "supplementary_loss_ratio", "reform")}
    fund = found[("band", "fund_balance_share_urrbmi", "baseline")]
    assert (fund.value, fund.lower, fund.upper) == (-40.0, -5.0, 30.0)
    assert found[("band", "supplementary_loss_ratio", "baseline")].value == 130.0
    for lang, word in (("en", "implausible"), ("zh", "不合理")):
        sec = caveats_section(ds, sm, st, lang, labels(lang))
        text = to_markdown(Report(lang, "t", "s", [sec]), {})
        assert "-5 .. 30%" in text and "50 .. 100%" in text
        assert text.count(word) == 2           # one row per problem, every scenario in it
        assert sec.blocks[0] == labels(lang)["caveats_intro"].format(n=2)
        sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
        assert f"{colon}-40.00%{sep}-40.00%" in text and f"{colon}130.00%{sep}130.00%" in text
        assert ("基准；改革" if lang == "zh" else "Baseline; Reform") in text
        assert "略有结余" in text


def test_values_inside_every_band_and_range_get_no_flag_and_the_section_says_so():
    ds = results(INSIDE)
    flags, sm, st = flags_of(ds)
    assert flags == []
    sec = caveats_section(ds, sm, st, "en", labels("en"))
    assert sec.blocks[0].startswith("Nothing is flagged")
    assert not sec.tables
    zh = caveats_section(ds, sm, st, "zh", labels("zh"))
    assert zh.title == "模型薄弱之处" and zh.blocks[0].startswith("没有需要提示的问题")


@pytest.mark.parametrize("name, value, flagged", [
    ("ci_oop", -1.2, True), ("ci_oop", 1.0, False), ("che10", 100.5, True), ("che10", -0.01, True),
    ("che10", 0.0, False)])
def test_bounded_indices_outside_their_range_are_flagged(name, value, flagged):
    flags, _, _ = flags_of(results({**INSIDE, name: value}))
    assert [(f.kind, f.indicator, f.value) for f in flags] == \
        ([("range", name, value)] * 2 if flagged else [])


def test_a_policy_of_another_year_is_stated_in_the_opening_and_the_caveats():
    ds = results(INSIDE, years=(2021, 2025), population_year=2021)
    flags, sm, st = flags_of(ds)
    assert [(f.kind, f.scenario, f.detail) for f in flags] == [("year", "reform", "2025/2021")]
    assert year_text(ds, "en", labels("en")) == \
        "The population is of 2021; some scenarios apply a policy of another year: Reform: policy of 2025."
    assert year_text(ds, "zh", labels("zh")) == "人口为2021年；部分情景所用政策属于其他年份：改革：2025年政策。"
    assert year_text(results(INSIDE), "en", labels("en")) == \
        "Every scenario applies a policy of the population's year (2023)."


def test_a_calibrated_target_is_listed_with_why():
    target = {"indicator": "che10", "document": "d.txt", "target": 20, "comparison": "about",
              "tolerance": 1, "scenarios": ["baseline"],
              "calibrated": "rates chosen to give 20%", "calibrated_zh": "为得到20%而选定的比例"}
    ds = results(INSIDE, targets=[target])
    flags, sm, st = flags_of(ds)
    assert [(f.kind, f.scenario, f.value, f.detail) for f in flags] == \
        [("calibrated", "baseline", 20.0, "rates chosen to give 20%")]
    text = to_markdown(Report("zh", "t", "s", [caveats_section(ds, sm, st, "zh", labels("zh"))]), {})
    assert "已校准，非独立验证" in text and "为得到20%而选定的比例" in text


def test_the_targets_table_says_calibrated_and_counts_it_apart():
    from microsim.report.targets import targets_section
    calibrated = {"indicator": "che10", "document": "d.txt", "target": 20, "comparison": "about",
                  "tolerance": 1, "scenarios": ["baseline"], "calibrated": "rates chosen to give 20%"}
    met = {"indicator": "che10", "document": "d.txt", "target": 25, "comparison": "at_most",
           "scenarios": ["reform"]}
    missed = {"indicator": "ci_oop", "document": "d.txt", "target": 0, "comparison": "at_least",
              "scenarios": ["reform"]}
    ds = results(INSIDE, targets=[calibrated, met, missed])
    st = settings(ds)
    sm = summaries(ds, ["che10", "ci_oop"])
    en = targets_section(ds, sm, st, "en", labels("en"))
    assert en.blocks[1] == ("Met: 1; not met: 1; calibrated (reproduced by construction, not "
                            "counted as met): 1.")
    marks = [(row[2].text, row[-1].text, row[-1].mark) for row in en.tables[0].rows]
    assert marks == [("Baseline", "calibrated", "calibrated"), ("Reform", "yes", "met"),
                     ("Reform", "no", "not_met")]
    assert any("Calibrated, not an independent check: rates chosen to give 20%" in b
               for b in en.blocks if isinstance(b, str))
    zh = targets_section(ds, sm, st, "zh", labels("zh"))
    assert zh.tables[0].rows[0][-1].text == "已校准，非独立验证"


def test_an_empty_calibrated_reason_is_refused():
    from microsim.experiment import Target
    with pytest.raises(ValueError, match="which value was chosen"):
        Target(indicator="che10", document="d.txt", target=1, calibrated="  ")


def test_a_population_moved_to_the_simulated_year_is_stated():
    ds = results(INSIDE, years=(2024, 2023), population_year=2023)
    ds.attrs["years"] = json.dumps([2024])           # results that record the simulated years
    assert year_text(ds, "en", labels("en")) == (
        "The simulated year is 2024; some scenarios apply a policy of another year: Reform: "
        "policy of 2023. The population is of 2023; its incomes, prices and use of care are "
        "moved to 2024 by index series (policies are not).")
    ds = results(INSIDE, years=(2024, 2024), population_year=2023)
    ds.attrs["years"] = json.dumps([2024])
    assert year_text(ds, "zh", labels("zh")) == (
        "各情景政策年份均与模拟年份（2024年）一致。人口为2023年，其收入、价格和医疗服务利用按指数"
        "序列调整至2024年（政策金额不作调整）。")


def test_an_experiment_year_other_than_the_populations_is_stated():
    ds = results(INSIDE, years=(2020, 2020), population_year=2020, experiment_year=2023)
    flags, sm, st = flags_of(ds)
    assert [(f.kind, f.detail) for f in flags] == [("experiment_year", "2023/2020")]
    assert year_text(ds, "en", labels("en")) == (
        "Every scenario applies a policy of the population's year (2020). The experiment's year "
        "is 2023; the population simulated is of 2020.")
    text = to_markdown(Report("en", "t", "s", [caveats_section(ds, sm, st, "en", labels("en"))]), {})
    assert "experiment year 2023 | population of 2020" in text
