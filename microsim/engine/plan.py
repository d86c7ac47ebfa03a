"""The plan: which households each task simulates, for which replicate, and whether it can run.

Takes: the number of households, the chunk size and the number of replicates.
Gives: `Task`s. A task's draws depend only on (seed, replicate, household and
person ids), never on the chunk boundaries, so any chunk size gives the same
people, illnesses and results.

`plan_problem` estimates a plan's tasks and peak memory before anything is
allocated, and says what to change when the plan cannot run on this machine:
the tasks are households x replicates / chunk size, and the memory follows the
bound of docs/performance.md (the interpreter, each worker's chunk, the
results in flight and the replicates being added up, and the plan itself).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

MAX_TASKS = 1_000_000
"""The most tasks a plan may hold: the plan and the keys of finished tasks take about 300
bytes a task (measured), so a million tasks stay near 300 MB; the whole country at the
default chunk size is about 10,000 tasks a replicate."""
TASK_BYTES = 300
MAX_CHUNK = 10_000_000
"""The largest chunk_size an experiment may set (microsim/experiment.py)."""
BASE_BYTES = 400e6
"""The interpreter with numpy, numba, xarray and dask loaded and the kernels mapped
(docs/performance.md, 'Memory is bounded by the chunk')."""
HOUSEHOLD_BYTES = 1750
"""Working memory of one household of a chunk: its tables, its year of illness and the claims
of one scenario (docs/performance.md: 1.75 KB for the national spec, 2.62 persons)."""
RESULTS_PER_WORKER = 3
"""Finished results a worker's batch may hold before they are added up (engine/execute.py)."""
OPEN_REPLICATES = 2
"""Replicates being added up at once: tasks run replicate after replicate, so at most the
one finishing and the next are open (a finished replicate is reduced to its indicators)."""


@dataclass(frozen=True)
class Task:
    replicate: int
    chunk: int
    start: int      # first household (global index)
    stop: int       # one past the last household
    year: int = 0   # the simulated year, as an index into the experiment's years
    years: int = 1  # simulated years of the plan

    @property
    def key(self) -> str:
        if self.years == 1:
            return f"r{self.replicate}-c{self.chunk}"
        return f"s{self.slot}-r{self.replicate}-y{self.year}-c{self.chunk}"

    @property
    def slot(self) -> int:
        """The sums the task adds into: one set per (replicate, year)."""
        return self.replicate * self.years + self.year

    @property
    def households(self) -> int:
        return self.stop - self.start


def make_plan(n_households: int, chunk_size: int, replicates: int, years: int = 1) -> list[Task]:
    """Chunks of at most `chunk_size` households, for every replicate and simulated year
    (replicate after replicate, year after year, so one (replicate, year) is finished and
    reduced before the next ones are far along)."""
    if n_households <= 0 or chunk_size <= 0 or replicates <= 0 or years <= 0:
        raise ValueError("households, chunk size, replicates and years must be positive")
    tasks = []
    for r in range(replicates):
        for y in range(years):
            for c, start in enumerate(range(0, n_households, chunk_size)):
                tasks.append(Task(r, c, start, min(start + chunk_size, n_households), y, years))
    return tasks


def plan_tasks(n_households: int, chunk_size: int, replicates: int, years: int = 1) -> int:
    """The number of tasks of a plan, without building it."""
    return replicates * years * math.ceil(n_households / chunk_size)


def available_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its control group's limit."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            limit = fh.read().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return total


RESULT_COPIES = 3
"""Copies of the indicators held at the end of a run: each replicate's own (values and rank
bounds), the Dataset's arrays, and the encoded results file."""


def estimated_memory(chunk_size: int, scenarios: int, workers: int, accumulator_bytes: int,
                     tasks: int, replicates: int = 0, result_bytes: int = 0) -> float:
    """Peak bytes of a run (docs/performance.md): the interpreter, every worker's chunk, the
    results in flight, the open replicates' sums, the plan, and the indicators of every
    replicate and scenario (`result_bytes` for one scenario of one replicate)."""
    in_flight = workers * RESULTS_PER_WORKER + OPEN_REPLICATES
    return (BASE_BYTES + workers * chunk_size * HOUSEHOLD_BYTES
            + in_flight * scenarios * accumulator_bytes + tasks * TASK_BYTES
            + RESULT_COPIES * replicates * scenarios * result_bytes)


def plan_problem(n_households: int, chunk_size: int, replicates: int, scenarios: int,
                 workers: int | None, accumulator_bytes: int,
                 memory: int | None = None, result_bytes: int = 0) -> str | None:
    """Why this plan cannot run here (with what to change), or None. `workers` is None for a
    cluster, whose workers' memory is theirs: only the number of tasks is checked then."""
    tasks = plan_tasks(n_households, chunk_size, replicates)
    if tasks > MAX_TASKS:
        need = math.ceil(n_households * replicates / MAX_TASKS)
        chunks = math.ceil(n_households / min(n_households, MAX_CHUNK))
        advice = (f"raise chunk_size to at least {need:,}" if need <= min(n_households, MAX_CHUNK)
                  else f"raise chunk_size to {min(n_households, MAX_CHUNK):,} and run at most "
                       f"{MAX_TASKS // chunks:,} replicates")
        return (f"{n_households:,} households x {replicates:,} replicate(s) / chunk_size "
                f"{chunk_size:,} = {tasks:,} tasks, more than {MAX_TASKS:,}: {advice}"
                + (", or run fewer replicates" if replicates > 1 and need <= MAX_CHUNK else ""))
    if workers is None:
        return None
    memory = available_memory() if memory is None else memory
    results = (replicates, result_bytes)
    need = estimated_memory(chunk_size, scenarios, workers, accumulator_bytes, tasks, *results)
    if need <= memory:
        return None
    fits = chunk_size
    for _ in range(4):     # smaller chunks mean more tasks: settle on a chunk size that fits
        more_tasks = plan_tasks(n_households, max(fits, 1), replicates)
        room = memory - estimated_memory(0, scenarios, workers, accumulator_bytes, more_tasks,
                                         *results)
        fits = int(room // (workers * HOUSEHOLD_BYTES)) if room > 0 else 0
        if fits < 1:
            break
    per_replicate = RESULT_COPIES * scenarios * result_bytes
    room = memory - estimated_memory(1, scenarios, workers, accumulator_bytes, tasks)
    most = int(room // per_replicate) if per_replicate and room > 0 else 0
    advice = (f"lower chunk_size to at most {fits:,}" if fits >= 1 else
              f"run at most {most:,} replicates of {scenarios} scenario(s)" if most >= 1 else
              "run fewer scenarios at once")
    return (f"the plan needs about {need / 2**30:,.1f} GiB and this machine has "
            f"{memory / 2**30:,.1f} GiB ({workers} worker(s) x chunk_size {chunk_size:,} "
            f"households, {scenarios} scenario(s) of {accumulator_bytes / 2**20:,.1f} MiB of sums "
            f"each): {advice}, or use fewer workers (--scheduler local-cluster:N or synchronous)")


def check_tasks(experiment: object, n_households: int, chunk_size: int, replicates: int) -> None:
    """Refuse a plan with too many tasks (an `InputError` naming the experiment file); light
    enough to run before the engine is imported."""
    from microsim.errors import InputError
    problem = plan_problem(n_households, chunk_size, replicates, 1, None, 0)
    if problem:
        raise InputError(experiment, f"this plan cannot run: {problem}")
