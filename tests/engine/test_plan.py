"""Plans that cannot run are refused before anything is allocated, saying what to change:
too many tasks (households x replicates / chunk size), or more memory than the machine has."""

from __future__ import annotations

import time
import tracemalloc

import pytest

import microsim
from microsim.engine import plan, run as _run  # noqa: F401 (imported before timing)
from microsim.errors import InputError
from tests.engine.test_run import experiment


def test_a_plan_of_2e13_tasks_is_refused_at_once_without_building_it(tmp_path):
    exp = experiment(tmp_path, 1, households=2_000_000_000, replicates=10_000)
    loaded = microsim.load_experiment(exp)       # reading the inputs is not the refusal's time
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"this plan cannot run: 2,000,000,000 households x "
                                         r"10,000 replicate\(s\) / chunk_size 1 = "
                                         r"20,000,000,000,000 tasks, more than 1,000,000: raise "
                                         r"chunk_size to 10,000,000 and run at most 5,000 "
                                         r"replicates"):
        microsim.run(loaded)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2.0 and peak < 200e6, (seconds, peak)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="20,000,000,000,000 tasks"):
        microsim.validate(exp)                    # validate refuses what the run would


def test_too_many_tasks_says_the_chunk_size_that_fits():
    # 10 M households x 200 replicates / 1,000 = 2 M tasks; 2e9 / 1e6 = 2,000 per chunk.
    assert plan.plan_problem(10_000_000, 1_000, 200, 2, 2, 1) == (
        "10,000,000 households x 200 replicate(s) / chunk_size 1,000 = 2,000,000 tasks, more "
        "than 1,000,000: raise chunk_size to at least 2,000, or run fewer replicates")
    assert plan.plan_problem(10_000_000, 2_000, 200, 2, 2, 1, memory=2**40) is None


def test_a_plan_beyond_the_machines_memory_says_the_chunk_size_that_fits():
    # 1 GiB; fixed part 400e6 + (2 workers x 3 + 2) x 2 scenarios x 10 MiB = 567,772,160
    # bytes, plus 300 bytes a task; room about 505.97 MB / (2 workers x 1,750 bytes): 144,556
    # households a chunk (70 tasks: 144,556 x 70 >= 10 M), 2 x 1,750 x 144,556 = 505,946,000.
    problem = plan.plan_problem(10_000_000, 1_000_000, 1, 2, 2, 10 * 2**20, memory=2**30)
    assert problem.startswith("the plan needs about 3.8 GiB and this machine has 1.0 GiB "
                              "(2 worker(s) x chunk_size 1,000,000 households, 2 scenario(s) of "
                              "10.0 MiB of sums each): lower chunk_size to at most 144,556")
    assert plan.plan_problem(10_000_000, 144_556, 1, 2, 2, 10 * 2**20, memory=2**30) is None
    assert plan.plan_problem(10_000_000, 144_600, 1, 2, 2, 10 * 2**20, memory=2**30) is not None
    # A cluster's workers have their own memory: only the tasks are checked.
    assert plan.plan_problem(10_000_000, 1_000_000, 1, 2, None, 10 * 2**20, memory=2**30) is None


def test_a_run_beyond_the_machines_memory_is_refused_before_its_output_exists(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(plan, "available_memory", lambda: 500 * 2**20)
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    with pytest.raises(InputError, match=r"this plan cannot run: the plan needs about .* GiB and "
                                         r"this machine has 0\.5 GiB"):
        microsim.run(exp)
    assert not (tmp_path / "out").exists()


def test_results_too_large_for_the_machine_say_how_many_replicates_fit():
    # 1 GiB; 4 scenarios x 1 MiB of indicators x 3 copies = 12 MiB a replicate. With 1
    # household a chunk: 400e6 + (2 x 3 + 2) x 4 x 1 MiB + 2 x 1,750 + 10,000 tasks x 300 bytes
    # = 436,557,932 bytes; (2**30 - 436,557,932) / 12 MiB = 50.6: at most 50 replicates.
    problem = plan.plan_problem(1, 1, 10_000, 4, 2, 2**20, memory=2**30, result_bytes=2**20)
    assert problem is not None and "run at most 50 replicates of 4 scenario(s)" in problem
    assert plan.plan_problem(1, 1, 50, 4, 2, 2**20, memory=2**30, result_bytes=2**20) is None
