"""Run an experiment: build the context, compute every task with dask, merge, write.

Takes: an experiment path (or a loaded `Experiment`), a scheduler and a
progress callback. Gives: the results `xarray.Dataset` (and, unless told not
to, `results.nc` in the experiment's output folder).

Tasks are `dask.delayed` calls of `simulate_chunk`, one per (replicate,
chunk); each returns integer accumulators, which are summed per replicate in
a binary tree. Integer sums make the result independent of chunk size,
scheduler and completion order.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Callable

import dask
import xarray as xr

from microsim.engine.chunk import Context, simulate_chunk
from microsim.engine.plan import Task, make_plan
from microsim.engine.results import build_dataset, results_path, write_results
from microsim.errors import NotBuiltError, RunError
from microsim.experiment import Experiment, load_experiment
from microsim.health.events import health_params
from microsim.engine.prepass import pass_params, population_pass
from microsim.metrics.accumulate import Accumulators, income_bin_edges
from microsim.metrics.indicators import load_catalogue, make_layout
from microsim.policy.arrays import build_arrays
from microsim.population.synth import synth_params

LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")
Progress = Callable[[int, int], None]   # (tasks done, persons in the task)


def build_context(exp: Experiment) -> tuple[Context, object]:
    if exp.population is None:
        raise NotBuiltError("reading microdata populations is not available in this version; "
                            "use a population spec ('population: {spec: ..., households: N}')")
    lines = exp.poverty_lines()
    catalogue = load_catalogue(tuple(name for name, _ in lines))
    layout = make_layout(catalogue, lines, income_bin_edges())
    ctx = Context(spec=exp.population, synth=synth_params(exp.population),
                  health=health_params(exp.population),
                  policies=tuple(build_arrays(s.policy) for s in exp.scenarios),
                  layout=layout, seed=exp.file.seed, n_households=exp.households,
                  population_pass=pass_params(exp, catalogue))
    return ctx, catalogue


def _add(a: tuple[Accumulators, int], b: tuple[Accumulators, int]) -> tuple[Accumulators, int]:
    acc = Accumulators(hh=a[0].hh + b[0].hh, person=a[0].person + b[0].person)
    return acc, a[1] + b[1]


def _tree_sum(items: list):
    while len(items) > 1:
        items = [dask.delayed(_add, pure=True)(items[i], items[i + 1]) if i + 1 < len(items)
                 else items[i] for i in range(0, len(items), 2)]
    return items[0]


class _TaskCounter(dask.callbacks.Callback):
    """Reports each finished chunk task to a progress function (local schedulers)."""

    def __init__(self, progress: Progress):
        super().__init__()
        self._progress = progress
        self._done = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        name = key[0] if isinstance(key, tuple) else key
        if isinstance(name, str) and name.startswith("chunk-"):
            self._done += 1
            self._progress(self._done, result[1])


def compute_tasks(ctx: Context, tasks: list[Task], scheduler: str = "threads",
                  progress: Progress | None = None) -> tuple[dict[int, Accumulators], dict[int, int]]:
    """Run every task and merge per replicate: ({replicate: accumulators}, {replicate: persons})."""
    shared = dask.delayed(ctx, pure=True, traverse=False)
    by_replicate: dict[int, list] = {}
    for t in tasks:
        part = dask.delayed(simulate_chunk, pure=True)(shared, t, dask_key_name=f"chunk-{t.key}")
        by_replicate.setdefault(t.replicate, []).append(part)
    totals = {r: _tree_sum(parts) for r, parts in by_replicate.items()}
    if scheduler in LOCAL_SCHEDULERS:
        counter = _TaskCounter(progress) if progress else contextlib.nullcontext()
        with dask.config.set(scheduler=scheduler), counter:
            (results,) = dask.compute(totals)
    else:
        try:
            from distributed import Client
            with Client(scheduler, timeout="20s") as client:
                (results,) = dask.compute(totals, scheduler=client)
        except OSError as exc:
            raise RunError(f"cannot reach the dask scheduler at {scheduler!r}: {exc}") from None
    merged = {r: acc for r, (acc, _) in results.items()}
    persons = {r: n for r, (_, n) in results.items()}
    return merged, persons


def run(experiment: str | Path | Experiment, *, scheduler: str | None = None, write: bool = True,
        force: bool = False, progress: Progress | None = None) -> xr.Dataset:
    """Run an experiment and return its results Dataset (the notebook and CLI entry point)."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    scheduler = scheduler or exp.file.compute
    ctx, catalogue = build_context(exp)
    target = results_path(exp.output, exp.file.format)
    if write and target.exists() and not force:
        raise RunError(f"{target} already exists; use --force to replace it")
    tasks = make_plan(exp.households, exp.file.chunk_size, exp.file.replicates)
    created = write and not exp.output.exists()
    try:
        ctx, population_lines = population_pass(ctx, tasks, scheduler)
        merged, persons = compute_tasks(ctx, tasks, scheduler, progress)
        ds = build_dataset(exp, ctx, catalogue, merged, persons, population_lines)
        if write:
            write_results(ds, exp.output, exp.file.format)
    except BaseException:
        if created and exp.output.exists():
            shutil.rmtree(exp.output, ignore_errors=True)
        raise
    return ds


def n_tasks(exp: Experiment) -> int:
    return len(make_plan(exp.households, exp.file.chunk_size, exp.file.replicates))
