"""Interrupted runs resume to identical results; existing outputs are never silently replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import microsim
from microsim.engine import checkpoint
from microsim.errors import Interrupted, RunError
from tests.engine.test_run import experiment, same


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    return microsim.run(experiment(tmp, 4_000, households=24_000), write=False)


def stop_after(n: int):
    def progress(done: int, _persons: int) -> None:
        if done >= n:
            raise KeyboardInterrupt
    return progress


def test_ctrl_c_then_resume_gives_identical_results(tmp_path, reference):
    exp = experiment(tmp_path, 4_000, households=24_000)
    with pytest.raises(Interrupted, match="continue with --resume"):
        microsim.run(exp, progress=stop_after(5), checkpoint_seconds=0.0, scheduler="synchronous")
    out = tmp_path / "out"
    assert checkpoint.exists(out) and not (out / "results.nc").exists()
    # Without --resume (or --force) the unfinished run is not overwritten.
    with pytest.raises(RunError, match="--resume"):
        microsim.run(exp)
    ds = microsim.run(exp, resume=True)
    assert same(ds, reference)
    assert (out / "results.nc").exists() and not checkpoint.exists(out)
    assert same(xr.open_dataset(out / "results.nc"), reference)


def test_resume_computes_only_the_missing_chunks(tmp_path):
    exp = experiment(tmp_path, 4_000, households=24_000)     # 6 chunks x 2 replicates
    with pytest.raises(Interrupted):
        microsim.run(exp, progress=stop_after(7), checkpoint_seconds=0.0, scheduler="synchronous")
    seen = []
    microsim.run(exp, resume=True, progress=lambda done, _n: seen.append(done))
    # 7 chunks were saved before the interruption, so only 5 of 12 ran again.
    assert seen[0] == 8 and seen[-1] == 12 and len(seen) == 5


def test_a_killed_process_resumes(tmp_path, reference):
    exp = experiment(tmp_path, 2_000, households=24_000)
    # The reference used 4,000-household chunks; chunking never changes results.
    proc = subprocess.Popen([sys.executable, "-m", "microsim", "run", str(exp), "--quiet",
                             "--scheduler", "synchronous"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "MICROSIM_CHECKPOINT_SECONDS": "0"})
    out = tmp_path / "out"
    deadline = time.time() + 120
    while not checkpoint.exists(out) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists(out), "the run finished or failed before a checkpoint was written"
    assert not (out / "results.nc").exists()
    ds = microsim.run(exp, resume=True)
    assert same(ds, reference)


def test_a_checkpoint_from_another_run_is_refused(tmp_path):
    exp = experiment(tmp_path, 4_000, households=24_000)
    with pytest.raises(Interrupted):
        microsim.run(exp, progress=stop_after(2), checkpoint_seconds=0.0, scheduler="synchronous")
    other = experiment(tmp_path, 6_000, households=24_000)   # different chunking, same output folder
    with pytest.raises(RunError, match="belongs to a different run"):
        microsim.run(other, resume=True)
    # --force starts again and succeeds.
    ds = microsim.run(other, force=True)
    assert "che10" in ds
