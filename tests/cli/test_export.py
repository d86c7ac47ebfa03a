"""`microsim export` and `--format csv|json` of summary and compare, on small real runs: the
Stata file reads back with its variable and value labels and the run's values, the Excel file
with a sheet per family and English and Chinese headers, CSV and Parquet give back the values
to the last bit, a projection keeps its years, and the JSON of `summary` holds the numbers its
table shows."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.cli.results import _fmt
from microsim.engine.export import long_table, stata_names, summary_table
from microsim.experiment import load_experiment
from tests.engine.test_run import experiment
from tests.engine.test_years import PROJECTION

runner = CliRunner()
IDS = ["scenario", "replicate", "residence", "quintile", "status"]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The quickstart experiment on 2,000 households, two replicates, written to a folder."""
    tmp = tmp_path_factory.mktemp("export")
    folder = tmp / "out"
    microsim.run(experiment(tmp, 2000, households=2000, replicates=2, output=str(folder)))
    return folder, microsim.open_results(folder)


@pytest.fixture(scope="module")
def projection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("projection") / "out"
    exp = load_experiment(PROJECTION)
    exp = dataclasses.replace(exp, file=exp.file.model_copy(update={"replicates": 1}))
    microsim.run(exp, output=folder, scheduler="threads")
    return folder, microsim.open_results(folder)


def at(ds: xr.Dataset, name: str, frame: pd.DataFrame, dims=IDS) -> np.ndarray:
    """ds[name] at every row of `frame` (pointwise)."""
    where = {d: xr.DataArray(frame[d].astype(ds[d].dtype).to_numpy()) for d in dims}
    return ds[name].sel(**where).values


def test_stata_reads_back_with_labels_and_the_same_values(run, tmp_path):
    folder, ds = run
    path = tmp_path / "q.dta"
    result = invoke("export", folder, "--format", "dta", "--out", path)
    assert result.exit_code == 0, result.output
    with pd.io.stata.StataReader(path) as reader:
        data = reader.read()
        var_labels = reader.variable_labels()
        value_labels = reader.value_labels()
    names = [str(v) for v in ds.data_vars]
    short = stata_names(names)
    # every variable name is a Stata name of at most 32 characters, and none repeats
    assert all(len(c) <= 32 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c) for c in data.columns)
    assert len(set(data.columns)) == len(data.columns)
    # a long name: words cut from the longest until 27 characters remain, then a hash of the
    # full name: "admissions_per_insured_uebmi_employed" (37) -> "admis_per_insur_uebmi_emplo"
    long = "admissions_per_insured_uebmi_employed"
    assert short[long] == "admis_per_insur_uebmi_emplo_" + hashlib.sha1(long.encode()).hexdigest()[:4]
    assert stata_names(list(reversed(names)))[long] == short[long]   # independent of order
    # the variable label carries both names and the unit, cut to Stata's 80 characters
    assert var_labels["population"] == "代表人口数 Persons represented (persons)"
    che = ds["che10"].attrs
    full = f"{che['long_name_zh']} {che['long_name']} ({che['units']})"
    assert len(full) > 80 and var_labels["che10"] == full[:79] + "…"
    assert "住院" in var_labels[short[long]]
    # value labels: the scenarios in their order, the groups
    assert list(value_labels["scenario"].values()) == [str(s) for s in ds.scenario.values]
    assert list(value_labels["status"].values()) == [str(s) for s in ds.status.values]
    assert set(data["scenario_label_zh"]) == {str(s) for s in ds.scenario_label_zh.values}
    # one row per scenario, replicate and group cell: 2 x 2 x 3 x 6 x 6 = 432
    assert len(data) == 432
    for name in ("che10", "oop_per_person", long):
        np.testing.assert_array_equal(data[short[name]].to_numpy(), at(ds, name, data))


