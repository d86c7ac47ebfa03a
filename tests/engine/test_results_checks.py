"""Results files that are not what `microsim run` writes are refused on opening, by file and
key; the commands on results handle every shape a valid experiment can give (groups left out,
one scenario, one replicate, a results file named instead of its folder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.engine.results import open_results
from microsim.errors import InputError
from tests.engine.test_run import experiment

runner = CliRunner()


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> xr.Dataset:
    tmp = tmp_path_factory.mktemp("res")
    return microsim.run(experiment(tmp, 300, households=600), write=False,
                        scheduler="synchronous")


def saved(ds: xr.Dataset, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    ds.to_netcdf(folder / "results.nc")
    return folder


@pytest.mark.parametrize("damage, message", [
    (lambda ds: ds.isel(replicate=0, drop=True),
     r"key 'replicate': not microsim results: no 'replicate' dimension"),
    (lambda ds: ds.assign_coords(status=[f"s{i}" for i in range(6)]),
     r"key 'status': not microsim results: the 'status' labels must be among \['general', "
     r"'tekun', 'dibao', 'dibian', 'monitored', 'all'\] and include 'all'"),
    (lambda ds: ds.assign_coords(scenario=["a", "a"]),
     r"key 'scenario': not microsim results: the 'scenario' labels repeat: \['a', 'a'\]"),
    (lambda ds: ds.assign(che10=ds["che10"].astype(str)),
     r"key 'che10': not microsim results: variable 'che10' is not numeric"),
    (lambda ds: ds.assign(che10=("extra", np.arange(2.0))),
     r"key 'che10': not microsim results: variable 'che10' has dimensions \('extra',\)"),
    (lambda ds: ds.assign_attrs(households="[1]"),
     r"key 'households': not microsim results: attribute 'households' is not a whole number"),
    (lambda ds: ds.assign_attrs(policies="{not json"),
     r"key 'policies': not microsim results: attribute 'policies' is not the JSON written"),
    (lambda ds: ds.assign_attrs(experiment="targets:\n  - {indicator: nope, target: 1, "
                                           "document: x}\n"),
     r"key 'experiment': not microsim results: attribute 'experiment', targets\.0: no "
     r"indicator 'nope' in the results"),
    (lambda ds: xr.Dataset(attrs=ds.attrs),
     r"key 'scenario': not microsim results: no 'scenario' dimension"),
])
def test_damaged_results_are_refused_on_opening(results, tmp_path, damage, message):
    folder = saved(damage(results), tmp_path)
    with pytest.raises(InputError, match=rf"results\.nc, {message}"):
        open_results(folder)
    # Every command on results says the same, cleanly, with exit code 2.
    for command in (["summary"], ["compare"], ["report", "--format", "md"]):
        done = runner.invoke(app, [command[0], str(folder)] + command[1:])
        assert done.exit_code == 2 and "not microsim results" in done.output, done.output
        assert "internal error" not in done.output


def test_a_folder_named_like_a_results_file_is_refused(tmp_path):
    (tmp_path / "run" / "results.nc").mkdir(parents=True)
    with pytest.raises(InputError, match=r"results\.nc: (a folder: reading results in Zarr needs "
                                         r"the 'zarr' package|not a results file microsim can "
                                         r"read)"):
        open_results(tmp_path / "run")


def test_results_whose_groups_leave_out_residence_have_no_gap(results, tmp_path):
    folder = saved(results.sel(residence=["all"]), tmp_path)
    done = runner.invoke(app, ["summary", str(folder), "--gap"])
    assert done.exit_code == 2 and "the results have no urban and rural groups" in done.output
    done = runner.invoke(app, ["report", str(folder), "--format", "md"])
    assert done.exit_code == 0, done.output


def test_report_on_a_results_file_writes_beside_it(results, tmp_path):
    folder = saved(results, tmp_path)
    done = runner.invoke(app, ["report", str(folder / "results.nc"), "--format", "md"])
    assert done.exit_code == 0, done.output
    assert (folder / "report.zh.md").exists() and (folder / "figures" / "zh").is_dir()


def test_summary_without_headline_indicators_shows_every_indicator(results, tmp_path):
    folder = saved(results[["households", "cost_per_person"]], tmp_path)
    done = runner.invoke(app, ["summary", str(folder)])
    assert done.exit_code == 0, done.output
    assert "households" in done.output and "cost_per_person" in done.output


def test_the_results_microsim_writes_pass_the_check(results, tmp_path):
    folder = saved(results, tmp_path)
    ds = open_results(folder)
    assert set(ds.data_vars) == set(results.data_vars)
    assert json.loads(ds.attrs["policies"])
