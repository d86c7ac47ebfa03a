"""The section "Paths over the years" (历年变化) of a projection.

Takes: the last year of a projection (for names and units), its `Summaries` with the
per-year values (`Summaries.years`, from `years.year_stats`), the headline indicators and
the carried fund indicators present, a language and the report labels. Gives: a `Section`
with two tables, the headline indicators and the funds, each with one row per indicator
and scenario and one column per simulated year (the mean over replicates with its 95%
interval, in the whole population), and one line figure per fund indicator (years on x,
one line per scenario, the interval shaded). A value that does not exist prints as n/a:
the growth of expenditure in the first year, which has no previous year.

Which fund indicators are followed is set in `labels.yaml` (`paths_funds`); the carried
funds have values only in the whole population (a fund is not split by group).
"""

from __future__ import annotations

import xarray as xr

from microsim.report.content import (Cell, Section, Summaries, Table, indicator_name,
                                     scenario_names, unit_of, value_cells)
from microsim.report.numbers import digits_for


def path_indicators(ds: xr.Dataset, head: list[str], lab: dict) -> tuple[list[str], list[str]]:
    """(headline indicators, carried fund indicators) that the section follows: the fund
    indicators of `labels.yaml` the results have, and the headline indicators that are not
    among them."""
    funds = [n for n in lab["paths_funds"] if n in ds.data_vars]
    return [n for n in head if n not in funds], funds


def path_rows(ds: xr.Dataset, sm: Summaries, names: list[str], lang: str,
              lab: dict) -> list[list[Cell]]:
    """One row per indicator and scenario: indicator (first row only), unit, scenario and one
    cell per year (mean with its interval), with the indicator's decimals in every year."""
    scen = scenario_names(ds, lang)
    ys = sm.years
    rows = []
    for name in names:
        display = unit_of(ds, name, lab)
        triples = {sc: [ys.by_year[y].get(name, sc) for y in ys.years]
                   for sc in sm.values.scenarios}
        digits = None if display.digits is None else int(display.digits)
        if digits is None:
            digits = digits_for(display, [t[0] for row in triples.values() for t in row])
        for k, sc in enumerate(sm.values.scenarios):
            row = [Cell(indicator_name(ds, name, lang) if k == 0 else ""),
                   Cell(display.label, short=True), Cell(scen[sc])]
            row += value_cells(triples[sc], display, lang, digits=digits)
            rows.append(row)
    return rows


def paths_section(ds: xr.Dataset, sm: Summaries, head: list[str], funds: list[str], lang: str,
                  lab: dict) -> Section:
    from microsim.report.figures import path_figures

    ys = sm.years
    sec = Section(lab["paths"], key="paths")
    sec.blocks.append(lab["paths_note"].format(first=ys.years[0], last=ys.years[-1],
                                               replicates=ds.sizes["replicate"]))
    columns = [lab["indicator"], lab["unit"], lab["scenario"]] + [str(y) for y in ys.years]
    if head:
        sec.blocks.append(Table(columns, path_rows(ds, sm, head, lang, lab),
                                caption=lab["paths_headline"], kind="paths"))
    if funds:
        sec.blocks.append(lab["paths_funds_note"])
        sec.blocks.append(Table(columns, path_rows(ds, sm, funds, lang, lab),
                                caption=lab["paths_funds_caption"], kind="paths"))
        sec.blocks += path_figures(ds, sm, funds, lang, lab)
    return sec
