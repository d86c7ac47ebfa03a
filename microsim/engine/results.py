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

import dataclasses
import datetime as _dt
import errno
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
from microsim.engine.funds import carry_funds
from microsim.errors import InputError, RunError
from microsim.paths import kind, regular_file
from microsim.experiment import Experiment
from microsim.metrics.accumulate import H_PERSONS, Accumulators, check_range
from microsim.metrics.indicators import (Catalogue, Indicator, compute_all, fund_inputs,
                                         interpolated_share, quintile_weights)
from microsim.metrics.population import PopulationLines

RESIDENCE_COORD = list(codes.RESIDENCE) + ["all"]
QUINTILE_COORD = [f"Q{k}" for k in range(1, 6)] + ["all"]
STATUS_COORD = list(codes.STATUS) + ["all"]
DIMS = ("scenario", "replicate", "residence", "quintile", "status")
DIMS_YEAR = ("scenario", "year", "replicate", "residence", "quintile", "status")
"""The dims of a projection's indicators (experiment `until`)."""
SAMPLE_DIM = "drip_household"
"""The dimension of the paint-drip sample's variables (`drip_*`), which are not indicators."""
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


def check_exact(acc: Accumulators, replicate: int, population: Path | str) -> None:
    """Refuse a replicate whose sums left the exact int64 range, naming its population."""
    try:
        check_range(acc)
    except OverflowError as exc:
        raise RunError(f"replicate {replicate} cannot be summed exactly: {exc} (results are "
                       "int64 sums at 1/1024 yuan, at most about 4.5e15 yuan-weights); check "
                       f"the weights, rates and costs of the population {population}") from None


@dataclasses.dataclass
class ReplicateValues:
    """One replicate's indicators, from its merged sums: the sums (tens of MB a scenario) can
    then be dropped, so a run holds only the replicates still being added up."""

    values: dict[str, np.ndarray]                 # name -> (scenario, residence, quintile, status)
    bounds: dict[str, np.ndarray]
    reasons: dict[str, set[str]]
    interpolated: float
    sample: np.ndarray | None = None              # the paint-drip sample (replicate 0, year 1)


def replicate_values(exp: Experiment, ctx: Context, catalogue: Catalogue, replicate: int,
                     merged: Accumulators) -> ReplicateValues:
    """Every indicator of one replicate from its merged sums (scenario axis first)."""
    n_s = len(exp.scenarios)
    shape = (n_s, 3, 6, 6)
    funds = [fund_inputs(s.policy_in(ctx.year).data) for s in exp.scenarios]
    check_exact(merged, replicate, exp.microdata or (exp.population.path if exp.population else ""))
    persons_by_bin = merged.hh[0, H_PERSONS].sum(axis=(0, 1)).astype(np.float64)
    interpolated = interpolated_share(quintile_weights(persons_by_bin), persons_by_bin)
    values = {ind.name: np.full(shape, np.nan) for ind in catalogue.indicators}
    bounds: dict[str, np.ndarray] = {}
    reasons: dict[str, set[str]] = {}
    for s in range(n_s):
        acc = Accumulators(hh=merged.hh[s], person=merged.person[s])
        got = compute_all(catalogue, ctx.layout, acc, replicate, funds[s])
        for name, arr in got.values.items():
            values[name][s] = arr
        for name, arr in got.bounds.items():
            bounds.setdefault(name, np.full(shape, np.nan))[s] = arr
        for name, why in got.reasons.items():
            reasons.setdefault(name, set()).update(why)
    return ReplicateValues(values, bounds, reasons, float(interpolated), merged.sample)


def build_dataset(exp: Experiment, ctx: Context, catalogue: Catalogue,
                  merged: dict[int, Accumulators], persons: dict[int, int],
                  population_lines: dict[int, PopulationLines] | None = None) -> xr.Dataset:
    """The results Dataset from every replicate's merged sums."""
    reps = {r: replicate_values(exp, ctx, catalogue, r, merged[r]) for r in sorted(merged)}
    return assemble_dataset(exp, ctx, catalogue, reps, persons, population_lines)


