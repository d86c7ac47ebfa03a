"""End to end for the ADePT Health tables: the grid, winners and losers and the paint-drip
sample do not depend on the chunk size; an experiment's own grid; the sample's contents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import microsim
from microsim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
NEW = ("che_grid_", "overshoot_grid_", "mpo_grid_", "winners_", "losers_", "unchanged_",
       "payment_change", "oop_change")


def experiment(tmp_path: Path, chunk_size: int, extra: str = "") -> Path:
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("households: 100000", "households: 3000")
    text = text.replace("chunk_size: 25000", f"chunk_size: {chunk_size}")
    text = text.replace("replicates: 5", "replicates: 2")
    text = text.replace(f"output: {ROOT}/results/quickstart", "output: out") + extra
    path = tmp_path / f"exp_{chunk_size}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adept")
    # 700 households a chunk: the 2,000 households of the drip sample span three chunks.
    return {size: microsim.run(experiment(tmp, size), write=False) for size in (700, 3000)}


def test_new_sums_and_the_sample_do_not_depend_on_the_chunk_size(runs):
    a, b = runs[700], runs[3000]
    names = [str(v) for v in a.data_vars if str(v).startswith(NEW)]
    assert len(names) == 6 * 5 + 7 * 11                 # the default grid of 5; 7 x (all + 10)
    for name in names + ["drip_weight", "drip_size", "drip_residence", "drip_income", "drip_oop"]:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


def test_the_drip_sample_holds_the_first_households_of_replicate_0(runs):
    ds = runs[700]
    assert ds.sizes["drip_household"] == 2000
    assert ds["drip_oop"].dims == ("scenario", "drip_household")
    oop = ds["drip_oop"].values
    # The reform raises residents' rates: no household of the sample pays more out of pocket,
    # and some pay less.
    assert (oop[1] <= oop[0] + 1e-9).all() and (oop[1] < oop[0] - 1.0).any()
    assert (ds["drip_size"].values >= 1).all() and (ds["drip_weight"].values > 0).all()


def test_winners_of_a_benefit_reform_and_none_in_the_baseline(runs):
    ds = runs[3000].sel(residence="all", quintile="all", status="all")
    base, reform = ds.sel(scenario="baseline"), ds.sel(scenario="resident_rates_plus5")
    assert (base["winners_share"] == 0).all() and (base["losers_share"] == 0).all()
    assert (base["unchanged_share"] == 100).all()
    # Raising rates lowers no one's bill: no losers, some winners, payments fall on average.
    assert (reform["losers_share"] == 0).all() and (reform["winners_share"] > 0).all()
    assert (reform["payment_change"] < 0).all()
    # Deciles split the whole population: their persons-weighted shares add up to the total.
    total = sum(reform[f"winners_share_d{d}"] for d in range(1, 11)) / 10
    assert np.allclose(total, reform["winners_share"], rtol=1e-9)


def test_an_experiments_grid_replaces_the_default(tmp_path):
    path = experiment(tmp_path, 3000, "che_grid: [0.10, 0.30]\n")
    text = path.read_text(encoding="utf-8").replace("households: 3000", "households: 400")
    path.write_text(text, encoding="utf-8")
    ds = microsim.run(path, write=False)
    assert sorted(n for n in ds.data_vars if str(n).startswith("che_grid_")) == [
        "che_grid_10", "che_grid_10_income", "che_grid_30", "che_grid_30_income"]
    assert np.array_equal(ds["che_grid_10"].values, ds["che10"].values, equal_nan=True)
    assert ds.attrs["che_grid"] == "[0.1, 0.3]"


def test_an_experiments_bad_grid_is_refused(tmp_path):
    path = experiment(tmp_path, 3000, "che_grid: [0.10, 0.05]\n")
    with pytest.raises(InputError) as err:
        microsim.run(path, write=False)
    assert "che_grid" in str(err.value)
    assert "catastrophic-payment thresholds ascend strictly: 0.05 follows 0.1" in str(err.value)
