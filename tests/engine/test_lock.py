"""One run at a time per output folder; a failed run removes only what it made; the --force
check is made again, atomically, at the moment the results are published."""

from __future__ import annotations

import os
import time

import pytest

import microsim
from microsim.engine import run as run_module
from microsim.engine.lock import LOCK_FILE, OutputLock
from microsim.errors import Interrupted, RunError
from tests.engine.test_run import experiment


def test_a_second_run_into_the_same_folder_is_refused_at_once_naming_the_first(tmp_path):
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    out = tmp_path / "out"
    first = OutputLock(out, tmp_path / "first.yaml")
    first.acquire()                     # the first run holds the folder
    try:
        (out / "notes.txt").write_text("mine", encoding="utf-8")
        start = time.perf_counter()
        with pytest.raises(RunError, match=rf"another run is writing into {out}: process "
                                           rf"{os.getpid()} running {tmp_path / 'first.yaml'} "
                                           r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; wait for "
                                           r"it to finish, or give this run another output"):
            microsim.run(exp)
        assert time.perf_counter() - start < 2
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE, "notes.txt"]
    finally:
        first.release()
    microsim.run(exp)                   # once the first has finished, the folder is free
    assert (out / "results.nc").is_file() and (out / "notes.txt").read_text() == "mine"


def interrupt_population_pass(monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(run_module, "population_pass", interrupted)


def test_an_interrupted_run_removes_only_the_folders_it_made(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1,
                     output="mine/new/deeper/out")
    interrupt_population_pass(monkeypatch)
    with pytest.raises(Interrupted, match="no results were written"):
        microsim.run(exp)
    assert (tmp_path / "mine").is_dir() and list((tmp_path / "mine").iterdir()) == []


def test_an_interrupted_run_leaves_an_existing_folder_and_its_files(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    interrupt_population_pass(monkeypatch)
    with pytest.raises(Interrupted):
        microsim.run(exp)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]   # its own lock file went too


def test_results_that_appear_during_a_run_are_kept_and_the_run_says_so(tmp_path):
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    out = tmp_path / "out"

    def someone_else_writes(done, _persons):
        if done == 1:
            (out / "results.nc").write_bytes(b"written by another process")
    with pytest.raises(RunError, match=rf"{out / 'results.nc'} appeared while this run was going "
                                       r"\(written by another process\); it was kept and this "
                                       r"run's results were not written: rerun with --force"):
        microsim.run(exp, progress=someone_else_writes)
    assert (out / "results.nc").read_bytes() == b"written by another process"
    assert not [p for p in out.iterdir() if "partial" in p.name]
    ds = microsim.run(exp, force=True, resume=True)      # --force replaces it
    assert (out / "results.nc").read_bytes() != b"written by another process" and "che10" in ds


def test_a_planted_link_at_a_temporary_name_is_never_followed(tmp_path):
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (out / f".results.nc.partial-{os.getpid()}").symlink_to(victim)
    with pytest.raises(RunError, match="cannot write results"):
        microsim.run(exp)
    assert victim.read_text(encoding="utf-8") == "keep"



def test_a_lock_held_by_another_process_is_named_and_freed_when_that_process_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from microsim.engine.lock import OutputLock; "
         "lock = OutputLock(Path(sys.argv[1]), Path(sys.argv[2])); lock.acquire(); "
         "print('locked', flush=True); time.sleep(120)", str(out), str(tmp_path / "first.yaml")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunError, match=rf"another run is writing into {out}: process "
                                           rf"{holder.pid} running {tmp_path / 'first.yaml'}"):
            microsim.run(exp)
    finally:
        holder.send_signal(signal.SIGKILL)          # killed: no chance to clean up
        holder.wait()
    ds = microsim.run(exp)                          # the lock died with it: no stale lock
    assert "che10" in ds and (out / "results.nc").is_file()
