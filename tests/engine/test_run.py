"""End to end: chunk invariance, scheduler invariance, the results schema and the public API."""

from __future__ import annotations

import re

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
from microsim.cli import app

ROOT = Path(__file__).resolve().parents[2]


def experiment(tmp_path: Path, chunk_size: int, households: int = 74_000, replicates: int = 2,
               output: str = "out") -> Path:
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("households: 100000", f"households: {households}")
    text = text.replace("chunk_size: 25000", f"chunk_size: {chunk_size}")
    text = text.replace("replicates: 5", f"replicates: {replicates}")
    text = text.replace(f"output: {ROOT}/results/quickstart", f"output: {output}")
    path = tmp_path / f"exp_{chunk_size}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def same(a: xr.Dataset, b: xr.Dataset) -> bool:
    return all(np.array_equal(a[v].values, b[v].values, equal_nan=True) for v in a.data_vars)


@pytest.fixture(scope="module")
def chunked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chunks")
    return {size: microsim.run(experiment(tmp, size), write=False) for size in (10_000, 37_000)}


def test_results_are_bit_identical_for_chunk_sizes_10000_and_37000(chunked):
    assert same(chunked[10_000], chunked[37_000])


def test_results_are_identical_under_the_synchronous_scheduler(tmp_path, chunked):
    ds = microsim.run(experiment(tmp_path, 37_000), write=False, scheduler="synchronous")
    assert same(ds, chunked[37_000])


def test_replicates_differ_and_scenarios_share_their_people(chunked):
    ds = chunked[10_000]
    che = ds["che10"].sel(residence="all", quintile="all", status="all")
    assert che.sel(replicate=0, scenario="baseline") != che.sel(replicate=1, scenario="baseline")
    # The reform changes only benefits, so the poverty headcount before OOP is identical.
    pre = ds["poverty_before_dibao"].sel(residence="all", quintile="all", status="all")
    assert np.array_equal(pre.sel(scenario="baseline"), pre.sel(scenario="resident_rates_plus5"))
    # Raising residents' rates lowers residents' out-of-pocket spending in every replicate.
    oop = ds["oop_per_person"].sel(residence="all", quintile="all", status="all")
    assert (oop.sel(scenario="resident_rates_plus5") < oop.sel(scenario="baseline")).all()


def test_results_file_schema(tmp_path):
    result = CliRunner().invoke(app, ["run", str(experiment(tmp_path, 20_000, households=20_000)),
                                      "--quiet"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "che10" in result.output and "persons/s" in result.output
    ds = xr.open_dataset(tmp_path / "out" / "results.nc")
    assert ds["che10"].dims == ("scenario", "replicate", "residence", "quintile", "status")
    assert list(ds.residence.values) == ["urban", "rural", "all"]
    assert list(ds.quintile.values) == ["Q1", "Q2", "Q3", "Q4", "Q5", "all"]
    assert list(ds.status.values) == ["general", "tekun", "dibao", "dibian", "monitored", "all"]
    assert list(ds.scenario.values) == ["baseline", "resident_rates_plus5"]
    for name in ("oop_share_income", "che10", "che25", "impoverished_dibao", "inpatient_pr_reimbursement"):
        attrs = ds[name].attrs
        assert attrs["units"] and attrs["long_name"] and attrs["long_name_zh"] and attrs["source"]
    assert ds.attrs["seed"] == "20231"
    assert "resident_rates_plus5" in ds.attrs["experiment"]
    assert ds.attrs["microsim_version"]
    # The table the run prints holds the means over replicates, to the 2 decimals it shows:
    # che10 for baseline and reform, residence all, urban, rural, in that order.
    row = next(line for line in result.output.splitlines() if line.startswith("│ che10 "))
    printed = [float(x) for x in re.findall(r"\d+\.\d+", row)]
    che10 = ds["che10"].sel(quintile="all", status="all").mean("replicate")
    expected = [float(che10.sel(scenario=s, residence=r))
                for s in ("baseline", "resident_rates_plus5") for r in ("all", "urban", "rural")]
    assert printed == pytest.approx(expected, abs=0.005 + 1e-9)
    # No temporary files are left beside the results and the report (the lock file stays: it
    # is how the next run into this folder knows whether one is going on).
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".microsim-run.lock", "figures", "report.zh.html", "report.zh.md", "results.nc"]
    # A second run without --force refuses to overwrite.
    again = CliRunner().invoke(app, ["run", str(experiment(tmp_path, 20_000, households=20_000)), "--quiet"])
    assert again.exit_code == 3 and "already exists" in again.output


def test_group_margins_add_up(chunked):
    ds = chunked[37_000].sel(scenario="baseline", replicate=0)
    pop = ds["population"]
    che = (ds["che10"] * pop).fillna(0.0)     # persons with catastrophic spending (empty cells: 0)
    for dim, parts in (("residence", ["urban", "rural"]), ("status", list(ds.status.values[:-1])),
                       ("quintile", ["Q1", "Q2", "Q3", "Q4", "Q5"])):
        for total in (pop, che):
            np.testing.assert_allclose(total.sel({dim: parts}).sum(dim), total.sel({dim: "all"}),
                                       rtol=1e-9)
    # Quintiles are fifths of persons, to within rounding.
    q = pop.sel(residence="all", status="all")
    np.testing.assert_allclose(q.sel(quintile=["Q1", "Q2", "Q3", "Q4", "Q5"]) / q.sel(quintile="all"),
                               0.2, rtol=1e-9)


def test_summarize_gives_mean_and_interval(chunked):
    s = microsim.summarize(chunked[10_000])
    mean = s["che10"].sel(stat="mean", residence="all", quintile="all", status="all", scenario="baseline")
    lo = s["che10"].sel(stat="lower", residence="all", quintile="all", status="all", scenario="baseline")
    hi = s["che10"].sel(stat="upper", residence="all", quintile="all", status="all", scenario="baseline")
    assert lo < mean < hi
    eff = microsim.effects(chunked[10_000])
    assert list(eff.scenario.values) == ["resident_rates_plus5"]
    assert float(eff["oop_per_person"].sel(stat="mean", residence="all", quintile="all", status="all",
                                           scenario="resident_rates_plus5")) < 0
