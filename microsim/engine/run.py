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

import dataclasses
import hashlib
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from microsim.engine import checkpoint
from microsim.engine.chunk import Context
from microsim.engine.execute import LOCAL_SCHEDULERS, local_workers, run_tasks
from microsim.engine.plan import check_tasks, make_plan, plan_problem, plan_tasks
from microsim.engine.lock import OutputLock
from microsim.engine.results import (ReplicateValues, assemble_dataset, package_version,
                                     replicate_values, results_path, write_results)
from microsim.errors import InputError, Interrupted, RunError
from microsim.experiment import Experiment, load_experiment, scheduler_problem
from microsim.health.events import health_params
from microsim.paths import kind, resolve
from microsim.population.microdata import HOUSEHOLDS_FILE, PERSONS_FILE
from microsim.yamltree import read_yaml
from microsim.engine.prepass import pass_params, population_pass
from microsim.metrics.accumulate import income_bin_edges, new_accumulators
from microsim.metrics.indicators import load_catalogue, make_layout
from microsim.policy.arrays import build_arrays
from microsim.population.synth import synth_params
from microsim.population.uprate import uprate_synth

Progress = Callable[[int, int], None]
"""(tasks done, persons in the task just finished), called once per finished task. A callable
with a `start` attribute also gets `start(tasks already done)` once before any task is computed
(more than 0 when resuming), so a progress display can begin there."""
CHECKPOINT_SECONDS = float(os.environ.get("MICROSIM_CHECKPOINT_SECONDS", "10"))


def build_contexts(exp: Experiment) -> tuple[tuple[Context, ...], object]:
    """One context per simulated year (its policies, uprating, health parameters and poverty
    lines), and the catalogue of indicators."""
    lines = exp.poverty_lines()
    catalogue = load_catalogue(tuple(name for name, _ in lines), labels=exp.poverty_line_labels(),
                               che_grid=exp.file.che_grid)
    exp.check_indicators(set(catalogue.names()))
    synth = synth_params(exp.population)
    demography = (exp.demography.params(exp.population.data.age.max_age)
                  if exp.demography is not None and exp.projection else None)
    contexts = []
    arrays: dict[int, object] = {}       # a policy used in several years is flattened once
    for offset, year in enumerate(exp.years):
        up = exp.uprating(year)
        moved = [(name, (urban * up.poverty_line[0], rural * up.poverty_line[1]))
                 for name, (urban, rural) in lines]
        policies = []
        for s in exp.scenarios:
            policy = s.policy_in(year)
            if id(policy) not in arrays:
                arrays[id(policy)] = build_arrays(policy)
            policies.append(arrays[id(policy)])
        contexts.append(Context(
            spec=exp.population, synth=uprate_synth(synth, up),
            health=health_params(exp.population, up), policies=tuple(policies),
            layout=make_layout(catalogue, moved, income_bin_edges()), seed=exp.file.seed,
            n_households=exp.households, microdata=exp.source,
            population_pass=pass_params(exp, catalogue, up), year=year, offset=offset,
            uprating=None if up.identity else up, demography=demography))
    return tuple(contexts), catalogue


def build_context(exp: Experiment) -> tuple[Context, object]:
    """The context of the first simulated year, and the catalogue."""
    contexts, catalogue = build_contexts(exp)
    return contexts[0], catalogue


PRESENTATION_KEYS = ("description", "description_zh", "report", "targets")
"""Keys of an experiment that change what is said about the results, never the numbers:
editing them does not stop a --resume."""


def input_digests(exp: Experiment) -> dict[str, str]:
    """A digest of the contents of every input that determines the numbers, by file: the
    experiment (its settings, without PRESENTATION_KEYS), every population spec and policy file
    (inherited ones included) and reform overlay (without their top-level description), and the
    microdata files byte for byte."""
    settings = {k: v for k, v in exp.resolved().items() if k not in PRESENTATION_KEYS}
    digests = {str(exp.path): checkpoint.fingerprint(settings)}
    files: list[str] = list(exp.population.tree.files) if exp.population else []
    for s in exp.scenarios:
        for policy in s.policies():
            files += list(policy.tree.files) + [str(f) for f in policy.files]
    files += [str(x.path) for x in (exp.index_series, exp.demography) if x is not None]
    for f in dict.fromkeys(files):
        if f == str(exp.path):
            continue
        raw = read_yaml(f)
        digests[f] = checkpoint.fingerprint({k: v for k, v in raw.items() if k != "description"})
    if exp.microdata is not None:
        for name in (HOUSEHOLDS_FILE, PERSONS_FILE):
            digests[str(exp.microdata / name)] = _file_digest(exp.microdata / name)
    return digests


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def run_fingerprint(exp: Experiment, ctx: Context | tuple[Context, ...],
                    inputs: dict[str, str] | None = None) -> str:
    """Everything that determines the numbers of a run, hashed (checkpoints must match it)."""
    inputs = input_digests(exp) if inputs is None else inputs
    contexts = ctx if isinstance(ctx, tuple) else (ctx,)
    first = contexts[0]
    return checkpoint.fingerprint(
        sorted(inputs.items()), list(first.layout.line_names),
        [c.layout.lines.tolist() for c in contexts], first.layout.bin_edges.tolist(),
        list(first.layout.che_thresholds), list(first.layout.che_grid),
        first.layout.change_tolerance, first.layout.drip_households, package_version())


