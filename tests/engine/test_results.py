"""A run's results: written, reopened in xarray, selected by group labels, summarised, and
compared from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.errors import InputError
from tests.engine.test_run import experiment


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("results")
    path = experiment(tmp, 3_000, households=6_000, replicates=3, output="out")
    ds = microsim.run(path, write=True)
    return tmp / "out", ds


def test_results_reopen_and_select_by_group_labels(written):
    out, ds = written
    back = xr.open_dataset(out / "results.nc")
    # Every indicator comes back bit for bit, with its attrs.
    for name in ds.data_vars:
        assert np.array_equal(back[name].values, ds[name].values, equal_nan=True), name
    che = back["che10"].sel(scenario="baseline", residence="rural", status="dibao", quintile="Q1")
    assert che.dims == ("replicate",) and che.sizes["replicate"] == 3
    assert str(back["status_zh"].sel(status="dibao").values) == "低保"
    attrs = back["erreygers_che10"].attrs
    assert attrs["units"] == "index" and attrs["long_name_zh"] and attrs["definition"]
    assert 0 < attrs["rank_error_bound_all"] < 0.1
    # NaN carries its reason; the population pass's lines are in the provenance.
    assert "medical-assistance financing" in back["assistance_balance_share"].attrs["nan_reason"]
    spl = json.loads(back.attrs["societal_poverty_line"])
    assert len(spl) == 3 and all(v > 0 for v in spl)
    back.close()
    # open_results takes the folder and gives the same data; the summary helper works on it.
    reopened = microsim.open_results(out)
    s = microsim.summarize(reopened)
    mean = s["che10"].sel(stat="mean", scenario="baseline", residence="all", quintile="all",
                          status="all")
    assert float(mean) == pytest.approx(float(ds["che10"].sel(
        scenario="baseline", residence="all", quintile="all", status="all").mean()))
    gap = microsim.summarize(microsim.urban_rural(reopened))
    assert float(gap["che10_difference"].sel(stat="mean", scenario="baseline", quintile="all",
                                             status="all")) > 0   # rural above urban


def test_population_lines_follow_the_definitions(written):
    _, ds = written
    median = json.loads(ds.attrs["median_consumption_per_person"])
    spl = json.loads(ds.attrs["societal_poverty_line"])
    # SPL = max(2.15, 1.15 + half the median daily consumption) dollars, at the quickstart's
    # PPP factor 4.6: 1.15 x 4.6 x 365 + median / 2 (the floor 2.15 x 4.6 x 365 = 3,610).
    for m, line in zip(median, spl):
        assert line == pytest.approx(max(2.15 * 4.6 * 365, 1.15 * 4.6 * 365 + m / 2), rel=1e-6)


def test_open_results_names_what_is_missing(tmp_path):
    with pytest.raises(InputError, match="no results.nc or results.zarr"):
        microsim.open_results(tmp_path)
    bad = tmp_path / "results.nc"
    bad.write_text("not netcdf")
    with pytest.raises(InputError, match="not a results file"):
        microsim.open_results(bad)


def test_compare_prints_paired_effects_with_intervals(written):
    out, ds = written
    result = CliRunner().invoke(app, ["compare", str(out), "-i", "che10", "-i", "oop_per_person",
                                      "--unpaired", "--residence", "rural"])
    assert result.exit_code == 0, result.output
    eff = microsim.effects(ds).sel(scenario="resident_rates_plus5", residence="rural",
                                   quintile="all", status="all")
    # The printed effect and paired interval are those of microsim.effects.
    assert f"{float(eff['che10'].sel(stat='mean')):.4f}" in result.output
    assert f"{float(eff['oop_per_person'].sel(stat='lower')):.4f}" in result.output
    assert "interval (unpaired)" in result.output and "residence=rural" in result.output


def test_summary_and_its_errors(written):
    out, ds = written
    result = CliRunner().invoke(app, ["summary", str(out), "--family", "equity",
                                      "--status", "dibao"])
    assert result.exit_code == 0, result.output
    assert "kakwani_financing" in result.output and "status=dibao" in result.output
    gap = CliRunner().invoke(app, ["summary", str(out), "-i", "che10", "--gap"])
    assert gap.exit_code == 0 and "che10_difference" in gap.output
    typo = CliRunner().invoke(app, ["compare", str(out), "-i", "che11"])
    assert typo.exit_code == 2 and "no indicator 'che11'" in typo.output
    assert "che10" in typo.output          # a suggestion
    group = CliRunner().invoke(app, ["summary", str(out), "--status", "poor"])
    assert group.exit_code == 2 and "no status group 'poor'" in group.output
    missing = CliRunner().invoke(app, ["summary", str(Path(out).parent / "nowhere")])
    assert missing.exit_code == 2 and "results not found" in missing.output
