"""A real dask.distributed LocalCluster with two worker processes gives the threaded results."""

from __future__ import annotations

import microsim
from tests.engine.test_run import experiment, same


def test_local_cluster_with_two_worker_processes_matches_threads(tmp_path):
    exp = experiment(tmp_path, 5_000, households=20_000)
    threads = microsim.run(exp, write=False, scheduler="threads")
    messages = []
    cluster = microsim.run(exp, write=False, scheduler="local-cluster:2", log=messages.append)
    assert same(cluster, threads)
    assert any(m.startswith("dask dashboard: http") for m in messages)


def test_processes_scheduler_matches_threads(tmp_path):
    exp = experiment(tmp_path, 5_000, households=20_000)
    assert same(microsim.run(exp, write=False, scheduler="processes"),
                microsim.run(exp, write=False, scheduler="threads"))
