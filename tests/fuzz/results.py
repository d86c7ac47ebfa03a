"""Results fuzzers: damaged results files through `microsim summary`, `compare` and `report`.

The base input is the results of a small run (two scenarios, two replicates).
Each attempt damages a copy of it, as a Dataset (variables or attributes
dropped, a group dimension or the replicate dimension removed, one scenario
or one replicate kept, labels renamed or repeated, values made NaN, infinite
or text, dimensions transposed) or as bytes (truncated, flipped, random, an
empty file, a folder in place of the file, no file at all), and runs one of
the commands on it with options drawn from valid and invalid values.

A command's verdict: exit code 0 is accepted; a non-zero exit code with a
clean one-paragraph message ("error: ..." naming the results, or a usage
error) is refused; "internal error", a traceback or an exception escaping the
command is a crash.
"""

from __future__ import annotations

import functools
import math
import random
import shutil
from pathlib import Path

import numpy as np
import xarray as xr

from tests.fuzz.fuzzers import ROOT, Target, mutate_bytes

BASE = "results_base.nc"
GROUP_DIMS = ("residence", "quintile", "status")


def make_base(folder: Path) -> None:
    """Results of a tiny run of the quickstart experiment, kept for every attempt."""
    if (folder / BASE).exists():
        return
    import microsim
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("households: 100000", "households: 300")
    text = text.replace("chunk_size: 25000", "chunk_size: 150")
    exp = folder / "results_base.yaml"
    exp.write_text(text, encoding="utf-8")
    ds = microsim.run(exp, write=False, scheduler="synchronous")
    ds.to_netcdf(folder / BASE)


@functools.lru_cache(maxsize=4)
def _base(path: str) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
        return ds.load()


def _indicators(ds: xr.Dataset) -> list[str]:
    return [str(v) for v in ds.data_vars]


def damage_dataset(ds: xr.Dataset, rng: random.Random) -> tuple[xr.Dataset, str]:
    kind = rng.randrange(12)
    names = _indicators(ds)
    if kind == 0:
        drop = rng.sample(names, rng.randint(1, len(names)))
        return ds.drop_vars(drop), f"dropped {len(drop)} variables"
    if kind == 1:
        dim = rng.choice(GROUP_DIMS + ("replicate", "scenario"))
        return ds.isel({dim: rng.randrange(ds.sizes[dim])}, drop=True), f"dimension {dim} removed"
    if kind == 2:
        dim = rng.choice(("scenario", "replicate") + GROUP_DIMS)
        if dim in GROUP_DIMS:       # valid: an experiment whose groups leave this one out
            return ds.sel({dim: ["all"]}), f"only 'all' of {dim}"
        return ds.isel({dim: [0]}), f"one {dim} kept"
    if kind == 3:
        dim = rng.choice(GROUP_DIMS + ("scenario",))
        labels = [str(v) for v in ds[dim].values]
        new = rng.choice([[f"x{i}" for i in range(len(labels))], [labels[0]] * len(labels)])
        return ds.assign_coords({dim: new}), f"{dim} labels {new}"
    if kind == 4:
        name = rng.choice(names)
        value = rng.choice([math.nan, math.inf, -math.inf, 1e308, 0.0])
        return ds.assign({name: ds[name] * 0 + value}), f"{name} = {value}"
    if kind == 5:
        name = rng.choice(names)
        return ds.assign({name: ds[name].astype(str)}), f"{name} as text"
    if kind == 6:
        out = ds.copy()
        out.attrs = {}
        for name in rng.sample(names, min(len(names), 20)):
            out[name].attrs = {}
        return out, "attributes dropped"
    if kind == 7:
        return ds.transpose(*reversed(list(ds.dims))), "dimensions transposed"
    if kind == 8:
        out = ds.copy()
        out.attrs.update({k: rng.choice(["", "{not json", "[1]", 1]) for k in
                          rng.sample(list(ds.attrs), min(len(ds.attrs), 5))})
        return out, "attributes damaged"
    if kind == 9:
        name = rng.choice(names)
        return ds.assign({name: ("extra", np.arange(3.0))}), f"{name} on another dimension"
    if kind == 10:
        return ds.rename({rng.choice(GROUP_DIMS + ("replicate",)): "renamed"}), "dimension renamed"
    return xr.Dataset(attrs=ds.attrs), "no variables"