def writable(folder: Path) -> bool:
    """Whether this process may create files in `folder`."""
    return os.access(folder, os.W_OK | os.X_OK)


def output_problem(output: Path, fmt: str) -> str | None:
    """Why results could not be written to `output` (checked before a run and by validate), or
    None: a path that is not a folder, a folder this user cannot write in, or Zarr without its
    package."""
    here = output
    while kind(here) is None and here != here.parent:
        here = here.parent                       # the nearest part of the path that exists
    found = kind(here)
    if found != "folder":
        what = "a loop of symbolic links" if found == "loop" else f"a {found}"
        return (f"the output {output} cannot be a folder: {here} is {what}" if here != output
                else f"the output {output} is {what}, not a folder")
    if not writable(here):
        read_only = bool(os.statvfs(here).f_flag & os.ST_RDONLY)
        return (f"cannot write in {here}: {'Read-only file system' if read_only else 'Permission denied'}"
                f" (the output is {output})")
    if fmt == "zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            return "writing Zarr needs the 'zarr' package: pip install 'microsim[zarr]'"
    return None


def _prepare_output(exp: Experiment, write: bool, force: bool, resume: bool) -> None:
    """Refuse to overwrite complete results or an unfinished run unless told to."""
    if not write:
        return
    problem = output_problem(exp.output, exp.file.format)
    if problem:
        raise RunError(f"{problem} (key 'output' of {exp.path})")
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


def project_of(exp: Experiment) -> Path:
    """The folder an experiment may write below: the one that holds its own folder (a project
    keeps experiments/ beside results/)."""
    return exp.path.parent.parent


def check_output_place(exp: Experiment) -> None:
    """An experiment file writes only inside its own project; elsewhere needs --output."""
    project = project_of(exp)
    if not exp.output.is_relative_to(project):
        raise InputError(exp.tree.file_of(("output",)), f"the output {exp.output} is outside "
                         f"the experiment's project {project}: an experiment file writes only "
                         "below the folder that holds its own folder; to write elsewhere, give "
                         "the folder on the command line (microsim run EXPERIMENT --output DIR)",
                         key="output")


def run(experiment: str | Path | Experiment, *, scheduler: str | None = None, write: bool = True,
        force: bool = False, resume: bool = False, progress: Progress | None = None,
        log: Callable[[str], None] = lambda _msg: None,
        checkpoint_seconds: float = CHECKPOINT_SECONDS, output: str | Path | None = None,
        reforms: list | None = None) -> xr.Dataset:
    """Run an experiment and return its results Dataset (the notebook and CLI entry point).
    `output` (the command line's --output) writes into that folder instead of the
    experiment's own `output`, which must lie inside the experiment's project. `reforms` are
    reform overlays given as mappings, applied to every scenario after its files' overlays
    (docs/policy.md)."""
    if isinstance(experiment, Experiment):
        if reforms is not None:
            raise TypeError("reforms= needs an experiment path; a loaded Experiment already "
                            "holds its reforms (load_experiment(path, reforms=...))")
        exp = experiment
    else:
        exp = load_experiment(experiment, reforms)
    if output is not None:
        exp = dataclasses.replace(exp, output=resolve(output, what="--output"))
    elif write:
        check_output_place(exp)
    scheduler = scheduler or exp.file.compute
    if scheduler_problem(scheduler):
        raise RunError(f"scheduler {scheduler!r}: {scheduler_problem(scheduler)}")
    check_plan(exp, None, scheduler)        # the number of tasks, before anything is built
    ctx, catalogue = build_contexts(exp)
    check_plan(exp, ctx[0], scheduler, len(catalogue.indicators))
    if not write:
        return _run(exp, ctx, catalogue, scheduler, False, resume, progress, log,
                    checkpoint_seconds, None)
    problem = output_problem(exp.output, exp.file.format)
    if problem:
        raise RunError(f"{problem} (key 'output' of {exp.path})")
    lock = OutputLock(exp.output, exp.path)
    lock.acquire()                  # one run at a time in this folder, from here to the end
    try:
        _prepare_output(exp, True, force, resume)
        return _run(exp, ctx, catalogue, scheduler, force, resume, progress, log,
                    checkpoint_seconds, lock)
    except BaseException:
        if not checkpoint.exists(exp.output):
            checkpoint.remove(exp.output)     # a checkpoint folder this run began, left whole
            lock.remove_created()   # the lock file and the folders this run made, if empty
        raise
    finally:
        lock.release()


