"""Population commands: synthesise to Parquet, describe against targets, check microdata, calibrate.

    microsim population synth SPEC --households N --out DIR [--seed S] [--replicate R]
    microsim population describe SPEC|DIR [--households N] [--spec SPEC] [--json] [--strict]
    microsim population check DIR
    microsim population import MAPPING --households FILE --persons FILE --out DIR [--force]
    microsim population calibrate SPEC

Thin: parses, calls `microsim.population`, prints.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from microsim.cli.common import err, guarded, out, styled

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Synthesise, import, describe, check and calibrate populations.")


@app.command()
@guarded
def synth(spec: Path = typer.Argument(..., help="population spec YAML"),
          households: int = typer.Option(..., min=1, help="synthetic households to draw"),
          out_dir: Path = typer.Option(..., "--out", help="folder to write households.parquet "
                                       "and persons.parquet into"),
          seed: int = typer.Option(0, min=0, max=2**63 - 1, help="seed of the draws (use the "
                                   "experiment's seed to reproduce its population)"),
          replicate: int = typer.Option(0, min=0, max=9_999, help="replicate of the draws"),
          row_group: int = typer.Option(50_000, min=1, help="households per Parquet row group "
                                        "(match the experiment's chunk_size)"),
          force: bool = typer.Option(False, help="replace an existing output folder")):
    """Synthesise a population and write it as Parquet microdata (schema and spec embedded)."""
    from microsim.population.microdata import write_population
    from microsim.population.spec import load_population_spec
    from microsim.population.synth import synth_params, synthesize

    pop = load_population_spec(spec)
    params = synth_params(pop)
    counts = {"persons": 0}

    def chunks():
        for start in range(0, households, row_group):
            h, p = synthesize(pop, start, min(start + row_group, households), households, seed,
                              replicate, params)
            counts["persons"] += len(p)
            yield h, p

    from microsim import __version__
    begin = time.perf_counter()
    write_population(out_dir, chunks(), pop, {"seed": seed, "replicate": replicate,
                                             "households": households,
                                             "microsim_version": __version__}, force=force)
    seconds = time.perf_counter() - begin
    out.print(styled("wrote", "green", f" {out_dir}: {households:,} households, "
                     f"{counts['persons']:,} persons of {pop.name} (seed {seed}, replicate "
                     f"{replicate}) in {seconds:.1f} s"),
              highlight=False)


def _fmt(kind: str, v: float) -> str:
    if v != v:   # NaN
        return "n/a"
    return f"{v:.4f}" if kind == "share" else f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3f}"


@app.command()
@guarded
def describe(source: Path = typer.Argument(..., help="population spec YAML, or a microdata folder"),
             households: int = typer.Option(200_000, min=1, help="households to synthesise "
                                            "(spec only)"),
             seed: int = typer.Option(0, min=0, max=2**63 - 1,
                                      help="seed of the synthesis (spec only)"),
             replicate: int = typer.Option(0, min=0, max=9_999, help="replicate (spec only)"),
             spec: Optional[Path] = typer.Option(None, help="spec whose targets a microdata folder "
                                                 "is compared with (default: the one embedded)"),
             as_json: bool = typer.Option(False, "--json", help="print a JSON list of rows"),
             strict: bool = typer.Option(False, help="exit with code 1 if a target is outside "
                                         "its tolerance")):
    """Print every target of the spec beside the simulated value and the error."""
    from microsim.population.describe import describe_microdata, describe_spec
    from microsim.population.spec import load_population_spec

    if source.is_dir():
        rows = describe_microdata(source, load_population_spec(spec) if spec else None)
        what = f"{source} (microdata)"
    else:
        pop = load_population_spec(source)
        rows = describe_spec(pop, households, seed, replicate)
        what = f"{pop.name}: {households:,} synthetic households, seed {seed}"
    if as_json:
        keys = ("name", "target", "simulated", "relative_error")
        payload = [dict({k: r.as_dict()[k] for k in keys}, standard_error=r.standard_error,
                        absolute_error=r.absolute_error, kind=r.kind, tolerance=r.tolerance,
                        ok=r.ok, statistic=r.statistic, source=r.source) for r in rows]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        table = Table(title=what)
        for col in ("target", "statistic", "value", "simulated", "± se", "error", "ok", "source"):
            table.add_column(col, justify="right" if col in ("value", "simulated", "± se", "error")
                             else "left")
        for r in rows:
            err = (f"{r.absolute_error * 100:+.2f} pt" if r.kind == "share"
                   else f"{r.relative_error * 100:+.2f}%")
            table.add_row(r.name, r.statistic, _fmt(r.kind, r.target), _fmt(r.kind, r.simulated),
                          _fmt(r.kind, r.standard_error), err,
                          styled("yes", "green") if r.ok else styled("NO", "red"), r.source)
        out.print(table)
        bad = sum(not r.ok for r in rows)
        out.print(f"{len(rows) - bad} of {len(rows)} targets within tolerance (levels "
                  f"{rows[0].tolerance if rows and rows[0].kind == 'level' else ''}"
                  f"relative, shares in points; see the spec's `tolerance`)" if rows else
                  "the spec lists no targets", highlight=False)
    if strict and any(not r.ok for r in rows):
        raise typer.Exit(1)


@app.command()
@guarded
def check(folder: Path = typer.Argument(..., help="microdata folder (households.parquet, "
                                        "persons.parquet)")):
    """Validate microdata: dtypes, columns, codes, values, keys; name the file, column and row."""
    from microsim.errors import InputError
    from microsim.population.microdata import check_microdata, open_microdata

    problems = check_microdata(folder)
    if problems:
        for p in problems:
            err.print(styled("error:", "bold red", f" {p}"), highlight=False, soft_wrap=True)
        raise InputError(folder, f"{len(problems)} problem(s) found; nothing can run on this "
                         "microdata until they are fixed")
    md = open_microdata(folder, check=False)
    out.print(styled("ok", "green", f": {folder}: {md.n_households:,} households, "
                     f"{int(md.first_person[-1]):,} persons, representing "
                     f"{md.weight_total:,.0f} households"), highlight=False)


@app.command("import")
@guarded
def import_(mapping: Path = typer.Argument(..., help="column mapping YAML (docs/populations.md)"),
            households: Path = typer.Option(..., help="households file: CSV (.csv, .txt, .tsv) "
                                            "or Stata (.dta)"),
            persons: Path = typer.Option(..., help="persons file: CSV or Stata"),
            out_dir: Path = typer.Option(..., "--out", help="folder to write households.parquet "
                                         "and persons.parquet into"),
            chunk_rows: int = typer.Option(100_000, min=1, help="rows read from a file at a time "
                                           "(bounds memory)"),
            row_group: int = typer.Option(50_000, min=1, help="households per Parquet row group "
                                          "(match the experiment's chunk_size)"),
            force: bool = typer.Option(False, help="replace an existing microdata folder")):
    """Convert survey files (CSV or .dta) by a column mapping into checked Parquet microdata."""
    from microsim.population.importer import import_microdata

    begin = time.perf_counter()
    result = import_microdata(mapping, households, persons, out_dir, force=force,
                              chunk_rows=chunk_rows, row_group=row_group)
    seconds = time.perf_counter() - begin
    out.print(styled("wrote", "green", f" {out_dir}: {result.households:,} households, "
                     f"{result.persons:,} persons (sizes {result.size} from the persons) in "
                     f"{seconds:.1f} s"), highlight=False)


@app.command()
@guarded
def calibrate(spec: Path = typer.Argument(..., help="population spec YAML")):
    """Fit the income shapes to the spec's median and quintile targets; print the YAML to paste."""
    from microsim.population.calibrate import fit_income
    from microsim.population.spec import load_population_spec

    pop = load_population_spec(spec)
    fit = fit_income(pop)
    table = Table(title=f"{pop.name}: income shapes fitted in closed form")
    for col in ("target", "value", "fitted", "error"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for name, target, value, err in fit.rows:
        table.add_row(name, f"{target:,.0f}", f"{value:,.0f}", f"{err * 100:+.2f}%")
    out.print(table)
    typer.echo(fit.yaml(pop, [r[0] for r in fit.rows]))
