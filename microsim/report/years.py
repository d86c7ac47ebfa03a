"""Years of a results Dataset: a one-year run, or a projection with a `year` dimension.

Takes: a results Dataset. A one-year run has dims (scenario, replicate, residence,
quintile, status) and a scalar `year` attribute; a projection has a `year` dimension (an
int coordinate) right after `scenario`. Gives: the years simulated, the last of them, one
year of a projection as a one-year Dataset (so every table written for one year reads it
unchanged), per-year summaries of the indicators that are followed over the years, and
`choose_year`, the `--year` option of the commands on results (a year the results do not
hold is refused, naming the years they do hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from microsim.errors import InputError

YEAR = "year"


def is_projection(ds: xr.Dataset) -> bool:
    """Whether the results hold more than one simulated year (a `year` dimension)."""
    return YEAR in ds.dims


def simulated_years(ds: xr.Dataset) -> list[int]:
    """The years the results describe: the `year` coordinate of a projection, the `year`
    attribute of a one-year run ([] when a one-year run does not record its year)."""
    if is_projection(ds):
        return [int(y) for y in ds[YEAR].values]
    year = ds.attrs.get(YEAR)
    try:
        return [int(year)] if year is not None else []
    except (TypeError, ValueError):
        return []


def last_year(ds: xr.Dataset) -> int | None:
    years = simulated_years(ds)
    return years[-1] if years else None


def in_year(ds: xr.Dataset, year: int) -> xr.Dataset:
    """One year of a projection as a one-year results Dataset (the `year` dimension dropped,
    the year kept in the `simulated_year` attribute); a one-year run as it is."""
    if not is_projection(ds):
        return ds
    one = ds.sel({YEAR: year}, drop=True)
    one.attrs = dict(ds.attrs, simulated_year=int(year),
                     projection_years=f"{simulated_years(ds)[0]}-{simulated_years(ds)[-1]}")
    return one


def year_range(years: list[int]) -> str:
    """"2021-2025" for consecutive years, else "2021, 2023, 2025"."""
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(str(y) for y in years)


def choose_year(ds: xr.Dataset, path: Path | None, year: int | None) -> tuple[xr.Dataset, str]:
    """The results of one year (default: the last) and a phrase saying which year it is
    ("" for a one-year run that does not record its year). A year the results do not
    hold is refused, naming the years they hold."""
    years = simulated_years(ds)
    if year is not None and years and year not in years:
        raise InputError(path, f"no year {year} in the results (years: {year_range(years)})",
                         key="year")
    if not is_projection(ds):
        if year is not None and not years:
            raise InputError(path, "the results do not record the year they simulate, so "
                             "--year cannot be checked; leave it out", key="year", value=year,
                             has_value=True)
        return ds, (f"year {years[0]}" if years else "")
    chosen = years[-1] if year is None else year
    if chosen == years[-1]:
        phrase = f"year {chosen} (the last simulated year of {year_range(years)})"
    else:
        phrase = f"year {chosen} (years simulated: {year_range(years)})"
    return in_year(ds, chosen), phrase


@dataclass
class YearStats:
    """Per-year summaries of a projection: `by_year[year]` is a `Stats` of that year
    (means and 95% intervals over replicates), for the indicators followed over the years."""

    years: list[int]
    by_year: dict


def year_stats(ds: xr.Dataset, names: list[str]) -> YearStats | None:
    """Summaries of `names` in every year of a projection (None for a one-year run), with
    the same helper as every other table of the report (`engine.summary.summarize`)."""
    if not is_projection(ds):
        return None
    from microsim.engine.summary import summarize
    from microsim.report.content import stats_of

    names = sorted(set(names))
    years = simulated_years(ds)
    if not names:
        from microsim.report.content import Stats
        return YearStats(years, {y: Stats({}, {}, [str(s) for s in ds.scenario.values])
                                 for y in years})
    summary = summarize(ds[names])
    return YearStats(years, {y: stats_of(summary.sel({YEAR: y}, drop=True), names)
                             for y in years})
