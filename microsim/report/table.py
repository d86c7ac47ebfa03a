"""The headline table: key indicators for each scenario, all, urban and rural.

Takes: a results Dataset. Gives: rows of (indicator, units, value per scenario
and residence) as plain data, and a `rich` Table of them for the terminal.
Values are means across replicates (`engine.summary.summarize`); a projection's
table shows its last simulated year and says so in its title.
"""

from __future__ import annotations

import math

import xarray as xr
from rich.table import Table

from microsim.engine.summary import summarize
from microsim.report.years import choose_year

HEADLINE = ("oop_share_income", "che10", "che25", "impoverished_dibao",
            "inpatient_pr_reimbursement", "inpatient_pr_reimbursement_residents")
SHORT_UNITS = {"percent": "%", "percent of persons": "% persons", "percent of households": "% hh",
               "yuan per person per year": "yuan/person"}


def headline_rows(ds: xr.Dataset, indicators=HEADLINE) -> list[dict]:
    ds, _ = choose_year(ds, None, None)
    residences = [r for r in ("all", "urban", "rural") if r in ds.residence.values]
    rows = []
    names = [n for n in indicators if n in ds.data_vars] or \
        [n for n in ds.data_vars if n.startswith("impoverished_")][:1]
    s = summarize(ds[names])       # only the rows shown, not every indicator of the run
    for name in names:
        da = s[name].sel(stat="mean", quintile="all", status="all")
        values = {}
        for scen in ds.scenario.values:
            for res in residences:
                values[(str(scen), res)] = float(da.sel(scenario=scen, residence=res))
        rows.append({"name": name, "long_name": ds[name].attrs["long_name"],
                     "long_name_zh": ds[name].attrs["long_name_zh"],
                     "units": ds[name].attrs["units"], "values": values})
    return rows


def headline_table(ds: xr.Dataset) -> Table:
    ds, which = choose_year(ds, None, None)
    rows = headline_rows(ds)
    residences = [r for r in ("all", "urban", "rural") if r in ds.residence.values]
    n = ds.sizes["replicate"]
    title = f"{ds.attrs.get('experiment_name', '')}: mean of {n} replicate(s)"
    if "simulated_year" in ds.attrs:
        title += f"; {which}"
    table = Table(title=title, show_lines=False)
    table.add_column("indicator")
    table.add_column("unit")
    for scen in ds.scenario.values:
        for res in residences:
            table.add_column(f"{scen}\n{res}", justify="right")
    for row in rows:
        cells = []
        for scen in ds.scenario.values:
            for res in residences:
                v = row["values"][(str(scen), res)]
                cells.append("n/a" if math.isnan(v) else f"{v:,.2f}")
        table.add_row(row["name"], SHORT_UNITS.get(row["units"], row["units"]), *cells)
    table.caption = "; ".join(f"{r['name']}: {r['long_name']}" for r in rows)
    return table
