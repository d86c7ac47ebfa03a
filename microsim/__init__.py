"""microsim: a household microsimulation of China's multi-tier medical insurance.

    import microsim
    ds = microsim.run("experiments/quickstart.yaml")   # xarray.Dataset
    microsim.summarize(ds)                              # mean, se, 95% interval
    microsim.effects(ds)                                # paired reform - baseline
    microsim.urban_rural(ds)                            # rural/urban ratio and difference
    ds = microsim.open_results("results/quickstart")    # a written run, back in xarray
    microsim.report("results/quickstart", lang="en")    # its report, as `microsim report`

The flow, one module per step: experiment -> engine.plan -> population ->
health -> settlement (per scenario) -> metrics -> engine (merge, results) ->
report. See docs/ and DESIGN.md.
"""

from __future__ import annotations

__all__ = ["run", "validate", "summarize", "effects", "urban_rural", "open_results",
           "report", "load_experiment", "__version__"]

__version__ = "0.1.0"

# `microsim.report(results_dir, lang=...)` writes a run's report. `microsim.report` is also the
# subpackage of the report's modules (importing one of them sets this attribute to the
# subpackage), so the subpackage itself is callable: microsim/report/__init__.py.
from microsim import report  # noqa: E402


def run(experiment, **kwargs):
    """Run an experiment file and return its results Dataset (see `engine.run.run`)."""
    from microsim.engine.run import run as _run
    return _run(experiment, **kwargs)


def validate(experiment, output=None, reforms=None):
    """Load and check an experiment and everything it references, without running it: also
    whatever `run` would refuse before starting (the plan, where it writes). `output` is the
    folder `run(..., output=...)` would write into; `reforms` are the in-memory reform
    overlays `run(..., reforms=...)` would apply to every scenario."""
    import dataclasses
    from microsim.experiment import load_experiment as _load
    from microsim.errors import InputError
    from microsim.paths import resolve
    exp = _load(experiment, reforms)      # before the engine is imported: hostile files are refused fast
    from microsim.engine.plan import check_tasks
    check_tasks(exp.path, exp.households, exp.file.chunk_size,
                exp.file.replicates * len(exp.years))
    from microsim.engine.run import build_context, check_output_place, check_plan, output_problem
    if output is not None:
        exp = dataclasses.replace(exp, output=resolve(output, what="--output"))
    else:
        check_output_place(exp)
    check_plan(exp, None, exp.file.compute)
    ctx, catalogue = build_context(exp)
    check_plan(exp, ctx, exp.file.compute, len(catalogue.indicators))
    problem = output_problem(exp.output, exp.file.format)
    if problem:
        raise InputError(exp.tree.file_of(("output",)), problem, key="output")
    return exp


def load_experiment(path, reforms=None):
    from microsim.experiment import load_experiment as _load
    return _load(path, reforms)


def summarize(ds, level: float = 0.95):
    from microsim.engine.summary import summarize as _summarize
    return _summarize(ds, level)


def effects(ds, baseline=None, level: float = 0.95, paired: bool = True):
    """Each scenario minus the baseline (the first scenario by default), replicate by replicate
    (paired) or as a difference of means (`paired=False`), with mean, se and interval."""
    from microsim.engine.summary import effects as _effects
    return _effects(ds, baseline, level, paired)


def urban_rural(ds):
    """Rural/urban ratio and rural - urban difference of every indicator, per replicate."""
    from microsim.engine.summary import urban_rural as _urban_rural
    return _urban_rural(ds)


def open_results(path):
    """Open a run's results (its output folder, results.nc or results.zarr) as a Dataset."""
    from microsim.engine.results import open_results as _open
    return _open(path)

