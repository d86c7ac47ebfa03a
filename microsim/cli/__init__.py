"""The command line: parses arguments, calls the public API, prints. Nothing else.

    microsim run EXPERIMENT [--scheduler S] [--force] [--quiet]
    microsim validate EXPERIMENT
    microsim policy show POLICY [--reform R ...]
    microsim policy diff A B [--reform R ...]
    microsim settle POLICY CASE [--reform R ...] [--json]

Each group of commands lives in its own module of this package and is
registered here. Errors from input or environment print one paragraph (file,
key, value) and exit non-zero; anything unexpected prints a one-line
internal-error message (set MICROSIM_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from microsim.cli.common import guarded, out, progress_bar

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Household microsimulation of China's multi-tier medical insurance.")


@app.command()
@guarded
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
    bar, update = progress_bar(n_tasks(exp), quiet)
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
@guarded
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


from microsim.cli import policy as _policy  # noqa: E402  (commands register on `app`)

app.add_typer(_policy.app, name="policy")
app.command("settle")(_policy.settle)
