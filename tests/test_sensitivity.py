"""One-way sensitivity on a small population: moving inpatient use moves the indicators the
expected way, the base column is a plain run's values exactly, a cited key is refused naming
file and key, the tornado table is sorted by swing, and the report shows it."""

from __future__ import annotations

import json
import math

import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.errors import InputError
from microsim.experiment import load_experiment
from microsim.report.content import labels
from microsim.report.sensitivity import sensitivity_section
from microsim.sensitivity import (DEFAULT_GROUPS, Row, load_groups, parameters, read_sensitivity,
                                  sensitivity, write_sensitivity)
from tests.engine.test_run import experiment

HOUSEHOLDS = 1500
GROUPS = """indicators: [che10, impoverished, fund_balance_share_urrbmi]
groups:
  - name: inpatient_use
    label: Inpatient use
    label_zh: 住院利用
    note: test range
    parameters:
      - {input: population, key: health.inpatient.admissions_per_person, mode: scale, low: 0.8, high: 1.2}
  - name: wage_ratio
    label: Wage ratio
    label_zh: 工资比
    note: test range
    parameters:
      - {input: population, key: insurance.wage.ratio_to_per_capita_income, mode: scale, low: 0.8, high: 1.2}
  - name: residents_outpatient
    label: Residents' outpatient
    label_zh: 居民门诊
    note: test range
    parameters:
      - {input: policy, key: [basic.urrbmi.outpatient.rate.primary], mode: shift, low: -0.1, high: 0.1}
"""
CITED = """indicators: [che10]
groups:
  - name: deductibles
    label: Deductibles
    label_zh: 起付线
    note: cited values may not move
    parameters:
      - {input: policy, key: basic.urrbmi.inpatient.deductible.primary, mode: scale, low: 0.5, high: 1.5}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sensitivity")
    exp_path = experiment(tmp, 10_000, households=HOUSEHOLDS, replicates=1)
    groups = tmp / "groups.yaml"
    groups.write_text(GROUPS, encoding="utf-8")
    result = sensitivity(load_experiment(exp_path), groups)
    return tmp, exp_path, groups, result


def test_more_admissions_raise_che10_and_lower_the_residents_fund_balance(small):
    _, _, _, r = small
    che = "che10"
    fund = "fund_balance_share_urrbmi"
    assert r.low["inpatient_use"][che] < r.base[che] < r.high["inpatient_use"][che]
    assert r.low["inpatient_use"][fund] > r.base[fund] > r.high["inpatient_use"][fund]
    # a more generous residents' outpatient rate costs the residents' fund
    assert r.low["residents_outpatient"][fund] > r.base[fund] > r.high["residents_outpatient"][fund]


def test_the_base_column_is_a_plain_run_of_the_baseline_exactly(small):
    _, exp_path, _, r = small
    ds = microsim.run(exp_path, write=False)
    cell = {"scenario": "baseline", "residence": "all", "quintile": "all", "status": "all"}
    for name in ("che10", "impoverished_dibao", "fund_balance_share_urrbmi"):
        assert r.base[name] == float(ds[name].sel(**cell).mean("replicate"))


def test_tornado_rows_are_sorted_by_swing_largest_first(small):
    _, _, _, r = small
    for ind in r.indicators:
        swings = [row.swing for row in r.tornado(ind)]
        finite = [s for s in swings if math.isfinite(s)]
        assert finite == sorted(finite, reverse=True)
        assert len(swings) == 3
    # the swing spans low, base and high, even when both ends move the same way
    assert Row("g", low=5.0, base=3.0, high=4.0).swing == 2.0
    assert Row("g", low=1.0, base=3.0, high=4.5).swing == 3.5


def test_a_cited_key_is_refused_naming_file_and_key(small, tmp_path):
    _, exp_path, _, _ = small
    cited = tmp_path / "cited.yaml"
    cited.write_text(CITED, encoding="utf-8")
    exp = load_experiment(exp_path)
    with pytest.raises(InputError) as err:
        parameters(exp, *load_groups(cited))
    text = str(err.value)
    assert "national_2023.yaml" in text and "key 'basic.urrbmi.inpatient.deductible.primary'" in text
    assert "it is cited" in text
    result = CliRunner().invoke(app, ["sensitivity", str(exp_path), "--groups", str(cited)])
    assert result.exit_code == 2
    assert "basic.urrbmi.inpatient.deductible.primary" in result.output


def test_a_missing_key_is_refused(small, tmp_path):
    _, exp_path, _, _ = small
    bad = tmp_path / "bad.yaml"
    bad.write_text(CITED.replace("basic.urrbmi.inpatient.deductible.primary",
                                 "basic.urrbmi.inpatient.no_such_key"), encoding="utf-8")
    with pytest.raises(InputError, match="does not have"):
        parameters(load_experiment(exp_path), *load_groups(bad))


def test_every_shipped_group_moves_only_assumptions_of_the_quickstart():
    root = DEFAULT_GROUPS.parents[1]
    exp = load_experiment(root / "experiments" / "quickstart.yaml")
    moves = parameters(exp, *load_groups(DEFAULT_GROUPS))
    assert len(moves) == 10 and all(moves.values())


def test_written_atomically_and_shown_in_the_report(small, tmp_path):
    _, _, _, r = small
    path = write_sensitivity(r, tmp_path)
    assert path.name == "sensitivity.json"
    assert [p.name for p in tmp_path.iterdir()] == ["sensitivity.json"]   # no partial file left
    data = read_sensitivity(tmp_path)
    assert data["base"]["che10"] == r.base["che10"]
    ds = xr.Dataset(attrs={"experiment_name": r.experiment})
    sec = sensitivity_section(ds, data, "en", labels("en"))
    assert sec.title == "Which assumptions drive the answers"
    first = sec.tables[0]
    assert first.rows[0][0].text == "Inpatient use"      # largest swing of che10 first
    assert [row[0].text for row in first.rows] == \
        [{"inpatient_use": "Inpatient use", "wage_ratio": "Wage ratio",
          "residents_outpatient": "Residents' outpatient"}[row.group] for row in r.tornado("che10")]
    zh = sensitivity_section(ds, data, "zh", labels("zh"))
    assert zh.title == "哪些假设决定结论" and zh.tables[0].rows[0][0].text == "住院利用"
    other = sensitivity_section(xr.Dataset(attrs={"experiment_name": "another"}), data, "en",
                                labels("en"))
    assert not other.tables and "another experiment" in other.blocks[0]
    json.loads(path.read_text(encoding="utf-8"))


def test_bad_settings_are_refused_naming_file_key_and_value(small, tmp_path):
    _, exp_path, groups, _ = small
    bad = tmp_path / "bad_range.yaml"
    bad.write_text(GROUPS.replace("mode: scale, low: 0.8, high: 1.2}", "mode: scale, low: 1.3, "
                                  "high: 1.2}", 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_groups(bad)
    assert "bad_range.yaml" in str(err.value) and "groups.0.parameters.0" in str(err.value)
    runner = CliRunner()
    result = runner.invoke(app, ["sensitivity", str(exp_path), "--groups", str(groups),
                                 "--low", "inpatient_use"])
    assert result.exit_code == 2 and "--low takes GROUP=NUMBER (got 'inpatient_use')" in result.output
    result = runner.invoke(app, ["sensitivity", str(exp_path), "--groups", str(groups),
                                 "--high", "inpatient_use=0.9"])
    assert result.exit_code == 2 and "low < 1 < high" in result.output
    result = runner.invoke(app, ["sensitivity", str(exp_path), "--groups", str(groups),
                                 "--only", "no_such_group"])
    assert result.exit_code == 2 and "no group 'no_such_group'" in result.output


def test_low_and_high_options_replace_a_groups_settings(small):
    from microsim.sensitivity import with_ranges
    _, _, groups_path, _ = small
    path, groups = load_groups(groups_path)
    new = with_ranges(path, groups, {"inpatient_use": 0.5}, {"wage_ratio": 1.5})
    settings = {g.name: (g.parameters[0].low, g.parameters[0].high) for g in new.groups}
    assert settings == {"inpatient_use": (0.5, 1.2), "wage_ratio": (0.8, 1.5),
                        "residents_outpatient": (-0.1, 0.1)}
