"""Commands on written results: `microsim summary RESULTS` and `microsim compare RESULTS`.

Takes: a run's output folder (or its results file) and a choice of indicators,
group and, for a projection, year (`--year`, default the last simulated year; a
year the results do not hold is refused, naming the years they hold). Gives:
tables on the terminal, their title saying which year they show, built from the public helpers
(`microsim.summarize`, `microsim.effects`, `microsim.urban_rural`); nothing
is computed here.

    microsim summary results/quickstart [--residence rural] [--family catastrophic]
    microsim compare results/quickstart [--unpaired] [-i che10 -i che25] [--all]
    microsim summary results/projection --year 2024
    microsim summary results/quickstart --format json      (csv or json on stdout)
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from microsim.cli.common import guarded, out
from microsim.errors import InputError

results_app = typer.Typer(add_completion=False)

HEADLINE = ("oop_per_person", "oop_share_income", "oop_share_consumption", "che10", "che25",
            "che10_income", "che40_ctp", "sdg2025", "impoverished_dibao",
            "inpatient_pr_reimbursement", "inpatient_pr_reimbursement_residents",
            "chronic_outpatient_reimbursement", "comprehensive_coverage",
            "reserve_months_urrbmi", "ci_oop", "erreygers_che10", "kakwani_financing")
GROUP_DIMS = ("residence", "quintile", "status")


def _fmt(v: float, digits: int = 3) -> str:
    if v is None or math.isnan(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    return f"{v:.{digits}f}"


def _choose(ds, path: Path, indicators: list[str] | None, family: str | None,
            everything: bool) -> list[str]:
    names = [str(v) for v in ds.data_vars if "scenario" in ds[v].dims
             and "replicate" in ds[v].dims]
    if indicators:
        for name in indicators:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=3)
                raise InputError(path, f"no indicator {name!r} in the results"
                                 + (f"; did you mean {', '.join(close)}?" if close else ""),
                                 key="indicator")
        return list(indicators)
    if family:
        chosen = [n for n in names if ds[n].attrs.get("family") == family]
        if not chosen:
            families = sorted({str(ds[n].attrs.get("family")) for n in names})
            raise InputError(path, f"no indicator of family {family!r} (families: "
                             f"{', '.join(families)})", key="family")
        return chosen
    if everything:
        return names
    return [n for n in HEADLINE if n in names] or names


def _cell(ds, path: Path, residence: str, quintile: str, status: str) -> dict:
    cell = {}
    for dim, label in zip(GROUP_DIMS, (residence, quintile, status)):
        if dim not in ds.dims:
            continue
        labels = [str(v) for v in ds[dim].values]
        if label not in labels:
            raise InputError(path, f"no {dim} group {label!r} in the results (groups: "
                             f"{', '.join(labels)})", key=dim)
        cell[dim] = label
    return cell


def _open(results: Path, year: int | None = None):
    """The results of one year (a projection's last by default) and the phrase naming it."""
    from microsim.engine.results import open_results
    from microsim.report.years import choose_year
    return choose_year(open_results(results), results, year)


def _title(ds, text: str, year: str) -> str:
    return f"{ds.attrs.get('experiment_name', '')}{', ' + year if year else ''}: {text}"


YEAR_HELP = "the year shown, of a projection (default: the last simulated year)"
FORMAT_HELP = "table (boxed, for the terminal), csv or json (on stdout, for other programs)"
FORMATS = ("table", "csv", "json")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(None, f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})",
                         key="--format")


def _number(v: float) -> float | None:
    return None if v is None or math.isnan(v) else v


def _emit(fmt: str, rows: list[dict], meta: dict) -> None:
    """Rows as csv (a header line, empty cells for no value) or as json ({meta, rows}) on
    stdout; the numbers in full precision."""
    import csv
    import io
    import json
    if fmt == "json":
        clean = [{k: _number(v) if isinstance(v, float) else v for k, v in r.items()}
                 for r in rows]
        typer.echo(json.dumps({**meta, "rows": clean}, ensure_ascii=False, indent=1))
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v)
                         for k, v in r.items()})
    typer.echo(buf.getvalue(), nl=False)


