"""Faults: disk full, read-only output, Ctrl-C while writing, a worker killed mid-run.

Never a results file that looks complete but is not; a resumed run finishes correctly."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import psutil
import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
import microsim.engine.results as results_module
from microsim.cli import app
from microsim.engine import checkpoint
from microsim.engine.lock import LOCK_FILE
from microsim.errors import Interrupted, RunError
from tests.engine.test_run import experiment, same


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return microsim.run(experiment(tmp_path_factory.mktemp("ref"), 10_000, households=20_000), write=False)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()
                  if p.name.startswith(".") and p.name not in (".checkpoint", LOCK_FILE))


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
    real_replace, real_link = os.replace, os.link

    def interrupted(real):
        def publish(src, dst):
            if str(dst).endswith("results.nc"):
                raise KeyboardInterrupt
            return real(src, dst)
        return publish
    # The results are published by a hard link (a new run) or a rename (--force).
    monkeypatch.setattr(results_module.os, "replace", interrupted(real_replace))
    monkeypatch.setattr(results_module.os, "link", interrupted(real_link))
    for force in (False, True):
        with pytest.raises(Interrupted):
            microsim.run(exp, force=force)
        assert not (out / "results.nc").exists() and leftovers(out) == []


def mounted_tmpfs(folder: Path, options: str):
    """A real tmpfs mounted at `folder` with mount `options` (a generator for fixtures), or a
    skip where mounting is not permitted."""
    folder.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True)
    except OSError:
        pytest.skip("needs the mount command (Debian: apt-get install mount) and the right to "
                    "mount a tmpfs; the monkeypatched tests cover the logic")
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here; the monkeypatched tests cover the logic")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 64 KiB file system (tmpfs), smaller than a results file, where mounting is permitted."""
    yield from mounted_tmpfs(tmp_path / "disk", "size=64k")


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
    assert killed, "no worker was killed"
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"
    assert same(ds, reference)


# --- checkpoints: a full disk or Ctrl-C while saving one, a damaged one ---------------------

