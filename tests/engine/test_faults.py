"""Faults: disk full, read-only output, Ctrl-C while writing, a worker killed mid-run.

Never a results file that looks complete but is not; a resumed run finishes correctly."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
import microsim.engine.results as results_module
from microsim.cli import app
from microsim.engine import checkpoint
from microsim.errors import Interrupted, RunError
from tests.engine.test_run import experiment, same


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return microsim.run(experiment(tmp_path_factory.mktemp("ref"), 10_000, households=20_000), write=False)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".checkpoint")


def failing_write(error: BaseException):
    """A file write that puts part of the data on disk, then fails."""
    def write(path, data):
        Path(path).write_bytes(data[: len(data) // 2])
        raise error
    return write


@pytest.mark.parametrize("error, message", [
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    (OSError(errno.EROFS, "Read-only file system"), "Read-only file system"),
])
def test_a_failed_write_leaves_no_results_and_resume_finishes(tmp_path, monkeypatch, reference, error, message):
    exp = experiment(tmp_path, 10_000, households=20_000)
    out = tmp_path / "out"
    monkeypatch.setattr(results_module, "_write_file", failing_write(error))
    with pytest.raises(RunError, match=f"{message}.*continue with --resume"):
        microsim.run(exp)
    assert not (out / "results.nc").exists() and leftovers(out) == []
    assert checkpoint.exists(out)
    monkeypatch.undo()
    ds = microsim.run(exp, resume=True)
    assert same(ds, reference) and same(xr.open_dataset(out / "results.nc"), reference)


def test_ctrl_c_while_writing_results(tmp_path, monkeypatch, reference):
    exp = experiment(tmp_path, 10_000, households=20_000)
    out = tmp_path / "out"
    monkeypatch.setattr(results_module, "_write_file", failing_write(KeyboardInterrupt()))
    with pytest.raises(Interrupted, match="--resume"):
        microsim.run(exp)
    assert not (out / "results.nc").exists() and leftovers(out) == []
    monkeypatch.undo()
    assert same(microsim.run(exp, resume=True), reference)


def test_ctrl_c_at_the_rename_never_leaves_a_partial_file(tmp_path, monkeypatch, reference):
    exp = experiment(tmp_path, 10_000, households=20_000)
    out = tmp_path / "out"
    real_replace = os.replace

    def interrupted_replace(src, dst):
        if str(dst).endswith("results.nc"):
            raise KeyboardInterrupt
        return real_replace(src, dst)
    monkeypatch.setattr(results_module.os, "replace", interrupted_replace)
    with pytest.raises(Interrupted):
        microsim.run(exp)
    assert not (out / "results.nc").exists() and leftovers(out) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 64 KiB file system (tmpfs), smaller than a results file, where mounting is permitted."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here; the monkeypatched tests cover the logic")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_real_full_disk_gives_a_clean_error_and_no_results(tmp_path, tiny_disk):
    exp = experiment(tmp_path, 10_000, households=20_000, output=str(tiny_disk / "out"))
    result = CliRunner().invoke(app, ["run", str(exp), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert not (tiny_disk / "out" / "results.nc").exists()
    assert [p for p in tiny_disk.rglob("*partial*")] == []


def test_a_worker_killed_mid_run_is_replaced_and_results_are_identical(tmp_path, reference):
    exp = experiment(tmp_path, 2_500, households=20_000)     # 16 chunks: plenty left after the kill
    me = psutil.Process()
    killed = []

    def kill_a_worker(done: int, _persons: int) -> None:
        if done == 2 and not killed:
            workers = [p for p in me.children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline()) and p.children() == []]
            assert workers, "no worker processes found"
            workers[0].send_signal(signal.SIGKILL)
            killed.append(workers[0].pid)
    ds = microsim.run(exp, write=False, scheduler="local-cluster:2", progress=kill_a_worker)
    assert killed and not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"
    assert same(ds, reference)
