"""Checkpoints: the merged accumulators of finished chunks, kept beside the output.

Takes: the output folder, the run's fingerprint and merged totals. Gives: a
`Checkpoint` that is saved atomically (temporary file, then rename) after
batches of chunks, and loaded by `--resume` so that only missing chunks are
computed. Because accumulators are exact integer sums, a resumed run ends
with results identical to an uninterrupted one.

Two kinds of file in `OUTPUT/.checkpoint/`, so that a checkpoint grows by
appending and never rewrites what is finished:

- `replicate-R.npz`, written once when every chunk of replicate R is done:
  its household and person sums (scenario axis first), its paint-drip sample
  where it has one, its persons, the run's
  fingerprint and a digest of all of them. The run then keeps only that
  replicate's indicators, so memory does not grow with replicates x scenarios.
- `state.npz`, rewritten at every save: the fingerprint, the replicates that
  are complete (in their own files), the keys of finished tasks of the
  replicates still open and their sums, the digests of the inputs, and a
  digest of all of them. It holds only the open replicates (one or two).

Any file damaged on disk, even in a way that still parses, is refused on
resume instead of being added into the results. The fingerprint hashes
everything that determines the numbers (the contents of every input file, the
settings of the experiment, the indicator layout and the package version): a
checkpoint from a different run is refused, naming the input that changed.
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
    done: set[str] = field(default_factory=set)          # finished tasks of open replicates
    totals: dict[int, Accumulators] = field(default_factory=dict)   # open replicates' sums
    persons: dict[int, int] = field(default_factory=dict)   # every replicate's persons
    complete: set[int] = field(default_factory=set)      # replicates saved in their own file
    counts: dict[int, int] = field(default_factory=dict)   # finished tasks per open replicate
    inputs: dict[str, str] = field(default_factory=dict)   # input file -> digest of its contents

    def add(self, replicate: int, key: str, acc: Accumulators, persons: int) -> None:
        if key in self.done or replicate in self.complete:
            return   # a task retried after a lost worker is counted once
        if replicate in self.totals:
            self.totals[replicate] += acc
            self.persons[replicate] += persons
        else:
            self.totals[replicate] = Accumulators(
                hh=acc.hh.copy(), person=acc.person.copy(),
                sample=None if acc.sample is None else acc.sample.copy())
            self.persons[replicate] = persons
        self.done.add(key)
        self.counts[replicate] = self.counts.get(replicate, 0) + 1

    def close(self, replicate: int) -> None:
        """Replicate finished and saved (or reduced): drop its sums and task keys."""
        self.totals.pop(replicate, None)
        self.counts.pop(replicate, None)
        self.done = {k for k in self.done if group_of(k) != replicate}
        self.complete.add(replicate)

    def n_done(self, chunks_per_replicate: int) -> int:
        return len(self.complete) * chunks_per_replicate + len(self.done)


def group_of(key: str) -> int:
    """The sums a task key adds into: its replicate ("r3-c7"), or for a projection its
    (replicate, year) slot ("s4-r1-y1-c7", engine/plan.py); -1 for a key of neither form."""
    head = key.split("-", 1)[0]
    return int(head[1:]) if head[:1] in ("r", "s") and head[1:].isdigit() and "-" in key else -1


def fingerprint(*parts: object) -> str:
    """A stable hash of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def folder(output: Path) -> Path:
    return output / FOLDER


def exists(output: Path) -> bool:
    return (folder(output) / "state.npz").exists()


def replicate_file(output: Path, replicate: int) -> Path:
    return folder(output) / f"replicate-{replicate}.npz"


def save(output: Path, cp: Checkpoint) -> None:
    """Write the state atomically: a crash mid-write leaves the previous one intact."""
    where = folder(output)
    try:
        _save(where, cp)
    except OSError as exc:
        _clean_partial(where)
        raise RunError(f"cannot save the checkpoint in {where}: {exc.strerror or exc}") from None