def assemble_dataset(exp: Experiment, ctx: Context | tuple[Context, ...], catalogue: Catalogue,
                     reps: dict[int, ReplicateValues], persons: dict[int, int],
                     population_lines: dict[int, PopulationLines] | None = None) -> xr.Dataset:
    """The results Dataset from the indicators of every (replicate, year), keyed by
    `replicate * years + year` (the replicate itself for a one-year run). A projection's
    variables have a `year` dimension after `scenario`; funds are carried from year to year
    (engine/funds.py)."""
    contexts = ctx if isinstance(ctx, tuple) else (ctx,)
    n_years = len(contexts)
    years = [c.year for c in contexts] if n_years > 1 else list(exp.years)[:1]
    replicates = sorted({slot // n_years for slot in reps})
    n_s = len(exp.scenarios)
    shape = (n_s, n_years, len(replicates), 3, 6, 6)
    values = {ind.name: np.full(shape, np.nan) for ind in catalogue.indicators}
    bounds: dict[str, np.ndarray] = {}
    reasons: dict[str, set[str]] = {}
    interpolated = []
    for slot in sorted(reps):
        r, y = divmod(slot, n_years)
        ri = replicates.index(r)
        rep = reps[slot]
        interpolated.append(rep.interpolated)
        for name, arr in rep.values.items():
            values[name][:, y, ri] = arr
        for name, arr in rep.bounds.items():
            bounds.setdefault(name, np.full(shape, np.nan))[:, y, ri] = arr
        for name, why in rep.reasons.items():
            reasons.setdefault(name, set()).update(why)
    carry_funds(values)
    dims = DIMS_YEAR if exp.projection else DIMS
    if not exp.projection:
        values = {k: v[:, 0] for k, v in values.items()}
        bounds = {k: v[:, 0] for k, v in bounds.items()}
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
    if exp.projection:
        coords["year"] = years
    data_vars = {}
    for ind in catalogue.indicators:
        data_vars[ind.name] = (dims, values[ind.name], indicator_attrs(ind))
    ds = xr.Dataset(data_vars, coords=coords)
    keep = {dim: (slice(None) if dim in exp.file.groups else ["all"])
            for dim in ("residence", "quintile", "status")}
    ds = ds.sel(**keep)
    for ind in catalogue.indicators:
        attrs = ds[ind.name].attrs
        if np.isnan(ds[ind.name].values).any() and ind.name in reasons:
            attrs["nan_reason"] = "NaN where " + "; or where ".join(sorted(reasons[ind.name]))
        if ind.name in bounds:
            b = xr.DataArray(bounds[ind.name], dims=dims, coords={k: coords[k] for k in dims}
                             ).sel(**keep)
            finite = b.values[np.isfinite(b.values)]
            attrs["rank_error_bound"] = float(finite.max()) if finite.size else float("nan")
            top = b.sel(residence="all", status="all", quintile="all").values
            top = top[np.isfinite(top)]
            attrs["rank_error_bound_all"] = float(top.max()) if top.size else float("nan")
    if 0 in reps and reps[0].sample is not None:
        ds = ds.assign(drip_variables(reps[0].sample, [s.name for s in exp.scenarios]))
    ds.attrs.update(provenance(exp, contexts, persons))
    last = n_years - 1          # a projection's population lines: those of its last year
    ds.attrs.update(population_attrs({slot // n_years: line for slot, line in
                                      (population_lines or {}).items()
                                      if slot % n_years == last}, replicates))
    ds.attrs["quintile_interpolated_share"] = float(max(interpolated)) if interpolated else 0.0
    ds.attrs["funds"] = json.dumps({s.name: _no_nan(dataclasses.asdict(
        fund_inputs(s.policy.data))) for s in exp.scenarios})
    return ds


def drip_variables(sample: np.ndarray, scenarios: list[str]) -> dict[str, xr.DataArray]:
    """The paint-drip sample as variables over `drip_household` (the households of the sample
    present in the population, in household order): weight, size, residence code, income and
    each scenario's OOP (yuan a year). They have no replicate dimension, so summaries and
    exports of indicators leave them out."""
    from microsim.metrics.accumulate import SAMPLE_COLUMNS
    rows = sample[sample[:, 0] > 0]
    k = len(SAMPLE_COLUMNS)
    dim = SAMPLE_DIM
    note = ("paint-drip sample: the first households (by index) of replicate 0 in the first "
            "simulated year")
    return {
        "drip_weight": xr.DataArray(rows[:, 1], dims=dim, attrs={"units": "households",
                                                                 "description": note}),
        "drip_size": xr.DataArray(rows[:, 2].astype(np.int16), dims=dim,
                                  attrs={"units": "persons"}),
        "drip_residence": xr.DataArray(rows[:, 4].astype(np.int8), dims=dim, attrs={
            "flag_values": list(range(len(codes.RESIDENCE))),
            "flag_meanings": " ".join(codes.RESIDENCE)}),
        "drip_income": xr.DataArray(rows[:, 3], dims=dim, attrs={
            "units": "yuan per year", "long_name": "household disposable income"}),
        "drip_oop": xr.DataArray(rows[:, k:].T, dims=("scenario", dim), attrs={
            "units": "yuan per year", "long_name": "household out-of-pocket spending"}),
    }


def _no_nan(value):
    """JSON-safe: NaN (not stated) becomes null."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def indicator_attrs(ind: Indicator) -> dict:
    """A variable's attrs: units, names in both languages, definition, source, family."""
    attrs = {"units": ind.units, "long_name": ind.long_name, "long_name_zh": ind.long_name_zh,
             "definition": ind.definition, "definition_zh": ind.definition_zh,
             "source": ind.source, "source_zh": ind.source_zh, "family": ind.family,
             "kind": ind.kind}
    if ind.kind in ("concentration", "kakwani"):
        attrs["ranked_by"] = f"household per-capita {ind.rank.replace('_', ' ')}"
        attrs["rank_error_bound_definition"] = (
            "largest bound on |grid value - exact value| from ranking persons by income bins: "
            "sum over bins of (|y| share) x (persons share); rank_error_bound over every "
            "group, rank_error_bound_all over residence=all, status=all")
    return attrs


def population_attrs(lines: dict[int, PopulationLines], replicates: list[int]) -> dict:
    """The population pass's lines, one value per replicate (JSON lists, NaN as null)."""
    def listed(attr):
        return json.dumps([None if r not in lines or np.isnan(getattr(lines[r], attr))
                           else round(float(getattr(lines[r], attr)), 4) for r in replicates])
    return {
        "median_consumption_per_person": listed("median_consumption"),
        "societal_poverty_line": listed("spl"),
        "subsistence_line": listed("subsistence"),
        "population_lines_units": "yuan per person per year (subsistence: per equivalent adult "
                                  "per year), one value per replicate",
    }


def _policy_record(policy) -> dict:
    return {"policy": policy.name, "policy_zh": policy.data.name_zh, "year": policy.data.year,
            "files": [str(f) for f in policy.files], "reforms": list(policy.reform_names),
            "sources": policy_sources(policy)}


def provenance(exp: Experiment, ctx: Context | tuple[Context, ...],
               persons: dict[int, int]) -> dict:
    contexts = ctx if isinstance(ctx, tuple) else (ctx,)
    ctx = contexts[0]
    policies = {}
    for s in exp.scenarios:
        policies[s.name] = _policy_record(s.policy)
        if s.schedule:      # the policy of each simulated year, by its first year
            policies[s.name]["schedule"] = {
                str(first): _policy_record(p) for first, p in s.schedule}
            policies[s.name]["by_year"] = {str(y): s.policy_in(y).name for y in exp.years}
    uprating = {str(c.year): c.uprating.as_dict() for c in contexts if c.uprating is not None}
    return {
        "title": f"microsim results: {exp.name}",
        "experiment_name": exp.name,
        "description": exp.file.description,
        "description_zh": exp.file.description_zh,
        "microsim_version": package_version(),
        "git_revision": git_revision(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": str(exp.file.seed),
        "replicates": exp.file.replicates,
        "households": exp.households,
        "persons_per_replicate": int(np.mean(list(persons.values()))) if persons else 0,
        "population": exp.population.name if exp.population else str(exp.microdata),
        "population_region_zh": exp.population.data.region.name_zh if exp.population else "",
        "population_file": str(exp.population.path) if exp.population else str(exp.microdata),
        "population_year": exp.population.data.year if exp.population else exp.file.year,
        "year": exp.file.year,
        "years": json.dumps(list(exp.years)),
        "projection": int(exp.projection),
        "uprating": json.dumps(uprating, ensure_ascii=False),
        "index_series": str(exp.index_series.path) if exp.index_series else "",
        "demography": str(exp.demography.path) if exp.demography and exp.projection else "",
        "population_households_represented": int(ctx.spec.data.households),
        "policies": json.dumps(policies, ensure_ascii=False),
        "poverty_lines": json.dumps({n: list(v) for n, v in exp.poverty_lines()}),
        "poverty_line_labels": json.dumps({n: list(v) for n, v in exp.poverty_line_labels().items()},
                                          ensure_ascii=False),
        "che_thresholds": json.dumps(list(ctx.layout.che_thresholds)),
        "che_grid": json.dumps(list(ctx.layout.che_grid)),
        "winners_losers_tolerance_yuan": float(ctx.layout.change_tolerance),
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
                     "note": src.note or "", "note_zh": src.note_zh or "",
                     "file": Path(src.file).name})
    return rows


def netcdf_engine() -> str:
    """netCDF4 (C library, several times faster on files of a few hundred variables) when it
    is installed, else h5netcdf; both read and write the same NetCDF-4 files."""
    try:
        import netCDF4  # noqa: F401
        return "netcdf4"
    except ImportError:
        return "h5netcdf"


def open_results(path: str | Path) -> xr.Dataset:
    """A run's results as an in-memory Dataset: `path` is the output folder (holding
    results.nc or results.zarr) or the results file itself."""
    path = Path(path)
    if path.is_dir() and path.suffix != ".zarr":
        found = [p for p in (path / RESULTS_NC, path / RESULTS_ZARR) if p.exists()]
        if not found:
            raise InputError(path, f"no {RESULTS_NC} or {RESULTS_ZARR} in this folder (run the "
                             "experiment first, or give the results file)")
        path = found[0]
    found = kind(path)
    if found is None:
        raise InputError(path, "results not found")
    if found != "folder":
        regular_file(path, "results file")   # a FIFO or a device is never opened
    try:
        if path.suffix == ".zarr" or path.is_dir():
            with xr.open_zarr(path) as ds:
                ds = ds.load()
        else:
            with xr.open_dataset(path, engine=netcdf_engine()) as ds:
                ds = ds.load()
    except ImportError:
        raise InputError(path, "a folder: reading results in Zarr needs the 'zarr' package "
                         "(pip install 'microsim[zarr]')") from None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise InputError(path, f"not a results file microsim can read: {exc}") from None
    check_results(ds, path)
    return ds


GROUP_LABELS = {"residence": RESIDENCE_COORD, "quintile": QUINTILE_COORD, "status": STATUS_COORD}


def check_results(ds: xr.Dataset, path: str | Path) -> None:
    """Refuse a Dataset that is not microsim results: the dimensions of docs/results.md with
    their labels, and numeric indicators over them."""
    def refuse(message: str, key: str | None = None) -> None:
        raise InputError(path, f"not microsim results: {message}", key=key)

    dims = DIMS_YEAR if "year" in ds.dims else DIMS     # a projection has a year dimension
    for dim in dims:
        if dim not in ds.dims:
            refuse(f"no '{dim}' dimension (results have {', '.join(dims)})", dim)
        if ds.sizes[dim] == 0:
            refuse(f"the '{dim}' dimension is empty", dim)
        labels = [str(v) for v in ds[dim].values]
        if len(set(labels)) != len(labels):
            refuse(f"the '{dim}' labels repeat: {labels}", dim)
        if dim in GROUP_LABELS:
            unknown = [v for v in labels if v not in GROUP_LABELS[dim]]
            if unknown or "all" not in labels:
                refuse(f"the '{dim}' labels must be among {GROUP_LABELS[dim]} and include "
                       f"'all' (got {labels})", dim)
    indicators = [str(v) for v in ds.data_vars if "scenario" in ds[v].dims]
    if not indicators:
        refuse("no indicator variables")
    for name in [str(v) for v in ds.data_vars]:
        var = ds[name]
        if SAMPLE_DIM in var.dims:       # the paint-drip sample (drip_variables)
            if not set(var.dims) <= {"scenario", SAMPLE_DIM}:
                refuse(f"variable '{name}' has dimensions {var.dims}, expected "
                       f"('{SAMPLE_DIM}',) or ('scenario', '{SAMPLE_DIM}')", name)
            if var.dtype.kind not in "fiu":
                refuse(f"variable '{name}' is not numeric (dtype {var.dtype})", name)
            continue
        if set(var.dims) != set(dims):
            refuse(f"variable '{name}' has dimensions {var.dims}, expected {dims}", name)
        if var.dtype.kind not in "fiu":
            refuse(f"variable '{name}' is not numeric (dtype {var.dtype})", name)
    _check_provenance(ds, refuse)


def _check_provenance(ds: xr.Dataset, refuse) -> None:
    """The provenance attributes the report reads, where present, have their written shape."""
    a = ds.attrs
    for key in ("households", "persons_per_replicate", "population_households_represented",
                "replicates"):
        if key in a:
            try:
                int(a[key])
            except (TypeError, ValueError):
                refuse(f"attribute '{key}' is not a whole number (got {a[key]!r})", key)
    def json_attr(key: str):
        try:
            return json.loads(a[key])
        except (TypeError, ValueError):
            return None

    for key, what in (("poverty_lines", "line name: [urban, rural] yuan"),
                      ("poverty_line_labels", "line name: [English, Chinese] label")):
        if key in a:
            value = json_attr(key)
            if not (isinstance(value, dict) and all(
                    isinstance(v, list) and len(v) == 2 for v in value.values())):
                refuse(f"attribute '{key}' is not the JSON written by microsim run ({what}; "
                       f"got {str(a[key])[:60]!r})", key)
    if "policies" in a:
        policies = json_attr("policies")
        rows_ok = isinstance(policies, dict) and all(
            isinstance(p, dict) and isinstance(p.get("files", []), list)
            and isinstance(p.get("sources", []), list)
            and all(isinstance(r, dict) and {"key", "value", "source", "note"} <= set(r)
                    for r in p.get("sources", []))
            for p in policies.values())
        if not rows_ok:
            refuse("attribute 'policies' is not the JSON written by microsim run", "policies")
    if "experiment" in a:
        try:
            experiment = yaml.safe_load(str(a["experiment"])) or {}
        except yaml.YAMLError:
            experiment = None
        if not isinstance(experiment, dict):
            refuse("attribute 'experiment' is not the YAML written by microsim run", "experiment")
        targets = experiment.get("targets") or []
        scenarios = {str(s) for s in ds.scenario.values}
        if not isinstance(targets, list):
            refuse("attribute 'experiment': 'targets' is not a list", "experiment")
        for i, t in enumerate(targets):
            where = f"attribute 'experiment', targets.{i}"
            if not isinstance(t, dict) or not {"indicator", "target", "document"} <= set(t):
                refuse(f"{where}: not a target (indicator, document, target)", "experiment")
            if t["indicator"] not in ds.data_vars:
                refuse(f"{where}: no indicator {t['indicator']!r} in the results", "experiment")
            try:
                float(t["target"]), float(t.get("tolerance") or 0.0)
            except (TypeError, ValueError):
                refuse(f"{where}: the target is not a number", "experiment")
            if t.get("comparison", "at_least") not in ("at_least", "at_most", "about"):
                refuse(f"{where}: unknown comparison {t.get('comparison')!r}", "experiment")
            chosen = t.get("scenarios") or []
            if not isinstance(chosen, list) or not {str(c) for c in chosen} <= scenarios:
                refuse(f"{where}: scenarios {chosen!r} are not all in the results", "experiment")
            select = t.get("select") or {}

            def has_groups(dim: str, value) -> bool:   # a label, or a list of labels to read
                labels = {str(x) for x in ds[dim].values}
                values = value if isinstance(value, list) else [value]
                return bool(values) and all(str(v) in labels for v in values)

            if not isinstance(select, dict) or any(
                    k not in GROUP_LABELS or not has_groups(k, v) for k, v in select.items()):
                refuse(f"{where}: select {select!r} names groups the results do not have",
                       "experiment")


def results_path(output: Path, fmt: str = "netcdf") -> Path:
    return output / (RESULTS_NC if fmt == "netcdf" else RESULTS_ZARR)


def encode_netcdf(ds: xr.Dataset) -> bytes:
    """The Dataset as NetCDF-4 bytes, encoded in memory (netCDF4's diskless mode: fast on
    files of a few hundred variables; h5netcdf into a buffer where netCDF4 is missing)."""
    try:
        import netCDF4
        from xarray.backends import NetCDF4DataStore
    except ImportError:
        buffer = io.BytesIO()
        ds.to_netcdf(buffer, engine="h5netcdf")
        return buffer.getvalue()
    nc = netCDF4.Dataset("results.nc", "w", memory=1 << 20, format="NETCDF4")
    try:
        ds.dump_to_store(NetCDF4DataStore(nc))
    except BaseException:
        nc.close()
        raise
    return bytes(nc.close())


def _write_file(path: Path, data: bytes) -> None:
    """Write bytes to a new file and flush them to disk (so a rename publishes whole data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path, replace: bool, appeared=None) -> None:
    """Rename `tmp` to `final`. Unless `replace`, this is also the moment the --force check is
    made again, atomically: a hard link fails if `final` appeared since the work started
    (another process wrote it), and that file is kept; `appeared()` gives the error to raise
    then (by default, a run's)."""
    if replace:
        os.replace(tmp, final)
        return
    appeared = appeared or (lambda: RunError(
        f"{final} appeared while this run was going (written by another process); it was "
        "kept and this run's results were not written: rerun with --force to replace it"))
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise appeared() from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if final.exists():           # a file system without hard links: check, then rename
            raise appeared() from None
        os.replace(tmp, final)
        return
    tmp.unlink()


def write_results(ds: xr.Dataset, output: Path, fmt: str = "netcdf", replace: bool = True) -> Path:
    """Write under a temporary name in the output folder, then rename into place (without
    `replace`, never over results that appeared meanwhile).

    NetCDF is encoded in memory first (results are small: indicators, not microdata) and
    written with plain file I/O, so a full or read-only disk is reported as one clean
    error and never leaves a file that looks complete."""
    final = results_path(output, fmt)
    tmp = output / f".{final.name}.partial-{os.getpid()}"
    try:
        output.mkdir(parents=True, exist_ok=True)
        if fmt == "netcdf":
            _write_file(tmp, encode_netcdf(ds))
            publish(tmp, final, replace)
        else:
            try:
                import zarr  # noqa: F401
            except ImportError:
                raise RunError("writing Zarr needs the 'zarr' package: pip install 'microsim[zarr]'") from None
            tmp.mkdir()          # created exclusively: a link planted there is never followed
            ds.to_zarr(tmp, mode="w")
            if final.exists() and not replace:
                raise RunError(f"{final} appeared while this run was going (written by another "
                               "process); it was kept: rerun with --force to replace it")
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
