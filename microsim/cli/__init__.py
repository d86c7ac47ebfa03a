"""The command line: parses arguments, calls the public API, prints. Nothing else.

    microsim --version
    microsim run EXPERIMENT [--scheduler S] [--force] [--quiet]
    microsim validate EXPERIMENT
    microsim health describe SPEC [--households N] [--json]
    microsim population synth|describe|check|calibrate ...   (cli/population.py)
    microsim summary RESULTS     (microsim/cli/results.py)
    microsim compare RESULTS     (microsim/cli/results.py)
    microsim export RESULTS --format csv|xlsx|dta|parquet [--summary]   (cli/export.py)
    microsim report RESULTS      (microsim/cli/report.py)
    microsim examples DIR [--force]   (microsim/cli/examples.py)
    microsim policy show POLICY [--reform R ...]
    microsim policy diff A B [--reform R ...]
    microsim settle [POLICY] CASE [--reform R ...] [--json] [--expect]
    microsim calibrate TARGETS ... [--check] [--write] [--markdown FILE]   (cli/calibrate.py)
    microsim sensitivity EXPERIMENT [--groups FILE] [--households N] [--replicates R]
                         [--only GROUP] [--low GROUP=X] [--high GROUP=X]   (cli/sensitivity.py)
    microsim schema KIND|all|docs [--out FILE] [--check]   (cli/schema.py)

Each group of commands lives in its own module of this package and is
registered here. Errors from input or environment print one paragraph (file,
key, value) and exit non-zero; anything unexpected prints a one-line
internal-error message (set MICROSIM_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import time
from pathlib import Path
from typing import Optional

import typer

from microsim.cli import examples as _examples
from microsim.cli.common import err, guarded, out, progress_bar, styled
from microsim.cli.health import app as health_app
from microsim.cli.results import results_app
from microsim.errors import MicrosimError, ReportNotWritten

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Household microsimulation of China's multi-tier medical insurance.")
app.add_typer(health_app, name="health")


@app.callback()
def _main(version: bool = typer.Option(False, "--version", is_eager=True,
                                       callback=_examples.version_callback,
                                       help="print the version and exit")):
    """Household microsimulation of China's multi-tier medical insurance."""


app.command("examples")(_examples.examples)


@app.command()
@guarded
def run(experiment: Path = typer.Argument(..., help="experiment YAML file"),
        scheduler: Optional[str] = typer.Option(None, help="threads, processes, synchronous, "
                                                "or a dask.distributed scheduler address"),
        force: bool = typer.Option(False, help="replace existing results or an unfinished run"),
        resume: bool = typer.Option(False, help="continue an interrupted run from its checkpoint"),
        quiet: bool = typer.Option(False, help="no progress bar or progress lines"),
        report: bool = typer.Option(True, help="write the report beside the results"),
        lang: str = typer.Option("zh", help="report language: zh or en"),
        output: Optional[Path] = typer.Option(None, help="write results and report into this "
                                              "folder instead of the experiment's 'output' "
                                              "(needed to write outside its project)")):
    """Run an experiment: simulate, settle every scenario, write results.nc, print the headline table."""
    from microsim.experiment import load_experiment

    if report:
        from microsim.report.options import check_report_options
        check_report_options(lang)        # refuse a bad --lang before the run, not after it
    exp = load_experiment(experiment)     # before the engine is imported: refused fast
    from microsim.engine.plan import check_tasks
    check_tasks(exp.path, exp.households, exp.file.chunk_size,
                exp.file.replicates * len(exp.years))
    from microsim.engine.run import n_tasks, run as run_experiment
    from microsim.report.table import headline_table
    bar, update = progress_bar(n_tasks(exp), quiet)
    start = time.perf_counter()
    log = (lambda msg: None) if quiet else (lambda msg: err.print(msg, highlight=False))
    with bar or contextlib.nullcontext():     # a bar on a terminal; else lines, or nothing
        ds = run_experiment(exp, scheduler=scheduler, force=force, resume=resume,
                            progress=update, log=log, output=output)
    if output is not None:
        exp = dataclasses.replace(exp, output=output.resolve())
    seconds = time.perf_counter() - start
    years = ds.sizes.get("year", 1)
    persons = ds.attrs["persons_per_replicate"] * ds.sizes["replicate"] * years
    out.print(headline_table(ds))      # a projection's: its last year, named in the title
    results = exp.output / ('results.nc' if exp.file.format == 'netcdf' else 'results.zarr')
    problem = _write_run_report(ds, exp.output, lang) if report else None
    what = "person-years" if years > 1 else "persons"
    out.print(f"{persons:,} {what} x {ds.sizes['scenario']} scenarios in {seconds:.1f} s "
              f"({persons / seconds:,.0f} {what}/s); results: {results}", highlight=False)
    if problem is not None:
        raise ReportNotWritten(
            f"the run finished and its results are whole in {results}, but the report could not "
            f"be written: {problem}. Write it again with: microsim report "
            f"{shlex.quote(str(exp.output))} --lang {lang}")


def _write_run_report(ds, folder: Path, lang: str) -> str | None:
    """Write the report of a finished run; what went wrong, or None. A report never turns a
    finished run into a failed one: the results stay, and the caller says how to retry."""
    from microsim.report.build import write_report
    try:
        for path in write_report(ds, folder, lang):
            out.print(f"report: {path}", highlight=False)
    except MicrosimError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in the report must not lose the run
        if os.environ.get("MICROSIM_DEBUG"):
            raise
        return f"internal error ({type(exc).__name__}: {exc}), a bug in microsim"
    return None


from microsim.cli.report import report as _report  # noqa: E402

app.command("report")(_report)


@app.command()
@guarded
def validate(experiment: Path = typer.Argument(..., help="experiment YAML file"),
             output: Optional[Path] = typer.Option(None, help="the folder `run --output` would "
                                                   "write into")):
    """Check an experiment and every file it references, without running it."""
    import microsim
    exp = microsim.validate(experiment, output=output)

    def policy_text(s) -> str:
        names = (", ".join(f"{first}: {p.name}" for first, p in s.schedule) if s.schedule
                 else s.policy.name)
        reforms = s.policy.reform_names
        return f"{s.name} ({names}" + (f" + {', '.join(reforms)}" if reforms else "") + ")"

    years = exp.years
    span = (f"{years[0]}-{years[-1]} ({len(years)} years)" if exp.projection else str(years[0]))
    base = exp.population.data.year if exp.population else years[0]
    moved = ("" if years == [base] else f", population of {base} "
             + ("aged and uprated to each year" if exp.projection else f"uprated to {years[0]}"))
    out.print(styled("ok", "green", f": {exp.name}: {exp.households:,} households x "
                     f"{exp.file.replicates} replicate(s), {span}{moved}, scenarios: "
                     + ", ".join(policy_text(s) for s in exp.scenarios)
                     + f"; output {exp.output}"), highlight=False)


from microsim.cli.population import app as _population_app  # noqa: E402

app.add_typer(_population_app, name="population")
app.add_typer(results_app)
from microsim.cli import policy as _policy  # noqa: E402  (commands register on `app`)

app.add_typer(_policy.app, name="policy")
app.command("settle")(_policy.settle)
from microsim.cli.calibrate import calibrate as _calibrate  # noqa: E402

app.command("calibrate")(_calibrate)
from microsim.cli.sensitivity import sensitivity as _sensitivity  # noqa: E402

app.command("sensitivity")(_sensitivity)
from microsim.cli.export import export as _export  # noqa: E402

app.command("export")(_export)
from microsim.cli.schema import schema as _schema  # noqa: E402

app.command("schema")(_schema)