@results_app.command()
@guarded
def summary(results: Path = typer.Argument(..., help="a run's output folder or results file"),
            indicator: Optional[list[str]] = typer.Option(None, "--indicator", "-i",
                                                          help="indicator (repeatable)"),
            family: Optional[str] = typer.Option(None, help="every indicator of a family: "
                                                 "population, oop, catastrophic, impoverishment, "
                                                 "policy, funds, equity"),
            all_: bool = typer.Option(False, "--all", help="every indicator"),
            residence: str = typer.Option("all", help="residence group"),
            quintile: str = typer.Option("all", help="income quintile group"),
            status: str = typer.Option("all", help="status group"),
            gap: bool = typer.Option(False, help="rural - urban difference instead of a group"),
            level: float = typer.Option(0.95, min=0.5, max=0.999, help="interval level"),
            year: Optional[int] = typer.Option(None, help=YEAR_HELP),
            format_: str = typer.Option("table", "--format", help=FORMAT_HELP)):
    """Every scenario's mean and interval across replicates, for one group and year."""
    import microsim

    _check_format(format_)
    ds, which = _open(results, year)
    names = _choose(ds, results, indicator, family, all_)
    if gap:
        if not {"urban", "rural"} <= {str(v) for v in ds["residence"].values}:
            raise InputError(results, "the results have no urban and rural groups, so no gap "
                             "(the experiment's groups leave out 'residence')", key="residence")
        ds = microsim.urban_rural(ds[names])
        names = [f"{n}_difference" for n in names]
        cell = _cell(ds, results, "all", quintile, status)
        where = "rural - urban, " + ", ".join(f"{k}={v}" for k, v in cell.items())
    else:
        cell = _cell(ds, results, residence, quintile, status)
        where = ", ".join(f"{k}={v}" for k, v in cell.items())
    s = microsim.summarize(ds[names], level)
    n = ds.sizes["replicate"]
    if format_ != "table":
        rows = []
        for name in names:
            for scen in ds.scenario.values:
                v = s[name].sel(scenario=scen, **cell)
                rows.append({"indicator": name, "unit": ds[name].attrs.get("units", ""),
                             "scenario": str(scen),
                             **{k: float(v.sel(stat=k)) for k in ("mean", "se", "lower",
                                                                   "upper")}})
        _emit(format_, rows, {"experiment": ds.attrs.get("experiment_name", ""),
                              "period": which, "cell": cell, "gap": gap, "level": level,
                              "replicates": n})
        return
    table = Table(title=_title(ds, f"mean [{level:.0%} interval] of {n} replicate(s); {where}",
                               which))
    table.add_column("indicator")
    table.add_column("unit")
    for scen in ds.scenario.values:
        table.add_column(str(scen), justify="right")
    for name in names:
        row = [name, ds[name].attrs.get("units", "")]
        for scen in ds.scenario.values:
            v = s[name].sel(scenario=scen, **cell)
            mean, lo, hi = (float(v.sel(stat=k)) for k in ("mean", "lower", "upper"))
            row.append(_fmt(mean) + ("" if math.isnan(lo) else f" [{_fmt(lo)}, {_fmt(hi)}]"))
        table.add_row(*row)
    out.print(table)


