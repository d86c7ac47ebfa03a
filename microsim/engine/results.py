"""Results: merged accumulators -> an xarray Dataset with provenance, written atomically.

Takes: the experiment, the run context and merged `Accumulators` per replicate
(scenario axis first). Gives: an `xarray.Dataset` with dims scenario,
replicate, residence, quintile, status (each group dim with an `all` margin),
one variable per indicator with `units`, `long_name`, `long_name_zh`,
`definition` and `source` attrs, and provenance attrs; and `write_results`,
which writes NetCDF (or Zarr) under a temporary name and renames it into
place, so a results file that exists is always complete.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from microsim import codes
from microsim.engine.chunk import Context
from microsim.errors import RunError
from microsim.experiment import Experiment
from microsim.metrics.accumulate import Accumulators, check_range
from microsim.metrics.indicators import Catalogue, compute

RESIDENCE_COORD = list(codes.RESIDENCE) + ["all"]
QUINTILE_COORD = [f"Q{k}" for k in range(1, 6)] + ["all"]
STATUS_COORD = list(codes.STATUS) + ["all"]
DIMS = ("scenario", "replicate", "residence", "quintile", "status")
RESULTS_NC = "results.nc"
RESULTS_ZARR = "results.zarr"


def package_version() -> str:
    try:
        from importlib.metadata import version
        return version("microsim")
    except Exception:  # pragma: no cover - only when run from a source tree without install
        return "0+unknown"


def git_revision() -> str:
    """The source tree's git revision, or 'unknown' outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_dataset(exp: Experiment, ctx: Context, catalogue: Catalogue,
                  merged: dict[int, Accumulators], persons: dict[int, int]) -> xr.Dataset:
    replicates = sorted(merged)
    n_s = len(exp.scenarios)
    values = {ind.name: np.full((n_s, len(replicates), 3, 6, 6), np.nan)
              for ind in catalogue.indicators}
    for ri, r in enumerate(replicates):
        check_range(merged[r])
        for s in range(n_s):
            acc = Accumulators(hh=merged[r].hh[s], person=merged[r].person[s])
            for name, arr in compute(catalogue, ctx.layout, acc).items():
                values[name][s, ri] = arr
    coords = {
        "scenario": [s.name for s in exp.scenarios],
        "scenario_label": ("scenario", [s.label for s in exp.scenarios]),
        "scenario_label_zh": ("scenario", [s.label_zh for s in exp.scenarios]),
        "replicate": replicates,
        "residence": RESIDENCE_COORD,
        "quintile": QUINTILE_COORD,
        "status": STATUS_COORD,
        "status_zh": ("status", [codes.STATUS_ZH[s] for s in codes.STATUS] + ["合计"]),
    }
    data_vars = {}
    for ind in catalogue.indicators:
        attrs = {"units": ind.units, "long_name": ind.long_name, "long_name_zh": ind.long_name_zh,
                 "definition": ind.definition, "source": ind.source}
        empty = np.isnan(values[ind.name])
        if empty.any():
            attrs["nan_reason"] = "NaN marks a group whose denominator is zero (no persons, " \
                                  "income or cost in that group)"
        data_vars[ind.name] = (DIMS, values[ind.name], attrs)
    ds = xr.Dataset(data_vars, coords=coords)
    keep = {dim: (slice(None) if dim in exp.file.groups else ["all"])
            for dim in ("residence", "quintile", "status")}
    ds = ds.sel(**keep)
    ds.attrs.update(provenance(exp, ctx, persons))
    return ds


def provenance(exp: Experiment, ctx: Context, persons: dict[int, int]) -> dict:
    policies = {s.name: {"policy": s.policy.name, "policy_zh": s.policy.data.name_zh,
                         "files": [str(f) for f in s.policy.files],
                         "reforms": list(s.policy.reform_names),
                         "sources": policy_sources(s.policy)} for s in exp.scenarios}
    return {
        "title": f"microsim results: {exp.name}",
        "experiment_name": exp.name,
        "description": exp.file.description,
        "microsim_version": package_version(),
        "git_revision": git_revision(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": str(exp.file.seed),
        "replicates": exp.file.replicates,
        "households": exp.households,
        "persons_per_replicate": int(np.mean(list(persons.values()))) if persons else 0,
        "population": exp.population.name if exp.population else str(exp.microdata),
        "population_file": str(exp.population.path) if exp.population else str(exp.microdata),
        "population_households_represented": int(ctx.spec.data.households),
        "policies": json.dumps(policies, ensure_ascii=False),
        "poverty_lines": json.dumps({n: list(v) for n, v in exp.poverty_lines()}),
        "che_thresholds": json.dumps(list(ctx.layout.che_thresholds)),
        "quintiles": "fifths of persons ranked by household per-capita disposable income, "
                     "within each replicate",
        "experiment": yaml.safe_dump(exp.resolved(), allow_unicode=True, sort_keys=False),
        "Conventions": "CF-1.8",
    }


def policy_sources(policy) -> list[dict]:
    """Every cited value of a policy (after overlays): key, value, source, note and file."""
    from microsim.yamltree import dotted, get_path
    rows = []
    for key, src in sorted(policy.tree.sources.items()):
        try:
            value = get_path(policy.tree.values, key)
        except (KeyError, IndexError, TypeError):
            continue
        rows.append({"key": dotted(key), "value": value, "source": src.source,
                     "note": src.note or "", "file": Path(src.file).name})
    return rows


def results_path(output: Path, fmt: str = "netcdf") -> Path:
    return output / (RESULTS_NC if fmt == "netcdf" else RESULTS_ZARR)


def _write_file(path: Path, data: bytes) -> None:
    """Write bytes to a new file and flush them to disk (so a rename publishes whole data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_results(ds: xr.Dataset, output: Path, fmt: str = "netcdf") -> Path:
    """Write under a temporary name in the output folder, then rename into place.

    NetCDF is encoded in memory first (results are small: indicators, not microdata) and
    written with plain file I/O, so a full or read-only disk is reported as one clean
    error and never leaves a file that looks complete."""
    final = results_path(output, fmt)
    tmp = output / f".{final.name}.partial-{os.getpid()}"
    try:
        output.mkdir(parents=True, exist_ok=True)
        if fmt == "netcdf":
            buffer = io.BytesIO()
            ds.to_netcdf(buffer, engine="h5netcdf")
            _write_file(tmp, buffer.getvalue())
            os.replace(tmp, final)
        else:
            try:
                import zarr  # noqa: F401
            except ImportError:
                raise RunError("writing Zarr needs the 'zarr' package: pip install 'microsim[zarr]'") from None
            ds.to_zarr(tmp, mode="w")
            if final.exists():
                old = output / f".{final.name}.old-{os.getpid()}"
                os.replace(final, old)
                os.replace(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, final)
    except OSError as exc:
        raise RunError(f"cannot write results to {final}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
    return final