def write_damaged(folder: Path, rng: random.Random) -> str:
    """A damaged results folder at folder/run; returns what was done."""
    run = folder / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    target = run / "results.nc"
    if rng.random() < 0.7:
        ds, what = damage_dataset(_base(str(folder / BASE)), rng)
        try:
            ds.to_netcdf(target)
        except (ValueError, TypeError, RuntimeError, OSError):
            shutil.copy(folder / BASE, target)
            what = "undamaged (the damage could not be written)"
        return what
    kind = rng.randrange(4)
    if kind == 0:
        return "no results file"
    if kind == 1:
        target.mkdir()
        return "a folder named results.nc"
    data = (folder / BASE).read_bytes()
    if kind == 2:
        target.write_bytes(data[: rng.randrange(len(data))])
        return "truncated"
    target.write_bytes(mutate_bytes(data[:4096], rng) + data[4096:])
    return "bytes damaged"


def _options(rng: random.Random, command: str) -> list[str]:
    opts: list[str] = []
    pick = rng.random
    if command in ("summary", "compare"):
        if pick() < 0.3:
            opts += ["-i", rng.choice(["che10", "oop_per_person", "no_such", "sdg2025", ""])]
        if pick() < 0.2:
            opts += ["--family", rng.choice(["oop", "catastrophic", "equity", "nope"])]
        if pick() < 0.15:
            opts += ["--all"]
        for dim, labels in (("--residence", ["rural", "urban", "all", "mars"]),
                            ("--quintile", ["Q1", "Q5", "all", "Q6"]),
                            ("--status", ["dibao", "tekun", "all", "rich"])):
            if pick() < 0.2:
                opts += [dim, rng.choice(labels)]
        if pick() < 0.1:
            opts += ["--level", rng.choice(["0.9", "0.5", "1.5", "x"])]
    if command == "summary" and pick() < 0.3:
        opts += ["--gap"]
    if command == "compare":
        if pick() < 0.3:
            opts += ["--unpaired"]
        if pick() < 0.2:
            opts += ["--baseline", rng.choice(["baseline", "resident_rates_plus5", "nope"])]
    if command == "report":
        opts += ["--format", rng.choice(["md", "md", "html", "pdf"])]
        if pick() < 0.3:
            opts += ["--lang", rng.choice(["en", "zh", "fr"])]
    return opts


def judge_cli(args: list[str], names: tuple[str, ...]) -> tuple[str, str]:
    """Run a command in-process: accepted (exit 0), refused (clean message, non-zero exit,
    naming one of `names` unless it is a usage error) or crashed."""
    from typer.testing import CliRunner
    from microsim.cli import app
    result = CliRunner().invoke(app, args)
    output = result.output
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    if escaped or "Traceback" in output or "internal error" in output:
        cause = f"{type(result.exception).__name__}: {result.exception}" if escaped else \
            output.strip()[-400:]
        return "crashed", f"`microsim {' '.join(args)}`: {cause}"
    if result.exit_code == 0 or (result.exit_code == 1 and ("--check" in args or
                                                            "--strict" in args)):
        return "accepted", ""          # exit 1 with --check/--strict: a target was missed
    if "Usage:" in output:
        return "refused", ""
    if "error:" not in output:
        return "crashed", f"`microsim {' '.join(args)}` exits {result.exit_code} without a " \
                          f"message: {output.strip()[-300:]}"
    options = [a for a in args if a.startswith("--")]
    if names and not any(n in output for n in names) and not any(o in output for o in options):
        return "crashed", f"`microsim {' '.join(args)}`: the message does not name " \
                          f"{names[0]}: {output.strip()[-300:]}"
    return "refused", ""


def results_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    what = write_damaged(folder, rng)
    command = rng.choice(["summary", "compare", "report"])
    run = folder / "run"
    where = rng.choice([run, run / "results.nc"])
    args = [command, str(where)] + _options(rng, command)
    verdict, error = judge_cli(args, (str(run),))
    return verdict, f"{what}; microsim {' '.join(args[:1] + args[2:])}", error


def results_targets() -> list[Target]:
    return [Target("results file (summary, compare, report)",
                   "microsim summary, compare, report", results_attempt, make_base, share=0.5)]
