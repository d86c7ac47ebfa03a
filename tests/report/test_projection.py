"""The report of a projection: a hand-built results Dataset over 2021-2023 whose values are
set by hand, so every number the paths table, the targets table and the caveats show can be
worked out on paper; and a one-year run's report, which has no paths section and no year
column."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import xarray as xr
import yaml

from microsim.report.content import build_content, labels
from microsim.report.render import to_markdown
from microsim.report.years import in_year

YEARS = [2021, 2022, 2023]
UNITS = {"che10": "percent of persons", "fund_closing_balance_urrbmi": "billion yuan",
         "fund_expenditure_growth_urrbmi": "percent", "reserve_months_urrbmi": "months",
         "fund_balance_share_urrbmi": "percent"}
NAMES = {"che10": ("Catastrophic spending (10%)", "灾难性卫生支出（10%）"),
         "fund_closing_balance_urrbmi": ("Closing balance, URRBMI", "年末累计结余（居民医保）"),
         "fund_expenditure_growth_urrbmi": ("Growth of expenditure, URRBMI", "基金支出增长率（居民医保）"),
         "reserve_months_urrbmi": ("Reserve months, URRBMI", "可支付月数（居民医保）"),
         "fund_balance_share_urrbmi": ("Fund balance share, URRBMI", "当期结余率（居民医保）")}
GROUPS = {"residence": ["urban", "rural", "all"], "quintile": ["Q1", "all"],
          "status": ["general", "all"]}

# Replicate values [scenario][year][replicate]: two replicates, so the mean is their average
# and the 95% interval is mean +/- t(0.975, 1 df) * sd / sqrt(2) = mean +/- 12.706 * |a - b| / 2.
VALUES = {
    # baseline: 18, 22, 19 (equal replicates: no spread); reform: 17, 21, 18
    "che10": [[[18, 18], [22, 22], [19, 19]], [[17, 17], [21, 21], [18, 18]]],
    # baseline 2021: replicates 10 and 12 -> mean 11, half-width 12.706 * 1 = 12.706:
    # [-1.706, 23.706]; 2022: 4 and 4 -> 4; 2023: -3 and -5 -> -4 [-16.706, 8.706].
    "fund_closing_balance_urrbmi": [[[10, 12], [4, 4], [-3, -5]], [[20, 20], [16, 16], [12, 12]]],
    # the first year has no previous year: NaN
    "fund_expenditure_growth_urrbmi": [[[np.nan] * 2, [8, 8], [12, 12]],
                                       [[np.nan] * 2, [5, 5], [6, 6]]],
    "reserve_months_urrbmi": [[[6, 6], [5, 5], [4, 4]], [[7, 7], [7, 7], [7, 7]]],
    "fund_balance_share_urrbmi": [[[2, 2], [-8, -8], [1, 1]], [[3, 3], [3, 3], [3, 3]]],
}


def policy(year: int) -> dict:
    return {"policy": f"p{year}", "year": year, "files": [], "sources": []}


def projection(targets=(), values=VALUES) -> xr.Dataset:
    """Two scenarios over 2021-2023, two replicates, each group cell the value of VALUES; the
    attributes a projection's results carry: the baseline keeps its 2021 policy, the reform
    follows a schedule (2021's policy, then 2023's from 2023)."""
    coords = {"scenario": ["baseline", "reform"], "year": YEARS, "replicate": [0, 1], **GROUPS,
              "scenario_label": ("scenario", ["Baseline", "Reform"]),
              "scenario_label_zh": ("scenario", ["基准", "改革"])}
    dims = ("scenario", "year", "replicate", "residence", "quintile", "status")
    data = {}
    for name, v in values.items():
        a = np.broadcast_to(np.asarray(v, dtype=float)[..., None, None, None], (2, 3, 2, 3, 2, 2))
        data[name] = (dims, a.copy(), {"units": UNITS[name], "long_name": NAMES[name][0],
                                       "long_name_zh": NAMES[name][1], "family": "funds"})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["policies"] = json.dumps({
        "baseline": policy(2021),
        "reform": {**policy(2021), "schedule": {"2021": policy(2021), "2023": policy(2023)}}})
    ds.attrs.update(population_year=2021, year=2021, years=json.dumps(YEARS), projection=1,
                    experiment_name="projection")
    ds.attrs["experiment"] = yaml.safe_dump({"year": 2021, "until": 2023,
                                             "targets": list(targets)})
    return ds


def one_year(targets=()) -> xr.Dataset:
    """A one-year run of 2023 (no year dimension, the year in the attributes) on a population
    of 2021 moved to 2023: the projection's values of 2023, both scenarios on the policy of
    2023."""
    ds = projection(targets).sel(year=2023, drop=True)
    ds.attrs.update(year=2023, years=json.dumps([2023]), projection=0,
                    policies=json.dumps({"baseline": policy(2023), "reform": policy(2023)}),
                    experiment=yaml.safe_dump({"year": 2023, "targets": list(targets)}))
    return ds


def md_tables(text: str, header: str) -> list[list[list[str]]]:
    """Every Markdown table whose header row starts with `header`, as rows of cells."""
    blocks = re.findall(r"^(\| " + re.escape(header) + r" .*\|\n(?:\|.*\|\n?)+)", text, flags=re.M)
    return [[[c.strip() for c in line.strip().split("|")[1:-1]] for line in b.strip().splitlines()]
            for b in blocks]


def md_table(text: str, header: str) -> list[list[str]]:
    return md_tables(text, header)[0]


def md(report) -> str:
    return to_markdown(report, {f.name: f"{f.name}.png" for s in report.sections
                                for f in s.figures})


def section(report, key):
    return next(s for s in report.sections if s.key == key)


def test_the_paths_table_shows_each_year_mean_and_interval():
    report = build_content(projection(), "en")
    paths = section(report, "paths")
    assert paths.title == "Paths over the years"
    head, funds = paths.tables
    assert head.columns == ["Indicator", "Unit", "Scenario", "2021", "2022", "2023"]
    # headline: che10, one row per scenario; equal replicates have a zero-width interval
    assert [[c.text for c in row] for row in head.rows] == [
        ["Catastrophic spending (10%)", "% of persons", "Baseline", "18.0", "22.0", "19.0"],
        ["", "% of persons", "Reform", "17.0", "21.0", "18.0"]]
    rows = {(r[0].text or prev, r[2].text): r for r, prev in
            zip(funds.rows, [""] + [r[0].text for r in funds.rows[:-1]])}
    balance = rows[("Closing balance, URRBMI", "Baseline")]
    # mean 11, 12.706 * 1 either side; 4; mean -4, 12.706 * 1 either side (bn yuan, 2 decimals)
    assert [(c.text, c.interval) for c in balance[3:]] == [
        ("11.00", "[-1.71, 23.71]"), ("4.00", "[4.00, 4.00]"), ("-4.00", "[-16.71, 8.71]")]
    growth = rows[("Growth of expenditure, URRBMI", "Baseline")]
    # one choice of decimals per indicator: its largest value is 12 >= 10, so 1 decimal
    assert [c.text for c in growth[3:]] == ["n/a", "8.0", "12.0"]
    # one line figure per fund indicator, none for the headline indicators
    assert [f.name for f in paths.figures] == [
        "path_fund_closing_balance_urrbmi", "path_reserve_months_urrbmi",
        "path_fund_expenditure_growth_urrbmi"]
    assert all(f.png.startswith(b"\x89PNG") for f in paths.figures)


def test_the_chinese_paths_table_counts_money_in_yi_yuan():
    text = md(build_content(projection(), "zh"))
    assert "## 历年变化" in text
    rows = md_table(text, "指标")
    # Markdown puts the interval after the value; 亿元 = billion yuan x 10, 1 decimal
    paths = text[text.index("## 历年变化"):]
    balance = next(r for t in md_tables(paths, "指标") for r in t
                   if r[0] == "年末累计结余（居民医保）")
    assert balance[2:] == ["基准", "110.0 [-17.1, 237.1]", "40.0 [40.0, 40.0]",
                           "-40.0 [-167.1, 87.1]"]
    assert rows[0][:3] == ["指标", "单位", "基准"]            # the headline table comes first


def test_tables_of_one_year_describe_the_last_year_and_say_so():
    for lang, headline, sentence in (
            ("en", "Headline results, 2023 (the last simulated year)", "describe 2023, the last"),
            ("zh", "主要结果（2023年，最后模拟年份）", "最后模拟年份2023年")):
        report = build_content(projection(), lang)
        assert section(report, "headline").title == headline
        assert sentence in " ".join(b for b in section(report, "question").blocks
                                    if isinstance(b, str))
        assert section(report, "figures").title.startswith(labels(lang)["figures"])
        assert "2023" in section(report, "figures").title
    # the headline of the projection is the one-year report of its last year, number for number
    proj = section(build_content(projection(), "en"), "headline").tables[0]
    last = section(build_content(in_year(projection(), 2023), "en"), "headline").tables[0]
    assert [[(c.text, c.interval) for c in r] for r in proj.rows] == \
        [[(c.text, c.interval) for c in r] for r in last.rows]
    assert [r[2].text for r in proj.rows][0] == "19.0"      # che10 of the baseline in 2023


def test_a_time_target_is_met_in_one_year_and_not_in_another():
    every_year = {"indicator": "che10", "document": "d.txt", "target": 20,
                  "comparison": "at_most", "scenarios": ["baseline"]}
    two_years = {"indicator": "fund_expenditure_growth_urrbmi", "document": "d.txt",
                 "target": 10, "comparison": "at_most", "years": [2022, 2023],
                 "scenarios": ["baseline"]}
    report = build_content(projection([every_year, two_years]), "en")
    sec = section(report, "targets")
    table = sec.tables[0]
    assert table.columns == ["Indicator", "Group", "Scenario", "Year", "Document", "Target",
                             "Simulated", "Met"]
    got = [(r[3].text, r[6].text, r[7].text, r[7].mark) for r in table.rows]
    # che10 at most 20: 18 (met), 22 (not), 19 (met); growth at most 10 in 2022 and 2023
    # only: 8 (met), 12 (not); its first year (NaN) is not among its years
    assert got == [("2021", "18.00", "yes", "met"), ("2022", "22.00", "no", "not_met"),
                   ("2023", "19.00", "yes", "met"), ("2022", "8.00", "yes", "met"),
                   ("2023", "12.00", "no", "not_met")]
    assert "Met: 3; not met: 2; calibrated (reproduced by construction, not counted as met): 0." \
        in sec.blocks
    zh = section(build_content(projection([every_year, two_years]), "zh"), "targets").tables[0]
    assert zh.columns[3] == "年份" and [r[7].text for r in zh.rows][:2] == ["是", "否"]


def test_a_target_for_a_year_not_simulated_is_not_checked_and_said_so():
    later = {"indicator": "che10", "document": "d.txt", "target": 20, "comparison": "at_most",
             "years": [2030]}
    sec = section(build_content(projection([later]), "en"), "targets")
    assert not sec.tables
    assert ("Catastrophic spending (10%): the target is set for 2030, which these results do not "
            "simulate (years simulated: 2021-2023); it is not checked.") in sec.blocks


def test_each_year_is_checked_for_plausibility_and_a_fund_that_runs_out_is_flagged():
    text = md(build_content(projection(), "en"))
    caveats = md_table(text, "Problem")
    cells = {r[2].split(":")[0]: r for r in caveats[2:]}
    # the balance share is -8% in 2022 only (band -5 .. 30), in the baseline only
    share = cells["Fund balance share, URRBMI"]
    assert share[1] == "Baseline" and share[2] == "Fund balance share, URRBMI: -8.00% in 2022"
    # the carried balance is 11, 4, -4: negative in 2023 (baseline only)
    balance = cells["Closing balance, URRBMI"]
    assert balance[2] == "Closing balance, URRBMI: -4.00 bn yuan in 2023"
    assert balance[3] == "≥ 0 bn yuan" and balance[4].startswith("the fund runs out")
    zh = md(build_content(projection(), "zh"))
    assert "年末累计结余（居民医保）：2023年-40.0 亿元" in zh and "基金穿底" in zh


def test_a_one_year_report_has_no_paths_section_and_no_year_column():
    target = {"indicator": "che10", "document": "d.txt", "target": 20, "comparison": "at_most"}
    for lang in ("en", "zh"):
        report = build_content(one_year([target]), lang)
        assert [s.key for s in report.sections] == ["question", "headline", "caveats", "targets",
                                                    "figures", "methods"]
        assert "2023" in section(report, "question").blocks[0]   # policies of the run's year
        assert section(report, "headline").title == labels(lang)["headline"]
        assert section(report, "figures").title == labels(lang)["figures"]
        columns = section(report, "targets").tables[0].columns
        lab = labels(lang)
        assert columns == [lab["indicator"], lab["group"], lab["scenario"], lab["document"],
                           lab["target"], lab["simulated"], lab["met"]]
        text = md(report)
        assert lab["paths"] not in text and lab["projection_text"][:12] not in text
    # 2023's values as a one-year run: che10 19 (baseline), 18 (reform), both met
    rows = section(build_content(one_year([target]), "en"), "targets").tables[0].rows
    assert [(r[2].text, r[5].text, r[6].text) for r in rows] == [
        ("Baseline", "19.00", "yes"), ("Reform", "18.00", "yes")]


@pytest.mark.parametrize("years, shown", [([2023], True), ([2021, 2023], True), ([2021], False)])
def test_a_one_year_run_checks_a_target_only_in_its_years(years, shown):
    target = {"indicator": "che10", "document": "d.txt", "target": 20, "comparison": "at_most",
              "years": years}
    sec = section(build_content(one_year([target]), "en"), "targets")
    assert bool(sec.tables) == shown


def test_a_policy_kept_past_its_year_is_stated_with_the_years_it_runs_in():
    from microsim.report.caveats import find_flags, year_text
    from microsim.report.content import settings, summaries
    from microsim.report.years import year_stats

    full = projection()
    ds = in_year(full, 2023)
    sm = summaries(ds, list(VALUES))
    sm.years = year_stats(full, list(VALUES))
    flags = [(f.scenario, f.detail) for f in find_flags(ds, sm, settings(ds)) if f.kind == "year"]
    # the baseline keeps 2021's policy in 2022 and 2023; the reform's schedule moves to
    # 2023's policy in 2023, so only 2022 runs a policy of another year
    assert flags == [("baseline", "2021/2022-2023"), ("reform", "2021/2022")]
    assert year_text(ds, "en", labels("en")) == (
        "Policies are never uprated, and some scenarios apply a policy in years other than its "
        "own: Baseline: policy of 2021 in 2022-2023; Reform: policy of 2021 in 2022.")
    assert year_text(ds, "zh", labels("zh")) == (
        "政策金额不随年份调整，部分情景在其他年份沿用某年政策：基准：2022-2023年沿用2021年政策；"
        "改革：2022年沿用2021年政策。")
    text = md(build_content(full, "en"))
    row = next(r for r in md_table(text, "Problem")[2:] if r[1] == "Reform")
    assert row[2:4] == ["policy of 2021", "population of 2022"]
    assert row[4].startswith("the rules of 2021 stay in force in 2022")


def test_a_one_year_run_in_another_year_than_its_population_is_not_flagged_for_it():
    # the population of 2021 is moved to 2023 by index series: the results describe 2023,
    # and the policies of 2023 meet the year they run in
    from microsim.report.caveats import find_flags
    from microsim.report.content import settings, summaries

    ds = one_year()
    assert ds.attrs["population_year"] == 2021 and ds.attrs["year"] == 2023
    sm = summaries(ds, list(VALUES))
    assert [f.kind for f in find_flags(ds, sm, settings(ds))
            if f.kind in ("year", "experiment_year")] == []


def test_a_share_one_rounding_unit_above_100_is_not_outside_its_range():
    from microsim.report.caveats import find_flags
    from microsim.report.content import settings, summaries

    above = np.nextafter(100.0, 200.0)         # 100.00000000000001
    values = {**VALUES, "che10": [[[above, above]] * 3, [[100.5, 100.5]] * 3]}
    ds = in_year(projection(values=values), 2023)
    flags = [(f.kind, f.scenario, f.value) for f in find_flags(ds, summaries(ds, list(VALUES)),
                                                                settings(ds))
             if f.kind == "range"]
    assert flags == [("range", "reform", 100.5)]   # the baseline's 100 + 1 ulp is on the bound


def test_the_report_of_a_real_projection_follows_its_funds_year_by_year(tmp_path):
    """The three-year projection fixture run for real: the report of its last year, a paths
    section whose closing balances are the summaries of the results, year by year, and a
    figure per fund indicator written beside the Markdown."""
    from pathlib import Path

    import microsim
    from microsim.report.build import write_report

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "years" / "projection.yaml"
    ds = microsim.run(fixture, write=False, scheduler="threads")
    assert [int(y) for y in ds.year.values] == [2023, 2024, 2025]
    report = build_content(ds, "en")
    paths = section(report, "paths")
    funds = paths.tables[1]
    assert funds.columns[3:] == ["2023", "2024", "2025"]
    row = next(r for r in funds.rows if r[0].text.startswith("Accumulated fund balance at "
                                                                "year end")
               and "URRBMI" in r[0].text)
    means = microsim.summarize(ds[["fund_closing_balance_urrbmi"]])["fund_closing_balance_urrbmi"]
    expected = [f"{float(means.sel(stat='mean', scenario='baseline', year=y, **ALL)):,.2f}"
                for y in (2023, 2024, 2025)]
    assert [c.text for c in row[3:]] == expected
    assert section(report, "headline").title == "Headline results, 2025 (the last simulated year)"
    written = write_report(ds, tmp_path, "zh", ("md",))
    text = written[0].read_text(encoding="utf-8")
    assert "## 历年变化" in text and "主要结果（2025年，最后模拟年份）" in text
    assert (tmp_path / "figures" / "zh" / "path_fund_closing_balance_urrbmi.png").stat().st_size > 0
    # every figure of both reports, the paths among them, has no label over another
    from tests.latin import latin_words
    for lang in ("zh", "en"):
        figures = [f for sec in build_content(ds, lang).sections for f in sec.figures]
        assert any(f.name.startswith("path_") for f in figures)
        assert all(f.overlaps == () for f in figures), [(f.name, f.overlaps) for f in figures]
        if lang == "zh":
            assert not [w for f in figures for t in f.texts for w in latin_words(t)]


ALL = {"residence": "all", "quintile": "all", "status": "all"}


def test_the_run_headline_table_of_a_projection_shows_its_last_year():
    from microsim.report.table import headline_rows, headline_table

    rows = headline_rows(projection(), indicators=("che10",))
    # che10 of 2023, the last year: 19 (baseline), 18 (reform)
    assert rows[0]["values"][("baseline", "all")] == 19.0
    assert rows[0]["values"][("reform", "all")] == 18.0
    assert "year 2023 (the last simulated year of 2021-2023)" in headline_table(projection()).title
    assert "year" not in headline_table(one_year()).title


def test_the_sensitivity_of_a_projection_says_it_is_of_the_first_year():
    data = {"experiment": "projection", "scenario": "baseline", "households": 1000,
            "replicates": 2, "seed": 1, "groups": [], "tornado": {}, "indicators": {}}
    for lang, sentence in (("en", "The analysis runs 2021, the first simulated year of the "
                                  "projection (the year its inputs describe), not 2023"),
                           ("zh", "敏感性分析针对预测的第一个模拟年份2021年")):
        report = build_content(projection(), lang, data)
        assert any(b.startswith(sentence) for b in section(report, "sensitivity").blocks)
        one = build_content(one_year(), lang, data)
        assert not any(b.startswith(sentence[:20]) for b in section(one, "sensitivity").blocks)


def test_a_policy_schedule_is_listed_by_year_and_the_methods_show_the_last_years_policies():
    full = projection()
    full.attrs["policies"] = json.dumps({
        "baseline": {**policy(2021), "sources": [{"key": "cap", "value": 1000.0,
                                                   "source": "a.txt"}]},
        "reform": {**policy(2021), "schedule": {
            "2021": {**policy(2021), "files": ["/x/p2021.yaml"],
                     "sources": [{"key": "cap", "value": 1000.0, "source": "a.txt"}]},
            "2023": {**policy(2023), "files": ["/x/p2023.yaml", "/x/more.yaml"],
                     "sources": [{"key": "cap", "value": 3000.0, "source": "b.txt"}]}}}})
    report = build_content(full, "en")
    scenarios = section(report, "question").tables[0]
    assert [c.text for c in scenarios.rows[1]] == [
        "Reform", "2021: p2021; 2023: p2023", "2021: p2021.yaml; 2023: p2023.yaml + more.yaml"]
    methods = section(report, "methods")
    assert ("The parameter tables below are those of the policies in force in 2023, the last "
            "simulated year.") in methods.blocks
    # the reform's cap in 2023 (its 2023 policy) against the baseline's
    changes = next(t for t in methods.tables if t.kind == "changes")
    assert [c.text for c in changes.rows[0]] == ["Reform", "cap", "1000", "3000", "b.txt"]
