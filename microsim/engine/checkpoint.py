"""Checkpoints: the merged accumulators of finished chunks, kept beside the output.

Takes: the output folder, the run's fingerprint and merged totals. Gives: a
`Checkpoint` that is saved atomically (temporary file, then rename) after
batches of chunks, and loaded by `--resume` so that only missing chunks are
computed. Because accumulators are exact integer sums, a resumed run ends
with results identical to an uninterrupted one.

One file, `OUTPUT/.checkpoint/state.npz`, holds the fingerprint, the keys of
finished tasks and, per replicate, the household and person sums (scenario
axis first) and the persons simulated, so that the tasks listed and the sums
saved can never disagree (a single rename replaces it). The fingerprint hashes
everything that determines the numbers (the resolved experiment including
chunk size and seed, every input file's resolved values, the indicator
layout and the package version): a checkpoint from a different run is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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
        arrays[f"hh_{r}"] = acc.hh
        arrays[f"person_{r}"] = acc.person
        arrays[f"persons_{r}"] = np.array(cp.persons[r], dtype=np.int64)
    tmp_npz = where / f".state.npz.partial-{os.getpid()}"
    with open(tmp_npz, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp_npz, where / "state.npz")


def load(output: Path, expected: str) -> Checkpoint:
    where = folder(output)
    try:
        with np.load(where / "state.npz") as data:
            found = str(data["fingerprint"])
            if found != expected:
                raise RunError(f"the checkpoint in {where} belongs to a different run (experiment, "
                               "inputs, chunk size or version changed); start again with --force")
            cp = Checkpoint(expected, set(str(k) for k in data["done"]))
            for r in (int(x) for x in data["replicates"]):
                cp.totals[r] = Accumulators(hh=data[f"hh_{r}"], person=data[f"person_{r}"])
                cp.persons[r] = int(data[f"persons_{r}"])
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise RunError(f"the checkpoint in {where} cannot be read ({exc}); start again with --force") from None
    return cp


def remove(output: Path) -> None:
    shutil.rmtree(folder(output), ignore_errors=True)
