"""Checkpoints: the merged accumulators of finished chunks, kept beside the output.

Takes: the output folder, the run's fingerprint and merged totals. Gives: a
`Checkpoint` that is saved atomically (temporary file, then rename) after
batches of chunks, and loaded by `--resume` so that only missing chunks are
computed. Because accumulators are exact integer sums, a resumed run ends
with results identical to an uninterrupted one.

One file, `OUTPUT/.checkpoint/state.npz`, holds the fingerprint, the keys of
finished tasks and, per replicate, the household and person sums (scenario
axis first) and the persons simulated, so that the tasks listed and the sums
saved can never disagree (a single rename replaces it), and a digest of all
of them: a file damaged on disk, even in a way that still parses, is refused
on resume instead of being added into the results. The fingerprint hashes
everything that determines the numbers (the resolved experiment including
chunk size and seed, every input file's resolved values, the indicator
layout and the package version): a checkpoint from a different run is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microsim.errors import RunError
from microsim.metrics.accumulate import Accumulators

FOLDER = ".checkpoint"


@dataclass
class Checkpoint:
    fingerprint: str
    done: set[str] = field(default_factory=set)
    totals: dict[int, Accumulators] = field(default_factory=dict)
    persons: dict[int, int] = field(default_factory=dict)

    def add(self, replicate: int, key: str, acc: Accumulators, persons: int) -> None:
        if key in self.done:
            return   # a task retried after a lost worker is counted once
        if replicate in self.totals:
            self.totals[replicate] += acc
            self.persons[replicate] += persons
        else:
            self.totals[replicate] = Accumulators(hh=acc.hh.copy(), person=acc.person.copy())
            self.persons[replicate] = persons
        self.done.add(key)


def fingerprint(*parts: object) -> str:
    """A stable hash of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def folder(output: Path) -> Path:
    return output / FOLDER


def exists(output: Path) -> bool:
    return (folder(output) / "state.npz").exists()


def save(output: Path, cp: Checkpoint) -> None:
    """Write the checkpoint atomically: a crash mid-write leaves the previous one intact."""
    where = folder(output)
    try:
        _save(where, cp)
    except OSError as exc:
        for tmp in where.glob(".state.npz.partial-*") if where.exists() else ():
            tmp.unlink(missing_ok=True)
        raise RunError(f"cannot save the checkpoint in {where}: {exc.strerror or exc}") from None


def _save(where: Path, cp: Checkpoint) -> None:
    where.mkdir(parents=True, exist_ok=True)
    arrays = {"fingerprint": np.array(cp.fingerprint), "done": np.array(sorted(cp.done), dtype=str),
              "replicates": np.array(sorted(cp.totals), dtype=np.int64)}
    for r, acc in cp.totals.items():
        arrays[f"hh_{r}"] = np.ascontiguousarray(acc.hh)
        arrays[f"person_{r}"] = np.ascontiguousarray(acc.person)
        arrays[f"persons_{r}"] = np.array(cp.persons[r], dtype=np.int64)
    arrays["digest"] = np.array(digest(arrays))
    tmp_npz = where / f".state.npz.partial-{os.getpid()}"
    with open(tmp_npz, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp_npz, where / "state.npz")


def digest(arrays: dict[str, np.ndarray]) -> str:
    """A hash of every array of a checkpoint (name, type, shape and bytes), stored with them:
    a file damaged in a way that still parses (other sums, other finished chunks) is refused."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(k for k in arrays if k != "digest"):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes() if a.dtype.kind in "OU" else memoryview(a).cast("B"))
    return h.hexdigest()


def load(output: Path, expected: str, shapes: tuple[tuple, tuple] | None = None,
         keys: set[str] | None = None) -> Checkpoint:
    """The checkpoint of this run (`expected` fingerprint); `shapes` (household and person
    sums) and `keys` (the run's task keys), when given, are checked too, so that a damaged
    file that still parses is refused rather than added into the results."""
    where = folder(output)
    try:
        with np.load(where / "state.npz") as data:
            found = str(data["fingerprint"])
            if found != expected:
                raise RunError(f"the checkpoint in {where} belongs to a different run (experiment, "
                               "inputs, chunk size or version changed); start again with --force")
            if str(data["digest"]) != digest({k: data[k] for k in data.files}):
                raise RunError(f"the checkpoint in {where} is damaged (its contents do not match "
                               "the digest saved with them); start again with --force")
            cp = Checkpoint(expected, set(str(k) for k in data["done"]))
            for r in (int(x) for x in data["replicates"]):
                cp.totals[r] = Accumulators(hh=data[f"hh_{r}"], person=data[f"person_{r}"])
                cp.persons[r] = int(data[f"persons_{r}"])
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        raise RunError(f"the checkpoint in {where} cannot be read ({exc}); start again with --force") from None
    problem = _damage(cp, shapes, keys)
    if problem:
        raise RunError(f"the checkpoint in {where} is damaged ({problem}); start again with --force")
    return cp


def _damage(cp: Checkpoint, shapes: tuple[tuple, tuple] | None, keys: set[str] | None) -> str:
    if keys is not None and not cp.done <= keys:
        return f"it lists chunks this run does not have: {sorted(cp.done - keys)[:3]}"
    if keys is not None and cp.done and not cp.totals:
        return "it lists finished chunks but holds no sums"
    for r, acc in cp.totals.items():
        for name, arr, shape in (("household", acc.hh, shapes[0] if shapes else None),
                                 ("person", acc.person, shapes[1] if shapes else None)):
            if arr.dtype != np.int64:
                return f"replicate {r}: {name} sums of type {arr.dtype}, not int64"
            if shape is not None and arr.shape != tuple(shape):
                return f"replicate {r}: {name} sums of shape {arr.shape}, not {tuple(shape)}"
        if cp.persons[r] < 0:
            return f"replicate {r}: a negative number of persons"
    return ""


def remove(output: Path) -> None:
    shutil.rmtree(folder(output), ignore_errors=True)