def save_replicate(output: Path, cp: Checkpoint, replicate: int) -> None:
    """Write a finished replicate's sums to their own file, once (atomically)."""
    where = folder(output)
    acc = cp.totals[replicate]
    arrays = {"fingerprint": np.array(cp.fingerprint), "replicate": np.array(replicate),
              "hh": np.ascontiguousarray(acc.hh), "person": np.ascontiguousarray(acc.person),
              "persons": np.array(cp.persons[replicate], dtype=np.int64)}
    if acc.sample is not None:
        arrays["sample"] = np.ascontiguousarray(acc.sample)
    arrays["digest"] = np.array(digest(arrays))
    try:
        where.mkdir(parents=True, exist_ok=True)
        _write_npz(where, f"replicate-{replicate}.npz", arrays)
    except OSError as exc:
        _clean_partial(where)
        raise RunError(f"cannot save the checkpoint in {where}: {exc.strerror or exc}") from None


def _clean_partial(where: Path) -> None:
    for tmp in where.glob(".*.npz.partial-*") if where.exists() else ():
        tmp.unlink(missing_ok=True)


def _write_npz(where: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays to a new temporary file (created exclusively, never through a link that
    was planted there), flush it, and rename it into place."""
    tmp = where / f".{name}.partial-{os.getpid()}"
    tmp.unlink(missing_ok=True)          # our own leftover (same process id), never followed
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, where / name)


def _save(where: Path, cp: Checkpoint) -> None:
    where.mkdir(parents=True, exist_ok=True)
    arrays = {"fingerprint": np.array(cp.fingerprint), "done": np.array(sorted(cp.done), dtype=str),
              "replicates": np.array(sorted(cp.totals), dtype=np.int64),
              "complete": np.array(sorted(cp.complete), dtype=np.int64),
              "inputs": np.array(json.dumps(cp.inputs, sort_keys=True, ensure_ascii=False))}
    for r, acc in cp.totals.items():
        arrays[f"hh_{r}"] = np.ascontiguousarray(acc.hh)
        arrays[f"person_{r}"] = np.ascontiguousarray(acc.person)
        arrays[f"persons_{r}"] = np.array(cp.persons[r], dtype=np.int64)
        if acc.sample is not None:
            arrays[f"sample_{r}"] = np.ascontiguousarray(acc.sample)
    arrays["digest"] = np.array(digest(arrays))
    _write_npz(where, "state.npz", arrays)


def digest(arrays: dict[str, np.ndarray]) -> str:
    """A hash of every array of a checkpoint (name, type, shape and bytes), stored with them:
    a file damaged in a way that still parses (other sums, other finished chunks) is refused."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(k for k in arrays if k != "digest"):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes() if a.dtype.kind in "OU" else memoryview(a).cast("B"))
    return h.hexdigest()


def changed_input(saved: dict[str, str], current: dict[str, str]) -> str:
    """Which input differs between a checkpoint and this run, in words ('' if none does)."""
    for path, value in current.items():
        if path not in saved:
            return f"{path} was not an input of the interrupted run"
        if saved[path] != value:
            return f"the contents of {path} changed since the checkpoint was saved"
    gone = sorted(set(saved) - set(current))
    return f"{gone[0]} was an input of the interrupted run and is not one now" if gone else ""


def load(output: Path, expected: str, shapes: tuple[tuple, tuple] | None = None,
         keys: set[str] | None = None, inputs: dict[str, str] | None = None,
         replicates: int | None = None) -> Checkpoint:
    """The checkpoint of this run (`expected` fingerprint); `shapes` (household and person
    sums), `keys` (the run's task keys) and `replicates`, when given, are checked too, so that
    a damaged file that still parses is refused rather than added into the results. The sums
    of complete replicates stay in their files (`load_replicate`)."""
    where = folder(output)
    try:
        with np.load(where / "state.npz") as data:
            found = str(data["fingerprint"])
            if found != expected:
                saved = json.loads(str(data["inputs"])) if "inputs" in data.files else {}
                what = changed_input(saved, inputs or {}) or \
                    "the experiment's settings, the indicators or the version changed"
                raise RunError(f"the checkpoint in {where} belongs to a different run ({what}); "
                               "start again with --force")
            if str(data["digest"]) != digest({k: data[k] for k in data.files}):
                raise RunError(f"the checkpoint in {where} is damaged (its contents do not match "
                               "the digest saved with them); start again with --force")
            cp = Checkpoint(expected, set(str(k) for k in data["done"]))
            cp.inputs = dict(inputs or {})
            cp.complete = {int(x) for x in data["complete"]} if "complete" in data.files else set()
            for r in (int(x) for x in data["replicates"]):
                cp.totals[r] = Accumulators(
                    hh=data[f"hh_{r}"], person=data[f"person_{r}"],
                    sample=data[f"sample_{r}"] if f"sample_{r}" in data.files else None)
                cp.persons[r] = int(data[f"persons_{r}"])
            for key in cp.done:
                r = group_of(key)
                cp.counts[r] = cp.counts.get(r, 0) + 1
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        raise RunError(f"the checkpoint in {where} cannot be read ({exc}); start again with --force") from None
    problem = _damage(cp, shapes, keys, replicates)
    if not problem:
        missing = [r for r in sorted(cp.complete) if not replicate_file(output, r).is_file()]
        problem = f"replicate {missing[0]} is listed as complete but its file is missing" \
            if missing else ""
    if problem:
        raise RunError(f"the checkpoint in {where} is damaged ({problem}); start again with --force")
    return cp


def load_replicate(output: Path, cp: Checkpoint, replicate: int,
                   shapes: tuple[tuple, tuple] | None = None) -> Accumulators:
    """The sums of a complete replicate, checked (fingerprint, digest, type and shape); its
    persons go into `cp.persons`."""
    where = folder(output)
    path = replicate_file(output, replicate)
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise RunError(f"the checkpoint in {where} cannot be read ({path.name}: {exc}); start "
                       "again with --force") from None
    try:
        if str(arrays["fingerprint"]) != cp.fingerprint or int(arrays["replicate"]) != replicate:
            raise RunError(f"the checkpoint in {where} is damaged ({path.name} belongs to another "
                           "run or replicate); start again with --force")
        if str(arrays["digest"]) != digest(arrays):
            raise RunError(f"the checkpoint in {where} is damaged ({path.name}: its contents do "
                           "not match the digest saved with them); start again with --force")
        acc = Accumulators(hh=arrays["hh"], person=arrays["person"],
                           sample=arrays.get("sample"))
        persons = int(arrays["persons"])
    except (KeyError, ValueError, TypeError) as exc:
        raise RunError(f"the checkpoint in {where} cannot be read ({path.name}: {exc}); start "
                       "again with --force") from None
    problem = _damage(Checkpoint(cp.fingerprint, totals={replicate: acc},
                                 persons={replicate: persons}), shapes, None, None)
    if problem:
        raise RunError(f"the checkpoint in {where} is damaged ({problem}); start again with --force")
    cp.persons[replicate] = persons
    return acc


def _damage(cp: Checkpoint, shapes: tuple[tuple, tuple] | None, keys: set[str] | None,
            replicates: int | None) -> str:
    if keys is not None and not cp.done <= keys:
        return f"it lists chunks this run does not have: {sorted(cp.done - keys)[:3]}"
    if keys is not None and cp.done and not cp.totals:
        return "it lists finished chunks but holds no sums"
    if replicates is not None and any(r < 0 or r >= replicates for r in cp.complete):
        return f"it lists replicates this run does not have: {sorted(cp.complete)[:3]}"
    if cp.complete & set(cp.totals):
        return "a replicate is listed both as complete and as open"
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
