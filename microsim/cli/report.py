"""`microsim report RESULTS_DIR`: write the evaluation report beside a run's results."""

from __future__ import annotations

from pathlib import Path

import typer

from microsim.cli.common import guarded, out


@guarded
def report(results_dir: Path = typer.Argument(..., help="folder holding results.nc (or the "
                                              "results file itself)"),
           lang: str = typer.Option("zh", help="zh or en"),
           format: list[str] = typer.Option(["html", "md"], "--format", help="html and/or md")):
    """Write the report (headline table, targets, figures, methods) beside the results."""
    import microsim
    for path in microsim.report(results_dir, lang, tuple(format)):
        out.print(f"wrote {path}", highlight=False)