def _run(exp: Experiment, ctx: tuple[Context, ...], catalogue, scheduler: str, force: bool,
         resume: bool,
         progress: Progress | None, log: Callable[[str], None], checkpoint_seconds: float,
         lock: OutputLock | None) -> xr.Dataset:
    write = lock is not None
    n_years = len(ctx)
    tasks = make_plan(exp.households, exp.file.chunk_size, exp.file.replicates, n_years)
    slots = exp.file.replicates * n_years      # one set of sums per (replicate, year)
    per_slot = len(tasks) // slots             # the tasks of one set of sums
    inputs = input_digests(exp)
    fp = run_fingerprint(exp, ctx, inputs)
    empty = new_accumulators(ctx[0].layout)
    n_s = len(exp.scenarios)
    shapes = ((n_s,) + empty.hh.shape, (n_s,) + empty.person.shape)
    del empty
    if write and resume and checkpoint.exists(exp.output):
        cp = checkpoint.load(exp.output, fp, shapes, {t.key for t in tasks}, inputs, slots)
    else:
        cp = checkpoint.Checkpoint(fp, inputs=inputs)
    reps: dict[int, ReplicateValues] = {}
    todo = [t for t in tasks if t.key not in cp.done and t.slot not in cp.complete]
    if cp.done or cp.complete:
        log(f"resuming: {cp.n_done(per_slot)} of {len(tasks)} chunks were already done")
    if progress and callable(getattr(progress, "start", None)):
        progress.start(cp.n_done(per_slot))     # the starting point: the restored chunks
    state = {"saved_at": time.monotonic(), "updating": False, "new": 0,
             "saved": cp.n_done(per_slot)}

    def reduce(slot: int, acc) -> None:
        r, y = divmod(slot, n_years)
        reps[slot] = replicate_values(exp, ctx[y], catalogue, r, acc)

    def on_result(task, result) -> None:
        acc, persons = result
        state["updating"] = True
        cp.add(task.slot, task.key, acc, persons)
        del acc
        if cp.counts.get(task.slot) == per_slot:     # the (replicate, year) is complete
            if write:
                checkpoint.save_replicate(exp.output, cp, task.slot)
            reduce(task.slot, cp.totals[task.slot])
            cp.close(task.slot)
        state["updating"] = False
        state["new"] += 1
        if progress:
            progress(cp.n_done(per_slot), persons)
        if write and time.monotonic() - state["saved_at"] >= checkpoint_seconds:
            checkpoint.save(exp.output, cp)
            state["saved_at"] = time.monotonic()
            state["saved"] = cp.n_done(per_slot)

    def keep_progress() -> bool:
        """Save what is done (if anything new and consistent); True if a checkpoint exists."""
        if write and state["new"] and not state["updating"]:
            try:
                checkpoint.save(exp.output, cp)
                state["saved"] = cp.n_done(per_slot)
            except RunError:
                pass
        return write and checkpoint.exists(exp.output)

    try:
        # Population-wide lines (societal poverty line, subsistence line) come first: a
        # deterministic households-only pass, repeated on resume.
        passed = [population_pass(c, [t for t in tasks if t.year == y], scheduler)
                  for y, c in enumerate(ctx)]
        ctx = tuple(c for c, _ in passed)
        lines = {r * n_years + y: line for y, (_, by_rep) in enumerate(passed)
                 for r, line in by_rep.items()}
        # Replicates a resumed run finished before: their sums, one at a time, to indicators.
        for r in sorted(cp.complete):
            reduce(r, checkpoint.load_replicate(exp.output, cp, r, shapes))
        run_tasks(ctx, todo, scheduler, on_result, log)
        for r in sorted(cp.totals):     # only without write: every replicate is reduced above
            reduce(r, cp.totals[r])
        ds = assemble_dataset(exp, ctx, catalogue, reps, cp.persons, lines)
        if write:
            write_results(ds, exp.output, exp.file.format, replace=force)
    except KeyboardInterrupt:
        saved = keep_progress()
        raise Interrupted(
            f"interrupted after {cp.n_done(per_slot)} of {len(tasks)} chunks; "
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
    return plan_tasks(exp.households, exp.file.chunk_size, exp.file.replicates, len(exp.years))


def check_plan(exp: Experiment, ctx: Context | None, scheduler: str, indicators: int = 0) -> None:
    """Refuse, before anything is allocated, a plan with too many tasks or (once the context,
    and so the size of the sums, is known) one that would not fit in this machine's memory,
    saying what to change. `indicators`: how many the run computes (its results' size)."""
    workers = local_workers(scheduler) if scheduler in LOCAL_SCHEDULERS else None
    if scheduler.startswith("local-cluster:"):
        workers = int(scheduler.split(":", 1)[1])
    if ctx is None:
        check_tasks(exp.path, exp.households, exp.file.chunk_size,
                    exp.file.replicates * len(exp.years))
        return
    empty = new_accumulators(ctx.layout)
    sums = empty.hh.nbytes + empty.person.nbytes
    # The indicators of one scenario of one replicate: values and rank bounds on the full
    # grid of groups (residence x quintile x status, with their margins), float64.
    result_bytes = 2 * indicators * 3 * 6 * 6 * 8
    problem = plan_problem(exp.households, exp.file.chunk_size,
                           exp.file.replicates * len(exp.years), len(exp.scenarios), workers,
                           sums, result_bytes=result_bytes)
    if problem:
        raise InputError(exp.path, f"this plan cannot run: {problem}")
