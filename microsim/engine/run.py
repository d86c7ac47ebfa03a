"""Run an experiment: build the context, compute every task, merge, checkpoint, write.

Takes: an experiment path (or a loaded `Experiment`), a scheduler, and
callbacks for progress and messages. Gives: the results `xarray.Dataset` (and,
unless told not to, `results.nc` in the experiment's output folder).

Each task (`engine.chunk.simulate_chunk`, a dask task) returns integer
accumulators; they are added into per-replicate totals as tasks finish
(`engine.execute`), so memory is bounded by the chunk size and the number of
tasks in flight, never by the population. Totals and the keys of finished
tasks are saved atomically to `OUTPUT/.checkpoint/` every few seconds; a run
stopped by Ctrl-C, a killed process or a lost worker continues with
`resume=True` and computes only the missing chunks. Integer sums make the
result identical whatever the chunk order, scheduler or interruptions.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from microsim.engine import checkpoint
from microsim.engine.chunk import Context
from microsim.engine.execute import LOCAL_SCHEDULERS, local_workers, run_tasks
from microsim.engine.plan import make_plan, plan_problem, plan_tasks
from microsim.engine.results import build_dataset, package_version, results_path, write_results
from microsim.errors import InputError, Interrupted, RunError
from microsim.experiment import Experiment, load_experiment, scheduler_problem
from microsim.health.events import health_params
from microsim.engine.prepass import pass_params, population_pass
from microsim.metrics.accumulate import income_bin_edges, new_accumulators
from microsim.metrics.indicators import load_catalogue, make_layout
from microsim.policy.arrays import build_arrays
from microsim.population.synth import synth_params

Progress = Callable[[int, int], None]   # (tasks done, persons in the task just finished)
CHECKPOINT_SECONDS = float(os.environ.get("MICROSIM_CHECKPOINT_SECONDS", "10"))


def build_context(exp: Experiment) -> tuple[Context, object]:
    lines = exp.poverty_lines()
    catalogue = load_catalogue(tuple(name for name, _ in lines), labels=exp.poverty_line_labels())
    exp.check_indicators(set(catalogue.names()))
    layout = make_layout(catalogue, lines, income_bin_edges())
    ctx = Context(spec=exp.population, synth=synth_params(exp.population),
                  health=health_params(exp.population),
                  policies=tuple(build_arrays(s.policy) for s in exp.scenarios),
                  layout=layout, seed=exp.file.seed, n_households=exp.households,
                  microdata=exp.source, population_pass=pass_params(exp, catalogue))
    return ctx, catalogue


def run_fingerprint(exp: Experiment, ctx: Context) -> str:
    """Everything that determines the numbers of a run, hashed (checkpoints must match it)."""
    return checkpoint.fingerprint(
        exp.resolved(), exp.population.tree.values if exp.population else None,
        [s.policy.tree.values for s in exp.scenarios], list(ctx.layout.line_names),
        ctx.layout.lines.tolist(), ctx.layout.bin_edges.tolist(), list(ctx.layout.che_thresholds),
        package_version())


def _prepare_output(exp: Experiment, write: bool, force: bool, resume: bool) -> None:
    """Refuse to overwrite complete results or an unfinished run unless told to."""
    if not write:
        return
    target = results_path(exp.output, exp.file.format)
    if target.exists() and not force:
        raise RunError(f"{target} already exists; use --force to replace it")
    if checkpoint.exists(exp.output):
        if force:
            checkpoint.remove(exp.output)
        elif not resume:
            raise RunError(f"an unfinished run of this output is saved in "
                           f"{checkpoint.folder(exp.output)}; continue it with --resume, or start "
                           "again with --force")


def run(experiment: str | Path | Experiment, *, scheduler: str | None = None, write: bool = True,
        force: bool = False, resume: bool = False, progress: Progress | None = None,
        log: Callable[[str], None] = lambda _msg: None,
        checkpoint_seconds: float = CHECKPOINT_SECONDS) -> xr.Dataset:
    """Run an experiment and return its results Dataset (the notebook and CLI entry point)."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    scheduler = scheduler or exp.file.compute
    if scheduler_problem(scheduler):
        raise RunError(f"scheduler {scheduler!r}: {scheduler_problem(scheduler)}")
    check_plan(exp, None, scheduler)        # the number of tasks, before anything is built
    ctx, catalogue = build_context(exp)
    check_plan(exp, ctx, scheduler)
    _prepare_output(exp, write, force, resume)
    tasks = make_plan(exp.households, exp.file.chunk_size, exp.file.replicates)
    fp = run_fingerprint(exp, ctx)
    if write and resume and checkpoint.exists(exp.output):
        empty = new_accumulators(ctx.layout)
        shapes = ((len(ctx.policies),) + empty.hh.shape, (len(ctx.policies),) + empty.person.shape)
        cp = checkpoint.load(exp.output, fp, shapes, {t.key for t in tasks})
    else:
        cp = checkpoint.Checkpoint(fp)
    todo = [t for t in tasks if t.key not in cp.done]
    if cp.done:
        log(f"resuming: {len(cp.done)} of {len(tasks)} chunks were already done")
    created_output = write and not exp.output.exists()
    state = {"saved_at": time.monotonic(), "updating": False, "new": 0, "saved": len(cp.done)}

    def on_result(task, result) -> None:
        acc, persons = result
        state["updating"] = True
        cp.add(task.replicate, task.key, acc, persons)
        state["updating"] = False
        state["new"] += 1
        if progress:
            progress(len(cp.done), persons)
        if write and time.monotonic() - state["saved_at"] >= checkpoint_seconds:
            checkpoint.save(exp.output, cp)
            state["saved_at"] = time.monotonic()
            state["saved"] = len(cp.done)

    def keep_progress() -> bool:
        """Save what is done (if anything new and consistent); True if a checkpoint exists."""
        if write and state["new"] and not state["updating"]:
            try:
                checkpoint.save(exp.output, cp)
                state["saved"] = len(cp.done)
            except RunError:
                pass
        if write and created_output and not checkpoint.exists(exp.output):
            shutil.rmtree(exp.output, ignore_errors=True)
        return write and checkpoint.exists(exp.output)

    try:
        # Population-wide lines (societal poverty line, subsistence line) come first: a
        # deterministic households-only pass, repeated on resume.
        ctx, lines = population_pass(ctx, tasks, scheduler)
        run_tasks(ctx, todo, scheduler, on_result, log)
        ds = build_dataset(exp, ctx, catalogue, cp.totals, cp.persons, lines)
        if write:
            write_results(ds, exp.output, exp.file.format)
    except KeyboardInterrupt:
        saved = keep_progress()
        raise Interrupted(
            f"interrupted after {len(cp.done)} of {len(tasks)} chunks; "
            + (f"{state['saved']} finished chunks are saved in {checkpoint.folder(exp.output)}: "
               "continue with --resume" if saved else "no results were written")) from None
    except RunError as exc:
        saved = keep_progress()
        if saved:
            raise type(exc)(f"{exc}; {state['saved']} finished chunks are saved in "
                            f"{checkpoint.folder(exp.output)}: fix the problem and continue with "
                            "--resume") from None
        raise
    except BaseException:
        keep_progress()
        raise
    if write:
        checkpoint.remove(exp.output)
    return ds


def n_tasks(exp: Experiment) -> int:
    return plan_tasks(exp.households, exp.file.chunk_size, exp.file.replicates)


def check_plan(exp: Experiment, ctx: Context | None, scheduler: str) -> None:
    """Refuse, before anything is allocated, a plan with too many tasks or (once the context,
    and so the size of the sums, is known) one that would not fit in this machine's memory,
    saying what to change."""
    workers = local_workers(scheduler) if scheduler in LOCAL_SCHEDULERS else None
    if scheduler.startswith("local-cluster:"):
        workers = int(scheduler.split(":", 1)[1])
    if ctx is None:
        workers, sums = None, 0
    else:
        empty = new_accumulators(ctx.layout)
        sums = empty.hh.nbytes + empty.person.nbytes
    problem = plan_problem(exp.households, exp.file.chunk_size, exp.file.replicates,
                           len(exp.scenarios), workers, sums)
    if problem:
        raise InputError(exp.path, f"this plan cannot run: {problem}")
