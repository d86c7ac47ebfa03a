"""Summaries across replicates: mean, standard error and an interval; paired effects; gaps.

Takes: a results Dataset (dims scenario, replicate, residence, quintile,
status). Gives: Datasets with a `stat` dimension (mean, se, lower, upper) in
place of `replicate`:

- `summarize`: every indicator's mean over replicates, its standard error
  (sample standard deviation / sqrt(replicates)) and a Student-t interval
  with replicates - 1 degrees of freedom; with one replicate se and interval
  are NaN.
- `effects`: each scenario minus the baseline. Paired (the default): the
  difference is taken replicate by replicate and then summarised, which is
  where common random numbers pay off, since both scenarios share the
  replicate's people and illnesses. Unpaired (`paired=False`): the
  difference of the two means with se = sqrt(se_a^2 + se_b^2) and Welch's
  degrees of freedom, the interval one would get from independent draws;
  comparing the two shows what pairing gains.
- `urban_rural`: for every indicator the rural/urban ratio and the
  rural - urban difference, replicate by replicate (so they can be
  summarised or turned into effects like any indicator).

Variables without a `replicate` dimension pass through unchanged.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

STATS = ("mean", "se", "lower", "upper")


def _by_dims(ds: xr.Dataset, names: list[str], fn) -> xr.Dataset:
    """Apply fn to one stacked DataArray per set of dims (much faster than variable by
    variable on datasets of a few hundred indicators), and split the result again."""
    groups: dict[tuple, list[str]] = {}
    for name in names:
        groups.setdefault(ds[name].dims, []).append(name)
    parts = []
    for group in groups.values():
        result = fn(ds[group].to_array("indicator"))
        result = result.transpose("indicator", ...)
        coords = {k: c for k, c in result.coords.items()
                  if k != "indicator" and "indicator" not in c.dims}
        values = result.values
        parts.append(xr.Dataset({name: (result.dims[1:], values[i])
                                 for i, name in enumerate(group)}, coords=coords))
    out = xr.merge(parts, compat="override", join="outer") if parts else xr.Dataset()
    for name in names:
        if name in out:
            out[name].attrs = dict(ds[name].attrs)
    return out


def _interval(mean: xr.DataArray, se: xr.DataArray, half: xr.DataArray) -> xr.DataArray:
    return xr.concat([mean, se, mean - half, mean + half], dim="stat").assign_coords(
        stat=list(STATS))


def summarize(ds: xr.Dataset, level: float = 0.95) -> xr.Dataset:
    """Mean, standard error and a `level` interval of every indicator across replicates."""
    if "replicate" not in ds.dims:
        raise ValueError("summarize needs a 'replicate' dimension (a results Dataset)")
    names = [v for v in ds.data_vars if "replicate" in ds[v].dims]
    n = ds.sizes["replicate"]
    from scipy import stats as _stats   # imported here: scipy.stats takes a second to import
    t = float(_stats.t.ppf(0.5 + level / 2, n - 1)) if n > 1 else np.nan

    def fn(a: xr.DataArray) -> xr.DataArray:
        mean = a.mean("replicate")
        se = a.std("replicate", ddof=1) / np.sqrt(n) if n > 1 else mean * np.nan
        return _interval(mean, se, t * se)

    out = _by_dims(ds, names, fn)
    out.attrs = dict(ds.attrs, interval_level=level, replicates=n,
                     interval="Student t with replicates - 1 degrees of freedom")
    return out


def _baseline(ds: xr.Dataset, baseline: str | None) -> str:
    scenarios = [str(s) for s in ds.scenario.values]
    base = baseline or scenarios[0]
    if base not in scenarios:
        raise KeyError(f"no scenario {base!r} in the results (scenarios: {', '.join(scenarios)})")
    return base


def effects(ds: xr.Dataset, baseline: str | None = None, level: float = 0.95,
            paired: bool = True) -> xr.Dataset:
    """Each scenario minus the baseline, summarised across replicates (paired by default)."""
    base = _baseline(ds, baseline)
    names = [v for v in ds.data_vars if "scenario" in ds[v].dims and "replicate" in ds[v].dims]
    data = ds[names]
    others = data.drop_sel(scenario=base)
    ref = data.sel(scenario=base, drop=True)
    if paired:
        out = summarize((others - ref).assign_attrs(ds.attrs), level)
        how = "paired: difference replicate by replicate, then summarised"
    else:
        n = ds.sizes["replicate"]
        both = xr.concat([others, ref.broadcast_like(others)], dim="side")

        def fn(a: xr.DataArray) -> xr.DataArray:
            x, y = a.isel(side=0, drop=True), a.isel(side=1, drop=True)
            mean = x.mean("replicate") - y.mean("replicate")
            if n < 2:
                return _interval(mean, mean * np.nan, mean * np.nan)
            va = x.var("replicate", ddof=1) / n
            vb = y.var("replicate", ddof=1) / n
            se = np.sqrt(va + vb)
            with np.errstate(divide="ignore", invalid="ignore"):
                df = (va + vb) ** 2 / (va ** 2 / (n - 1) + vb ** 2 / (n - 1))
            from scipy import stats as _stats
            t = xr.apply_ufunc(lambda d: _stats.t.ppf(0.5 + level / 2, d), df)
            return _interval(mean, se, t * se)

        out = _by_dims(both, names, fn)
        out.attrs = dict(ds.attrs, interval_level=level, replicates=n,
                         interval="Welch t, scenarios treated as independent draws")
        how = "unpaired: difference of means, se = sqrt(se_a^2 + se_b^2)"
    for name in names:
        out[name].attrs = dict(ds[name].attrs, effect_of=f"scenario minus {base}", effect=how)
    out.attrs["baseline"] = base
    out.attrs["effect"] = how
    return out


def urban_rural(ds: xr.Dataset) -> xr.Dataset:
    """Rural/urban ratio (`NAME_ratio`) and rural - urban difference (`NAME_difference`) of
    every indicator with a residence dimension; NaN where urban is 0 or either is NaN."""
    if "residence" not in ds.dims or not {"urban", "rural"} <= {str(r) for r in ds.residence.values}:
        raise ValueError("the results have no urban and rural groups (add 'residence' to the "
                         "experiment's groups)")
    names = [v for v in ds.data_vars if "residence" in ds[v].dims]

    def ratio_of(a: xr.DataArray) -> xr.DataArray:
        urban = a.sel(residence="urban", drop=True)
        rural = a.sel(residence="rural", drop=True)
        return rural / urban.where(urban != 0)

    def difference_of(a: xr.DataArray) -> xr.DataArray:
        return a.sel(residence="rural", drop=True) - a.sel(residence="urban", drop=True)

    ratios = _by_dims(ds, names, ratio_of)
    differences = _by_dims(ds, names, difference_of)
    out = {}
    for name in names:
        attrs = ds[name].attrs
        units = attrs.get("units", "")
        base = {k: v for k, v in attrs.items() if k in ("source", "family")}
        long_name = attrs.get("long_name", name)
        ratio = ratios[name]
        ratio.attrs = dict(base, units="ratio", long_name=f"{long_name}: rural / urban",
                           gap_of=name,
                           nan_reason="NaN where the urban value is 0 or either value is NaN")
        diff = differences[name]
        diff.attrs = dict(base, gap_of=name, long_name=f"{long_name}: rural - urban",
                          units=f"percentage points ({units})" if units.startswith("percent")
                          else units, nan_reason="NaN where either value is NaN")
        if "long_name_zh" in attrs:
            ratio.attrs["long_name_zh"] = attrs["long_name_zh"] + "（农村/城镇）"
            diff.attrs["long_name_zh"] = attrs["long_name_zh"] + "（农村-城镇）"
        out[f"{name}_ratio"] = ratio
        out[f"{name}_difference"] = diff
    result = xr.Dataset(out)
    result.attrs = dict(ds.attrs, urban_rural="rural/urban ratio and rural - urban difference")
    return result
