"""Execution: run chunk tasks on a dask scheduler and hand back each result as it finishes.

Takes: a `Context`, the tasks still to do, a scheduler name or address, a
task function (`simulate_chunk` by default; the population pass uses its own)
and a callback. Gives: calls `on_result(task, result)` in the main thread for
every finished task, never holding more than a bounded number of results, so
memory does not grow with the population.

- `threads` (default), `processes`, `synchronous`: dask's local schedulers,
  fed in batches of a few tasks per worker (each batch is one `dask.compute`
  of independent chunk tasks).
- any other value is the address of a dask.distributed scheduler
  (`tcp://host:8786`) or `local-cluster:N` for a LocalCluster of N worker
  processes; tasks are submitted with a bounded window and collected with
  `as_completed`; a task whose worker dies is run again (the scheduler retries it,
  and a task lost anyway is resubmitted up to three times).
"""

from __future__ import annotations

import os
from typing import Callable

import dask

from microsim.engine.chunk import Context, simulate_chunk
from microsim.engine.plan import Task
from microsim.errors import RunError

LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")
MAX_RETRIES = 3
TASKS_PER_WORKER = 3
OnResult = Callable[[Task, object], None]
TaskFunction = Callable[[Context, Task], object]


def local_workers(scheduler: str) -> int:
    if scheduler == "synchronous":
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_local(ctx: Context, tasks: list[Task], scheduler: str, on_result: OnResult,
              fn: TaskFunction = simulate_chunk) -> None:
    """Local schedulers: batches of independent chunk tasks, results merged as batches end."""
    size = TASKS_PER_WORKER * local_workers(scheduler)
    shared = dask.delayed(ctx, pure=True, traverse=False)
    for i in range(0, len(tasks), size):
        batch = tasks[i:i + size]
        parts = [dask.delayed(fn, pure=True)(shared, t, dask_key_name=f"{fn.__name__}-{t.key}")
                 for t in batch]
        results = dask.compute(*parts, scheduler=scheduler)
        for task, result in zip(batch, results):
            on_result(task, result)


def run_distributed(ctx: Context, tasks: list[Task], address: str, on_result: OnResult,
                    log: Callable[[str], None] = lambda _msg: None,
                    fn: TaskFunction = simulate_chunk) -> None:
    """A dask.distributed cluster: a bounded window of submitted tasks, collected as completed."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise RunError("the dask.distributed package is needed for a cluster scheduler") from None
    cluster = None
    try:
        if address.startswith("local-cluster:"):
            n = int(address.split(":", 1)[1])
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=40)
            client = Client(cluster)
        else:
            client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise RunError(f"cannot reach the dask scheduler at {address!r}: {exc}") from None
    try:
        log(f"dask dashboard: {client.dashboard_link}")
        threads = max(1, sum(client.nthreads().values()))
        pending = iter(tasks)
        owner: dict[str, tuple[Task, int]] = {}

        def submit(task: Task, attempt: int = 0):
            # The context is small (tens of kB), so each task carries its own copy: no
            # scattered data that a lost worker could take with it.
            fut = client.submit(fn, ctx, task, key=f"{fn.__name__}-{task.key}-{attempt}-{id(ctx)}",
                                pure=False, retries=MAX_RETRIES)
            owner[fut.key] = (task, attempt)
            return fut

        window = as_completed([submit(t) for _, t in zip(range(2 * threads), pending)],
                              raise_errors=False)
        for fut in window:
            task, attempt = owner.pop(fut.key)
            if fut.status != "finished":
                error = fut.exception() if fut.status == "error" else None
                if attempt >= MAX_RETRIES or (error is not None and not _lost_worker(error)):
                    raise RunError(f"chunk {task.key} failed on the cluster: {error or fut.status}")
                window.add(submit(task, attempt + 1))    # its worker was lost: run it again
                continue
            on_result(task, fut.result())
            nxt = next(pending, None)
            if nxt is not None:
                window.add(submit(nxt))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _lost_worker(error: BaseException) -> bool:
    """True for the errors dask raises when a worker dies or its task is cancelled."""
    return type(error).__name__ in {"KilledWorker", "CancelledError", "FutureCancelledError",
                                    "CommClosedError"} or isinstance(error, (OSError, TimeoutError))


def run_tasks(ctx: Context, tasks: list[Task], scheduler: str, on_result: OnResult,
              log: Callable[[str], None] = lambda _msg: None,
              fn: TaskFunction = simulate_chunk) -> None:
    """Run `fn(ctx, task)` for every task and call `on_result(task, result)` as each finishes."""
    if not tasks:
        return
    if scheduler in LOCAL_SCHEDULERS:
        run_local(ctx, tasks, scheduler, on_result, fn)
    else:
        run_distributed(ctx, tasks, scheduler, on_result, log, fn)