def fail_on_call(n: int, error: BaseException, real, once: bool = False):
    """A stand-in for `real` that raises `error` from its n-th call on (1-based; only on the
    n-th with `once`) and works before."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) == n or (len(calls) > n and not once):
            raise error
        return real(*args, **kwargs)
    return fake


def test_a_full_disk_at_a_checkpoint_mid_run_keeps_the_last_one_and_resume_finishes(
        tmp_path, monkeypatch, reference):
    exp = experiment(tmp_path, 10_000, households=20_000)      # 2 chunks x 2 replicates
    out = tmp_path / "out"
    monkeypatch.setattr(checkpoint, "_save", fail_on_call(
        3, OSError(errno.ENOSPC, "No space left on device"), checkpoint._save))
    with pytest.raises(RunError, match=r"cannot save the checkpoint in .*\.checkpoint: No space "
                                       r"left on device; 2 finished chunks are saved in .*: fix "
                                       r"the problem and continue with --resume"):
        microsim.run(exp, checkpoint_seconds=0.0, scheduler="synchronous")
    assert checkpoint.exists(out) and not (out / "results.nc").exists()
    assert sorted(p.name for p in (out / ".checkpoint").iterdir()) == ["replicate-0.npz",
                                                                  "state.npz"]  # no partial file
    monkeypatch.undo()
    seen = []
    ds = microsim.run(exp, resume=True, progress=lambda done, _n: seen.append(done))
    assert seen == [3, 4]           # the two saved chunks are not computed again
    assert same(ds, reference)


def test_a_full_disk_at_the_first_checkpoint_leaves_nothing_behind(tmp_path, monkeypatch):
    exp = experiment(tmp_path, 10_000, households=20_000)
    monkeypatch.setattr(checkpoint, "_save", fail_on_call(
        1, OSError(errno.ENOSPC, "No space left on device"), checkpoint._save))
    with pytest.raises(RunError, match=r"No space left on device$"):
        microsim.run(exp, checkpoint_seconds=0.0, scheduler="synchronous")
    assert not (tmp_path / "out").exists()     # the run created the folder, and removed it


def test_ctrl_c_while_a_checkpoint_is_renamed_into_place_keeps_a_whole_checkpoint(
        tmp_path, monkeypatch, reference):
    exp = experiment(tmp_path, 10_000, households=20_000)
    out = tmp_path / "out"
    # Renames: the state after chunk 1, replicate 0's own file, then the state after chunk 2.
    monkeypatch.setattr(checkpoint.os, "replace", fail_on_call(3, KeyboardInterrupt(),
                                                               os.replace, once=True))
    with pytest.raises(Interrupted, match=r"interrupted after 2 of 4 chunks; 2 finished chunks "
                                          r"are saved in .*: continue with --resume"):
        microsim.run(exp, checkpoint_seconds=0.0, scheduler="synchronous")
    monkeypatch.undo()
    # The interrupted rename left its temporary file; the save on the way out replaced it.
    assert sorted(p.name for p in (out / ".checkpoint").iterdir()) == ["replicate-0.npz",
                                                                      "state.npz"]
    assert same(microsim.run(exp, resume=True), reference)


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_bytes(b"not a zip file"), "cannot be read"),
    (lambda path: path.write_bytes(path.read_bytes()[:300]), "cannot be read"),
    (lambda path: path.write_bytes(b""), "cannot be read"),
    (lambda path: _rewrite(path, lambda a: {**a, "hh_0": a["hh_0"].astype(np.float64)}),
     r"is damaged \(replicate 0: household sums of type float64, not int64\)"),
    (lambda path: _rewrite(path, lambda a: {**a, "person_0": a["person_0"][:, :1]}),
     r"is damaged \(replicate 0: person sums of shape"),
    (lambda path: _rewrite(path, lambda a: {**a, "done": np.array(["r0-c0", "r9-c9"])}),
     r"is damaged \(it lists chunks this run does not have: \['r9-c9'\]\)"),
    (lambda path: _rewrite(path, lambda a: {k: v for k, v in a.items() if k != "hh_0"}),
     "cannot be read"),
    (lambda path: _rewrite(path, lambda a: {**a, "done": np.array(["r0-c0", "r0-c1"])},
                           keep_digest=True),
     r"is damaged \(its contents do not match the digest saved with them\)"),
], ids=["garbage", "truncated", "empty", "float sums", "wrong shape", "unknown chunk",
        "missing sums", "chunks added"])
def test_a_damaged_checkpoint_is_refused_and_force_starts_again(tmp_path, damage, message):
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    out = tmp_path / "out"
    with pytest.raises(Interrupted):
        microsim.run(exp, progress=stop_after(1), checkpoint_seconds=0.0, scheduler="synchronous")
    damage(out / ".checkpoint" / "state.npz")
    with pytest.raises(RunError, match=rf"the checkpoint in .*\.checkpoint {message}.*start again "
                                       r"with --force"):
        microsim.run(exp, resume=True)
    result = CliRunner().invoke(app, ["run", str(exp), "--resume", "--quiet", "--no-report"])
    assert result.exit_code == 3 and "internal error" not in result.output
    ds = microsim.run(exp, force=True)
    assert "che10" in ds and not checkpoint.exists(out)


def _rewrite(path: Path, change, keep_digest: bool = False) -> None:
    """Change a checkpoint's arrays and write it back, with a digest that matches the new
    contents (a file written wrong) or, with keep_digest, the old one (a file damaged later)."""
    with np.load(path) as data:
        arrays = change({k: data[k] for k in data.files})
    if not keep_digest:
        arrays["digest"] = np.array(checkpoint.digest(arrays))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def stop_after(n: int):
    def progress(done: int, _persons: int) -> None:
        if done >= n:
            raise KeyboardInterrupt
    return progress


# --- real disks: full during a checkpoint, read-only -----------------------------------------

def test_a_real_full_disk_during_a_checkpoint_leaves_the_disk_empty(tmp_path, tiny_disk):
    exp = experiment(tmp_path, 10_000, households=20_000, output=str(tiny_disk / "out"))
    with pytest.raises(RunError, match="No space left on device"):
        microsim.run(exp, checkpoint_seconds=0.0, scheduler="synchronous")
    assert list(tiny_disk.iterdir()) == []


@pytest.fixture
def read_only_disk(tmp_path):
    """A real read-only file system (tmpfs mounted ro), where mounting is permitted."""
    yield from mounted_tmpfs(tmp_path / "ro", "ro,size=1m")


def test_a_real_read_only_disk_gives_a_clean_error(tmp_path, read_only_disk):
    exp = experiment(tmp_path, 10_000, households=20_000, output=str(read_only_disk / "out"))
    result = CliRunner().invoke(app, ["run", str(exp), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "Read-only file system" in result.output and "Traceback" not in result.output
    assert list(read_only_disk.iterdir()) == []


# --- the report: a failure after the results are written --------------------------------------

def test_a_report_that_cannot_be_written_leaves_whole_results_and_no_partial_file(
        tmp_path, monkeypatch, reference):
    import types

    import microsim.report.build as build
    exp = experiment(tmp_path, 10_000, households=20_000)
    out = tmp_path / "out"

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")
    every = {k: getattr(os, k) for k in dir(os) if not k.startswith("_")}
    monkeypatch.setattr(build, "os", types.SimpleNamespace(**{**every, "replace": full}))
    result = CliRunner().invoke(app, ["run", str(exp), "--quiet"])
    assert result.exit_code == 5, result.output
    assert "cannot write" in result.output and "No space left on device" in result.output
    assert f"Write it again with: microsim report {out} --lang zh" in " ".join(result.output.split())
    # The results were written before the report, whole; the report left nothing behind.
    assert same(xr.open_dataset(out / "results.nc"), reference)
    assert [p for p in out.rglob("*") if "partial" in p.name] == []
    assert not list(out.glob("report.*"))
    # `microsim report` writes it once the disk has room.
    monkeypatch.undo()
    again = CliRunner().invoke(app, ["report", str(out), "--format", "md"])
    assert again.exit_code == 0 and (out / "report.zh.md").exists()


@pytest.mark.parametrize("failure", ["bad input", "a bug"])
def test_a_report_that_fails_after_the_results_keeps_them_and_never_exits_as_bad_input(
        tmp_path, monkeypatch, failure):
    """A report's failure (an input error inside it, or a bug) is exit 5, not 2 or 70: the
    results stay, and the message gives the exact command that writes the report again."""
    import microsim.report.build as build
    from microsim.errors import InputError
    exp = experiment(tmp_path, 10_000, households=20_000, output="out [v2]")
    out = tmp_path / "out [v2]"

    def broken(ds, lang):
        if failure == "bad input":
            raise InputError(None, "Chinese figures need a CJK font")
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(build, "build_content", broken)
    result = CliRunner().invoke(app, ["run", str(exp), "--quiet", "--lang", "en"])
    assert result.exit_code == 5, result.output
    text = " ".join(result.output.split())
    assert f"results are whole in {out / 'results.nc'}" in text
    assert f"Write it again with: microsim report '{out}' --lang en" in text
    assert xr.open_dataset(out / "results.nc").sizes["replicate"] >= 1
