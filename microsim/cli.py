"""The command line: parses arguments, calls the public API, prints. Nothing else.

    microsim run EXPERIMENT [--scheduler S] [--force] [--quiet]
    microsim validate EXPERIMENT

Errors from input or environment print one paragraph (file, key, value) and
exit non-zero; anything unexpected prints a one-line internal-error message
(set MICROSIM_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from microsim.errors import MicrosimError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Household microsimulation of China's multi-tier medical insurance.")
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def _guarded(fn):
    """Turn microsim errors into a clean message and exit code; never show a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MicrosimError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/]: no results were written")
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("MICROSIM_DEBUG"):
                raise
            err.print(f"[bold red]internal error[/] ({type(exc).__name__}): {exc}. "
                      "This is a bug in microsim; rerun with MICROSIM_DEBUG=1 to see the traceback.",
                      highlight=False, soft_wrap=True)
            raise typer.Exit(70) from None
    return wrapper


def _progress_bar(total: int, quiet: bool):
    """A rich progress bar on a terminal; nothing when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)
    bar = Progress(TextColumn("chunks"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err)
    task = bar.add_task("run", total=total, rate="")
    start = time.perf_counter()
    persons = [0]

    def update(done: int, n_persons: int) -> None:
        persons[0] += n_persons
        rate = persons[0] / max(time.perf_counter() - start, 1e-9)
        bar.update(task, completed=done, rate=f"{rate:,.0f} persons/s")
    return bar, update


@app.command()
@_guarded
def run(experiment: Path = typer.Argument(..., help="experiment YAML file"),
        scheduler: Optional[str] = typer.Option(None, help="threads, processes, synchronous, "
                                                "or a dask.distributed scheduler address"),
        force: bool = typer.Option(False, help="replace existing results"),
        quiet: bool = typer.Option(False, help="no progress bar")):
    """Run an experiment: simulate, settle every scenario, write results.nc, print the headline table."""
    from microsim.engine.run import n_tasks, run as run_experiment
    from microsim.experiment import load_experiment
    from microsim.report.table import headline_table

    exp = load_experiment(experiment)
    bar, update = _progress_bar(n_tasks(exp), quiet)
    start = time.perf_counter()
    if bar:
        with bar:
            ds = run_experiment(exp, scheduler=scheduler, force=force, progress=update)
    else:
        ds = run_experiment(exp, scheduler=scheduler, force=force)
    seconds = time.perf_counter() - start
    persons = ds.attrs["persons_per_replicate"] * ds.sizes["replicate"]
    out.print(headline_table(ds))
    out.print(f"{persons:,} persons x {ds.sizes['scenario']} scenarios in {seconds:.1f} s "
              f"({persons / seconds:,.0f} persons/s); results: "
              f"{exp.output / ('results.nc' if exp.file.format == 'netcdf' else 'results.zarr')}",
              highlight=False)


@app.command()
@_guarded
def validate(experiment: Path = typer.Argument(..., help="experiment YAML file")):
    """Check an experiment and every file it references, without running it."""
    import microsim
    exp = microsim.validate(experiment)
    out.print(f"[green]ok[/]: {exp.name}: {exp.households:,} households x "
              f"{exp.file.replicates} replicate(s), scenarios: "
              + ", ".join(f"{s.name} ({s.policy.name}"
                          + (f" + {', '.join(s.policy.reform_names)}" if s.policy.reform_names else "")
                          + ")" for s in exp.scenarios)
              + f"; output {exp.output}", highlight=False)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