def test_excel_has_a_sheet_per_family_with_bilingual_headers(run, tmp_path):
    from openpyxl import load_workbook
    folder, ds = run
    path = tmp_path / "s.xlsx"
    result = invoke("export", folder, "--format", "xlsx", "--summary", "--out", path)
    assert result.exit_code == 0, result.output
    wb = load_workbook(path, read_only=True)
    # every indicator's family (the paint-drip sample's variables are not indicators)
    families = sorted({ds[v].attrs["family"] for v in ds.data_vars if "replicate" in ds[v].dims})
    assert wb.sheetnames[0] == "about" and sorted(wb.sheetnames[1:]) == families
    rows = list(wb["catastrophic"].iter_rows(values_only=False))
    english = [c.value for c in rows[0]]
    chinese = [c.value for c in rows[1]]
    assert english[:2] == ["Scenario", "Scenario label"] and "Mean" in english
    assert chinese[0] == "情景" and chinese[english.index("Mean")] == "均值"
    table = summary_table(ds)
    expect = table[table["family"] == "catastrophic"].reset_index(drop=True)
    assert len(rows) - 2 == len(expect)
    mean = english.index("Mean")
    first = rows[2]
    assert first[mean].value == pytest.approx(expect.loc[0, "mean"], rel=1e-12)
    assert first[mean].number_format == "#,##0.000"
    assert first[english.index("Indicator name (Chinese)")].value == expect.loc[0, "long_name_zh"]


def test_csv_and_parquet_give_back_the_values_exactly(run, tmp_path):
    folder, ds = run
    table = long_table(ds)
    for fmt in ("csv", "parquet"):
        result = invoke("export", folder, "--format", fmt, "--out", tmp_path / f"l.{fmt}")
        assert result.exit_code == 0, result.output
    raw = (tmp_path / "l.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")           # the BOM Excel needs for Chinese
    back = pd.read_csv(tmp_path / "l.csv", encoding="utf-8-sig",
                       keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(back, table, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "l.parquet"), table,
                                  check_exact=True)
    # one row per scenario, replicate, group cell and indicator (the variables of the
    # paint-drip sample are not indicators: 5 of them)
    assert len(table) == 432 * (len(ds.data_vars) - 5)
    row = table[(table.indicator == "che10") & (table.scenario == str(ds.scenario.values[1]))
                & (table.replicate == 1) & (table.residence == "rural")
                & (table.quintile == "Q1") & (table.status == "all")]
    assert row["value"].item() == float(ds["che10"].sel(scenario=ds.scenario.values[1],
                                                        replicate=1, residence="rural",
                                                        quintile="Q1", status="all"))
    assert row["long_name_zh"].item() == ds["che10"].attrs["long_name_zh"]
    assert row["scenario_label_zh"].item() == str(ds.scenario_label_zh.values[1])


def test_a_projection_exports_its_years(projection, tmp_path):
    folder, ds = projection
    assert invoke("export", folder, "--format", "csv").exit_code == 0
    back = pd.read_csv(folder / "export.csv", encoding="utf-8-sig")
    assert sorted(back["year"].unique()) == [2023, 2024, 2025]
    assert list(back.columns[:5]) == ["scenario", "scenario_label", "scenario_label_zh", "year",
                                      "replicate"]
    cut = back[back.indicator == "che10"]
    np.testing.assert_array_equal(cut["value"].to_numpy(),
                                  at(ds, "che10", cut, ["year"] + IDS))
    # the Stata file keeps the year as a variable too
    assert invoke("export", folder, "--format", "dta").exit_code == 0
    data = pd.read_stata(folder / "export.dta")
    assert sorted(data["year"].unique()) == [2023, 2024, 2025] and len(data) == 2 * 3 * 1 * 3 * 6 * 6


def test_an_existing_export_is_kept_unless_forced(run, tmp_path):
    folder, _ = run
    path = tmp_path / "kept.parquet"
    path.write_bytes(b"mine")
    refused = invoke("export", folder, "--format", "parquet", "--out", path)
    assert refused.exit_code == 2
    assert f"{path}, key 'out': the export exists; pass --force to replace it" in refused.output
    assert path.read_bytes() == b"mine"
    assert invoke("export", folder, "--format", "parquet", "--out", path, "--force").exit_code == 0
    assert len(pd.read_parquet(path)) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.parquet"]   # no temporary left
    bad = invoke("export", folder, "--format", "xls")
    assert bad.exit_code == 2 and "unknown export format 'xls' (formats: csv, xlsx, dta, parquet)" in bad.output


