"""Summaries across replicates: mean, standard error and a 95% interval, and paired effects.

Takes: a results Dataset. Gives: Datasets with a `stat` dimension (mean, se,
lower, upper) in place of `replicate`. Intervals use Student's t with
replicates - 1 degrees of freedom; with one replicate se and interval are NaN.
`effects` subtracts the baseline replicate by replicate (common random
numbers make the paired difference far less noisy than two separate means).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats as _stats

STATS = ("mean", "se", "lower", "upper")


def summarize(ds: xr.Dataset, level: float = 0.95) -> xr.Dataset:
    """Mean, standard error and a `level` interval of every indicator across replicates."""
    n = ds.sizes.get("replicate", 1)
    mean = ds.mean("replicate", keep_attrs=True)
    if n > 1:
        se = ds.std("replicate", ddof=1, keep_attrs=True) / np.sqrt(n)
        t = float(_stats.t.ppf(0.5 + level / 2, n - 1))
    else:
        se = mean * np.nan
        t = np.nan
    out = xr.concat([mean, se, mean - t * se, mean + t * se], dim="stat", coords="minimal",
                    compat="override")
    out = out.assign_coords(stat=list(STATS))
    for name in ds.data_vars:
        out[name].attrs = dict(ds[name].attrs)
    out.attrs = dict(ds.attrs, interval_level=level)
    return out


def effects(ds: xr.Dataset, baseline: str | None = None, level: float = 0.95) -> xr.Dataset:
    """Each scenario minus the baseline, replicate by replicate, summarised."""
    base = baseline or str(ds.scenario.values[0])
    diff = ds - ds.sel(scenario=base)
    for name in ds.data_vars:
        diff[name].attrs = dict(ds[name].attrs, effect_of="scenario minus " + base)
    return summarize(diff.drop_sel(scenario=base), level)
