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


# --- what a resume checks: the contents of every input, not its path ---------------------------

def interrupted_with_copied_inputs(tmp_path):
    """An interrupted run whose experiment points at copies of its reform overlay and of its
    population spec (so the test can edit them in place); its experiment file."""
    root = Path(__file__).resolve().parents[2]
    reform = tmp_path / "reform.yaml"
    original = (root / "policies" / "reforms" / "raise_resident_inpatient_rates.yaml")
    reform.write_text(original.read_text(encoding="utf-8").replace(
        "applies_to: ../china/national_2023.yaml",
        f"applies_to: {root}/policies/china/national_2023.yaml"), encoding="utf-8")
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1)
    text = exp.read_text(encoding="utf-8").replace(
        f"[{root}/policies/reforms/raise_resident_inpatient_rates.yaml]", f"[{reform}]")
    exp.write_text(text, encoding="utf-8")
    with pytest.raises(Interrupted):
        microsim.run(exp, progress=stop_after(1), checkpoint_seconds=0.0, scheduler="synchronous")
    return exp, reform


def test_resume_refuses_an_input_whose_contents_changed_naming_the_file(tmp_path):
    exp, reform = interrupted_with_copied_inputs(tmp_path)
    text = reform.read_text(encoding="utf-8")
    assert "tertiary: {add: 0.05," in text
    reform.write_text(text.replace("tertiary: {add: 0.05,", "tertiary: {add: 0.06,"),
                      encoding="utf-8")                            # same path, another value
    with pytest.raises(RunError, match=rf"belongs to a different run \(the contents of {reform} "
                                       r"changed since the checkpoint was saved\); start again "
                                       r"with --force"):
        microsim.run(exp, resume=True)


def test_editing_only_a_description_does_not_stop_a_resume(tmp_path):
    exp, reform = interrupted_with_copied_inputs(tmp_path)
    text = exp.read_text(encoding="utf-8")
    exp.write_text(text.replace("description: >-\n", "description: >-\n  Edited.\n", 1),
                   encoding="utf-8")
    reform_text = reform.read_text(encoding="utf-8")
    assert "\ndescription: >-\n" in reform_text
    reform.write_text(reform_text.replace("\ndescription: >-\n", "\ndescription: >-\n  Edited.\n"),
                      encoding="utf-8")
    seen = []
    ds = microsim.run(exp, resume=True, progress=lambda done, _n: seen.append(done))
    assert seen == [2] and ds.attrs["description"].startswith("Edited.")
    fresh = microsim.run(exp, write=False)
    assert same(ds, fresh)


def test_resume_refuses_microdata_whose_bytes_changed(tmp_path):
    root = Path(__file__).resolve().parents[2]
    from microsim.cli import app
    from typer.testing import CliRunner
    md = tmp_path / "md"
    done = CliRunner().invoke(app, ["population", "synth", str(root / "populations" /
                                                                 "china_2023.yaml"),
                                    "--households", "4000", "--out", str(md)])
    assert done.exit_code == 0, done.output
    exp = experiment(tmp_path, 2_000, households=4_000, replicates=1)
    text = exp.read_text(encoding="utf-8").replace("  households: 4000\n", f"  microdata: {md}\n")
    exp.write_text(text, encoding="utf-8")
    with pytest.raises(Interrupted):
        microsim.run(exp, progress=stop_after(1), checkpoint_seconds=0.0, scheduler="synchronous")
    import pyarrow.parquet as pq
    table = pq.read_table(md / "persons.parquet")
    pq.write_table(table, md / "persons.parquet", compression="gzip")   # same rows, other bytes
    with pytest.raises(RunError, match=rf"the contents of {md / 'persons.parquet'} changed"):
        microsim.run(exp, resume=True)


# --- a checkpoint is appended: a finished replicate is written once, never again --------------

def test_a_checkpoint_grows_by_appending_and_holds_at_most_two_open_replicates(tmp_path,
                                                                               monkeypatch):
    exp = experiment(tmp_path, 1_000, households=2_000, replicates=8)   # 2 chunks a replicate
    writes = []
    real = checkpoint._write_npz

    def recording(where, name, arrays):
        writes.append((name, sorted(k for k in arrays if k.startswith("hh_"))))
        return real(where, name, arrays)
    monkeypatch.setattr(checkpoint, "_write_npz", recording)
    held = []
    real_add = checkpoint.Checkpoint.add

    def add(self, *args):
        real_add(self, *args)
        held.append(len(self.totals))
    monkeypatch.setattr(checkpoint.Checkpoint, "add", add)
    microsim.run(exp, checkpoint_seconds=0.0)
    replicate_files = [name for name, _ in writes if name.startswith("replicate-")]
    assert sorted(replicate_files) == sorted(f"replicate-{r}.npz" for r in range(8))  # once each
    assert max(len(open_) for name, open_ in writes if name == "state.npz") <= 2
    assert max(held) <= 2       # sums of at most two replicates in memory at once


def test_the_chinese_description_is_presentation_and_leaves_the_inputs_digest_alone(tmp_path):
    # description_zh says in Chinese what description says: editing it changes no number, so
    # the experiment's digest (what a --resume compares) stays; editing a setting changes it.
    from microsim.engine.run import input_digests
    exp = experiment(tmp_path, 2_000, households=4_000, replicates=1)
    text = exp.read_text(encoding="utf-8")
    assert "\ndescription_zh: " in text
    before = input_digests(microsim.load_experiment(exp))[str(exp)]
    exp.write_text(text.replace("\ndescription_zh: \"", "\ndescription_zh: \"改写。", 1),
                   encoding="utf-8")
    edited = microsim.load_experiment(exp)
    assert edited.file.description_zh.startswith("改写。")
    assert input_digests(edited)[str(exp)] == before
    exp.write_text(text.replace("seed: 20231", "seed: 20232", 1), encoding="utf-8")
    assert input_digests(microsim.load_experiment(exp))[str(exp)] != before
