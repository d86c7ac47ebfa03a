"""Checkpoint fuzzer: a damaged checkpoint through `microsim run --resume`.

The base input is the checkpoint of a small run interrupted after one of its four chunks, and
the results of the same run uninterrupted. Each attempt damages `state.npz` (bytes flipped,
cut or replaced; an array retyped, reshaped, dropped or replaced by another; the list of
finished chunks changed) and resumes. The verdict: refused if the run stops with a
`MicrosimError` naming the checkpoint; accepted if it finishes with results identical to the
uninterrupted run's (a damage numpy's checks cannot see, such as another valid checkpoint,
must not change a number); crashed otherwise, including a resumed run that finishes with
different results.
"""

from __future__ import annotations

import functools
import random
import shutil
from pathlib import Path

import numpy as np

from tests.fuzz.fuzzers import ROOT, Target, judge, mutate_bytes

BASE = "checkpoint_base"


def _experiment(folder: Path) -> Path:
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("households: 100000", "households: 400")
    text = text.replace("chunk_size: 25000", "chunk_size: 200")
    text = text.replace(f"output: {ROOT}/results/quickstart", f"output: {folder / 'run'}")
    path = folder / "checkpoint_experiment.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def prepare(folder: Path) -> None:
    """The interrupted run's output folder (kept as BASE) and the uninterrupted results."""
    import microsim
    from microsim.errors import Interrupted
    if (folder / BASE).exists():
        return
    exp = _experiment(folder)
    microsim.run(exp, write=False, scheduler="synchronous").to_netcdf(folder / "reference.nc")

    def stop(done: int, _persons: int) -> None:
        if done >= 1:
            raise KeyboardInterrupt
    try:
        microsim.run(exp, progress=stop, checkpoint_seconds=0.0, scheduler="synchronous")
    except Interrupted:
        pass
    shutil.move(folder / "run", folder / BASE)


@functools.lru_cache(maxsize=2)
def _reference(path: str):
    import xarray as xr
    with xr.open_dataset(path) as ds:
        return ds.load()


def damage(path: Path, rng: random.Random) -> str:
    if rng.random() < 0.4:
        path.write_bytes(mutate_bytes(path.read_bytes(), rng))
        return "bytes damaged"
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    name = rng.choice(sorted(arrays))
    kind = rng.randrange(6)
    if kind == 0:
        del arrays[name]
    elif kind == 1:
        try:
            arrays[name] = arrays[name].astype(rng.choice([np.float64, np.int32, np.uint8, str]))
        except ValueError:
            arrays[name] = arrays[name].astype(str)
    elif kind == 2:
        arrays[name] = arrays[name].reshape(-1)[: max(1, arrays[name].size // 2)]
    elif kind == 3:
        arrays[name] = arrays[rng.choice(sorted(arrays))]
    elif kind == 4:
        arrays["done"] = np.array(rng.choice([[], ["r0-c0", "r0-c1"], ["r7-c0"], ["x"]]),
                                  dtype=str)
    else:
        arrays[name] = np.array(rng.choice([-1, 2**40, 0]))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return f"{name}: change {kind}"


def attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    import microsim
    work = folder / "run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(folder / BASE, work)
    what = damage(work / ".checkpoint" / "state.npz", rng)
    got = {}

    def resume():
        got["ds"] = microsim.run(_experiment(folder), resume=True, scheduler="synchronous")
    verdict, error = judge(resume, (".checkpoint",))
    if verdict == "accepted":
        ref = _reference(str(folder / "reference.nc"))
        ds = got["ds"]
        if not all(np.array_equal(ds[v].values, ref[v].values, equal_nan=True)
                   for v in ref.data_vars):
            return "crashed", what, "a damaged checkpoint was accepted and changed the results"
    return verdict, what, error


def checkpoint_targets() -> list[Target]:
    return [Target("checkpoint (resume)", "microsim.run(..., resume=True)", attempt, prepare,
                   share=0.5)]