def test_summary_json_holds_the_numbers_the_table_shows(run):
    folder, ds = run
    table = invoke("summary", folder, "-i", "che10", "-i", "oop_per_person")
    as_json = invoke("summary", folder, "-i", "che10", "-i", "oop_per_person", "--format", "json")
    assert table.exit_code == 0 and as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.output)
    assert doc["replicates"] == 2 and doc["cell"] == {"residence": "all", "quintile": "all",
                                                      "status": "all"}
    assert len(doc["rows"]) == 2 * ds.sizes["scenario"]
    for row in doc["rows"]:
        shown = f"{_fmt(row['mean'])} [{_fmt(row['lower'])}, {_fmt(row['upper'])}]"
        line = next(l for l in table.output.splitlines() if l.strip("│ ").startswith(row["indicator"]))
        assert shown in line
    s = microsim.summarize(ds[["che10"]])
    first = doc["rows"][0]
    assert first["mean"] == float(s["che10"].sel(scenario=first["scenario"], stat="mean",
                                                 residence="all", quintile="all", status="all"))


def test_compare_csv_has_the_effects(run):
    folder, ds = run
    result = invoke("compare", folder, "-i", "che10", "--format", "csv")
    assert result.exit_code == 0, result.output
    back = pd.read_csv(io.StringIO(result.output))
    assert list(back.columns) == ["indicator", "unit", "scenario", "baseline", "baseline_mean",
                                  "reform_mean", "effect", "se", "lower", "upper"]
    # the paired effect's mean is the difference of the two means
    row = back.iloc[0]
    assert row["effect"] == pytest.approx(row["reform_mean"] - row["baseline_mean"], rel=1e-9)
    assert row["lower"] <= row["effect"] <= row["upper"]
    assert invoke("summary", folder, "--format", "xml").exit_code == 2


def test_stata_names_for_awkward_indicator_names():
    from microsim.errors import RunError
    names = stata_names(["if", "x-y", "2sls", "a" * 40, "scenario"], taken=("scenario",))
    # a reserved word, a name starting with a digit and an id column get "v_"; a character
    # Stata refuses becomes "_"; 40 a's keep 27 and the hash of the full name
    assert names == {"if": "v_if", "x-y": "x_y", "2sls": "v_2sls",
                     "a" * 40: "a" * 27 + "_" + hashlib.sha1(b"a" * 40).hexdigest()[:4],
                     "scenario": "v_scenario"}
    with pytest.raises(RunError, match="the indicators 'x-y' and 'x_y' shorten to the same "
                       "Stata name 'x_y'"):
        stata_names(["x-y", "x_y"])


def test_the_summary_in_stata_has_a_row_per_statistic(run, tmp_path):
    folder, ds = run
    path = tmp_path / "s.dta"
    result = invoke("export", folder, "--format", "dta", "--summary", "-i", "che10", "-i",
                    "oop_per_person", "--out", path)
    assert result.exit_code == 0, result.output
    with pd.io.stata.StataReader(path) as reader:
        data = reader.read()
        value_labels = reader.value_labels()
    assert list(value_labels["stat"].values()) == ["mean", "se", "lower", "upper"]
    assert [c for c in data.columns if c not in ("scenario", "scenario_label",
                                                 "scenario_label_zh", "residence", "quintile",
                                                 "status", "stat")] == ["che10", "oop_per_person"]
    # 2 scenarios x 108 group cells x 4 statistics
    assert len(data) == 2 * 108 * 4
    s = microsim.summarize(ds[["che10"]])
    cell = data[(data.stat == "upper") & (data.residence == "rural") & (data.quintile == "Q2")
                & (data.status == "all") & (data.scenario == str(ds.scenario.values[0]))]
    assert cell["che10"].item() == float(s["che10"].sel(stat="upper", residence="rural",
                                                        quintile="Q2", status="all",
                                                        scenario=ds.scenario.values[0]))
