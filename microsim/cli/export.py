"""`microsim export RESULTS --format csv|xlsx|dta|parquet`: results as files a bureau can publish.

Takes: a run's output folder or its results file (opened as `microsim summary` opens them), a
format, and optionally the output path, `--summary`, a choice of indicators (`-i`, `--family`,
as `microsim summary` takes them; default every indicator) and `--force`. Gives: the file, written by
`microsim.engine.export.write_export` (the tables are built there, not here), and one line
naming it. A projection exports every year, with a `year` column.

    microsim export results/quickstart --format xlsx
    microsim export results/quickstart --format dta --summary --out tables/quickstart.dta
    microsim export results/quickstart --format xlsx --family catastrophic
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from microsim.cli.common import guarded, out
from microsim.cli.results import _choose


@guarded
def export(results: Path = typer.Argument(..., help="a run's output folder or results file"),
           format_: str = typer.Option(..., "--format", help="csv, xlsx, dta or parquet"),
           out_path: Optional[Path] = typer.Option(None, "--out", help="the file to write "
                                                   "(default: export.FORMAT, or "
                                                   "export_summary.FORMAT, beside the results)"),
           summary: bool = typer.Option(False, help="mean and interval across replicates "
                                        "instead of every replicate's values"),
           level: float = typer.Option(0.95, min=0.5, max=0.999, help="interval level "
                                       "(with --summary)"),
           indicator: Optional[list[str]] = typer.Option(None, "--indicator", "-i",
                                                         help="only this indicator (repeatable)"),
           family: Optional[str] = typer.Option(None, help="only the indicators of a family"),
           force: bool = typer.Option(False, help="replace an existing file")):
    """Write the results as a tidy table: csv, xlsx (a sheet per family), dta (Stata) or parquet."""
    from microsim.engine.export import FORMATS, default_path, write_export
    from microsim.engine.results import open_results
    from microsim.errors import InputError

    if format_ not in FORMATS:
        raise InputError(None, f"unknown export format {format_!r} (formats: "
                         f"{', '.join(FORMATS)})", key="--format")
    ds = open_results(results)
    names = _choose(ds, results, indicator, family, True)
    path = out_path or default_path(results, format_, summary)
    written = write_export(ds, format_, path, summary=summary, level=level, force=force,
                           names=names)
    out.print(f"export: {written}", highlight=False)
