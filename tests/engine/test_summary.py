"""Summaries across replicates, paired and unpaired effects, and urban-rural gaps, on a
hand-built results Dataset."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import microsim

DIMS = ("scenario", "replicate", "residence", "quintile", "status")


def results(values: dict[str, list[list[list[float]]]]) -> xr.Dataset:
    """values[name][scenario][replicate][residence] with residence (urban, rural, all)."""
    data = {}
    for name, v in values.items():
        arr = np.array(v, dtype=float)[..., None, None]
        data[name] = (DIMS, arr, {"units": "percent of persons", "long_name": name,
                                  "long_name_zh": "测试"})
    return xr.Dataset(data, coords={"scenario": ["base", "reform"], "replicate": [0, 1, 2],
                                    "residence": ["urban", "rural", "all"],
                                    "quintile": ["all"], "status": ["all"]})


DS = results({"che10": [[[10, 20, 14], [12, 21, 16], [14, 25, 18]],
                        [[9, 19, 13], [11.5, 20, 15], [13, 24, 17]]]})
CELL = dict(residence="urban", quintile="all", status="all")


def test_summarize_mean_se_and_t_interval():
    s = microsim.summarize(DS)["che10"].sel(scenario="base", **CELL)
    # Urban baseline 10, 12, 14: mean 12, sd 2, se 2/sqrt(3); t(0.975, 2 df) = 4.302653.
    assert float(s.sel(stat="mean")) == pytest.approx(12.0)
    assert float(s.sel(stat="se")) == pytest.approx(2 / np.sqrt(3))
    assert float(s.sel(stat="upper")) == pytest.approx(12 + 4.302653 * 2 / np.sqrt(3), rel=1e-6)
    assert s.attrs["units"] == "percent of persons"
    one = microsim.summarize(DS.isel(replicate=[0]))["che10"].sel(scenario="base", **CELL)
    assert float(one.sel(stat="mean")) == 10.0 and np.isnan(float(one.sel(stat="se")))


def test_paired_and_unpaired_effects():
    # Urban differences reform - base per replicate: -1, -0.5, -1: mean -5/6; deviations
    # -1/6, 1/3, -1/6: variance (1/36 + 1/9 + 1/36) / 2 = 1/12; se = sqrt(1/12 / 3) = 1/6.
    paired = microsim.effects(DS)["che10"].sel(scenario="reform", **CELL)
    assert float(paired.sel(stat="mean")) == pytest.approx(-5 / 6)
    assert float(paired.sel(stat="se")) == pytest.approx(1 / 6)
    assert float(paired.sel(stat="lower")) == pytest.approx(-5 / 6 - 4.302653 / 6, rel=1e-6)
    # Unpaired: variances of the means 4/3 (base 10, 12, 14) and 49/36 (reform 9, 11.5, 13:
    # deviations -13/6, 1/3, 11/6 -> (169 + 4 + 121)/36 / 2 = 49/12, over 3);
    # se = sqrt(4/3 + 49/36) = sqrt(97/36); Welch df = (97/36)^2 / ((4/3)^2/2 + (49/36)^2/2).
    un = microsim.effects(DS, paired=False)["che10"].sel(scenario="reform", **CELL)
    se = np.sqrt(97 / 36)
    df = (97 / 36) ** 2 / ((4 / 3) ** 2 / 2 + (49 / 36) ** 2 / 2)
    assert float(un.sel(stat="mean")) == pytest.approx(-5 / 6)
    assert float(un.sel(stat="se")) == pytest.approx(se)
    assert float(un.sel(stat="upper")) == pytest.approx(-5 / 6 + stats.t.ppf(0.975, df) * se)
    # The baseline is not among the effects; attrs say what was subtracted.
    eff = microsim.effects(DS)
    assert list(eff.scenario.values) == ["reform"]
    assert eff["che10"].attrs["effect_of"] == "scenario minus base"
    with pytest.raises(KeyError, match="no scenario 'nope'"):
        microsim.effects(DS, baseline="nope")


def test_urban_rural_ratio_and_difference():
    gap = microsim.urban_rural(DS)
    cell = dict(scenario="base", replicate=0, quintile="all", status="all")
    # Replicate 0 of the baseline: rural 20, urban 10.
    assert float(gap["che10_ratio"].sel(**cell)) == pytest.approx(2.0)
    assert float(gap["che10_difference"].sel(**cell)) == pytest.approx(10.0)
    assert gap["che10_difference"].attrs["units"].startswith("percentage points")
    assert gap["che10_ratio"].attrs["units"] == "ratio"
    # Gaps keep the replicate dimension, so they summarise and pair like any indicator:
    # differences 10, 9, 11 (mean 10); reform 10, 8.5, 11 minus those: 0, -0.5, 0.
    assert float(microsim.summarize(gap)["che10_difference"].sel(
        scenario="base", stat="mean", quintile="all", status="all")) == pytest.approx(10.0)
    assert float(microsim.effects(gap)["che10_difference"].sel(
        scenario="reform", stat="mean", quintile="all", status="all")) == pytest.approx(-1 / 6)
    # An urban value of 0 gives a NaN ratio, not infinity.
    zero = results({"x": [[[0, 5, 5]] * 3, [[0, 5, 5]] * 3]})
    assert np.isnan(microsim.urban_rural(zero)["x_ratio"]).all()