@results_app.command()
@guarded
def compare(results: Path = typer.Argument(..., help="a run's output folder or results file"),
            baseline: Optional[str] = typer.Option(None, help="baseline scenario (default: the "
                                                   "first)"),
            indicator: Optional[list[str]] = typer.Option(None, "--indicator", "-i",
                                                          help="indicator (repeatable)"),
            family: Optional[str] = typer.Option(None, help="every indicator of a family"),
            all_: bool = typer.Option(False, "--all", help="every indicator"),
            residence: str = typer.Option("all", help="residence group"),
            quintile: str = typer.Option("all", help="income quintile group"),
            status: str = typer.Option("all", help="status group"),
            unpaired: bool = typer.Option(False, help="also show the unpaired interval "
                                          "(difference of means)"),
            level: float = typer.Option(0.95, min=0.5, max=0.999, help="interval level"),
            year: Optional[int] = typer.Option(None, help=YEAR_HELP),
            format_: str = typer.Option("table", "--format", help=FORMAT_HELP)):
    """Reform minus baseline for every scenario, paired replicate by replicate, with intervals."""
    import microsim

    _check_format(format_)
    ds, which = _open(results, year)
    if ds.sizes["scenario"] < 2:
        raise InputError(results, "the results hold one scenario; compare needs a baseline and "
                         "at least one reform", key="scenario")
    scenarios = [str(s) for s in ds.scenario.values]
    if baseline is not None and baseline not in scenarios:
        raise InputError(results, f"no scenario {baseline!r} (scenarios: {', '.join(scenarios)})",
                         key="scenario")
    names = _choose(ds, results, indicator, family, all_)
    cell = _cell(ds, results, residence, quintile, status)
    base = baseline or scenarios[0]
    means = microsim.summarize(ds[names], level)
    eff = microsim.effects(ds[names], base, level)
    uneff = microsim.effects(ds[names], base, level, paired=False) if unpaired else None
    n = ds.sizes["replicate"]
    where = ", ".join(f"{k}={v}" for k, v in cell.items())
    if format_ != "table":
        rows = []
        for name in names:
            for scen in eff.scenario.values:
                e = eff[name].sel(scenario=scen, **cell)
                row = {"indicator": name, "unit": ds[name].attrs.get("units", ""),
                       "scenario": str(scen), "baseline": base,
                       "baseline_mean": float(means[name].sel(scenario=base, stat="mean",
                                                              **cell)),
                       "reform_mean": float(means[name].sel(scenario=scen, stat="mean", **cell)),
                       "effect": float(e.sel(stat="mean")), "se": float(e.sel(stat="se")),
                       "lower": float(e.sel(stat="lower")), "upper": float(e.sel(stat="upper"))}
                if uneff is not None:
                    u = uneff[name].sel(scenario=scen, **cell)
                    row.update(unpaired_lower=float(u.sel(stat="lower")),
                               unpaired_upper=float(u.sel(stat="upper")))
                rows.append(row)
        _emit(format_, rows, {"experiment": ds.attrs.get("experiment_name", ""),
                              "period": which, "cell": cell, "baseline": base,
                              "paired": True, "level": level, "replicates": n})
        return
    table = Table(title=_title(ds, f"reform - {base}, paired over {n} replicate(s), "
                                   f"{level:.0%} interval; {where}", which))
    table.add_column("indicator")
    table.add_column("unit")
    table.add_column("scenario")
    table.add_column(base, justify="right")
    table.add_column("reform", justify="right")
    table.add_column("effect", justify="right")
    table.add_column("interval (paired)", justify="right")
    if uneff is not None:
        table.add_column("interval (unpaired)", justify="right")
    for name in names:
        for scen in eff.scenario.values:
            e = eff[name].sel(scenario=scen, **cell)
            row = [name, ds[name].attrs.get("units", ""), str(scen),
                   _fmt(float(means[name].sel(scenario=base, stat="mean", **cell))),
                   _fmt(float(means[name].sel(scenario=scen, stat="mean", **cell))),
                   _fmt(float(e.sel(stat="mean")), 4),
                   f"[{_fmt(float(e.sel(stat='lower')), 4)}, {_fmt(float(e.sel(stat='upper')), 4)}]"]
            if uneff is not None:
                u = uneff[name].sel(scenario=scen, **cell)
                row.append(f"[{_fmt(float(u.sel(stat='lower')), 4)}, "
                           f"{_fmt(float(u.sel(stat='upper')), 4)}]")
            table.add_row(*row)
    out.print(table)
    if n < 2:
        out.print("one replicate: no intervals (add replicates to the experiment)",
                  highlight=False)
