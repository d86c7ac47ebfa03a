"""Microdata: populations as Parquet files, written by `synth`, checked, and read chunk by chunk.

Takes: a folder holding `households.parquet` and `persons.parquet` in the
schema below (survey microdata such as CHARLS or CFPS converted to it, a
city's extract, or a synthetic population written by `write_population`).
Gives: `check_microdata` (every problem named by file, column, row and
value), `open_microdata` (a checked, picklable `Microdata` handle) and
`read_households` (`Households` and `Persons` of a household range, the same
arrays synthesis gives).

Schema (dtypes are exact; codes in `microsim.codes`; money in yuan per year):

    households.parquet  hh_id int64 (unique, >= 0), weight float64 (> 0),
                        region int32, residence int8, size int16 (>= 1),
                        income float64 (>= 0), consumption float64 (>= 0),
                        food float64 (>= 0), status int8
    persons.parquet     person_id int64 (unique, >= 0), hh_id int64, age int16
                        (0-120), sex int8, scheme int8, chronic uint8 (bit
                        flags), disabled bool, supplementary bool, wage
                        float64 (>= 0)

Persons are grouped by household in the order of households.parquet, `size`
rows each. Random draws (illness, uptake) are addressed by `person_id`, so a
population read back from Parquet meets the same illnesses as when it was
synthesised. Files written by `write_population` carry in their metadata the
schema, the resolved population spec (values and sources) and the seed and
replicate they were drawn with; their row groups hold whole households. Files
written by `population import` (`importer.py`) carry the mapping and the source
files they were converted from instead of a spec and a draw.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from microsim import codes
from microsim.errors import InputError
from microsim.paths import folder as as_folder, kind, regular_file, resolve
from microsim.population.spec import PopulationSpec, spec_from_tree
from microsim.population.tables import HOUSEHOLD_COLUMNS, PERSON_COLUMNS, Households, Persons
from microsim.yamltree import Source, Tree, dotted

HOUSEHOLDS_FILE = "households.parquet"
PERSONS_FILE = "persons.parquet"
# In Parquet, persons carry their household's id; the in-memory `hh` row index is derived.
PARQUET_PERSON_COLUMNS = {"person_id": np.int64, "hh_id": np.int64,
                          **{k: v for k, v in PERSON_COLUMNS.items() if k not in ("person_id", "hh")}}
META_SCHEMA = b"microsim.schema"
META_SPEC = b"microsim.spec"
META_DRAW = b"microsim.draw"
META_IMPORT = b"microsim.import"   # written by `population import`: the mapping and source files
MAX_AGE = 120
MAX_PROBLEMS = 20
# Results are sums of weight x amount in fixed point (1/1024 yuan) held in int64; an addend
# is exact below 2**53 units, so a household's weight x any of its amounts must stay below
# this (8.8e12 yuan: a weight of 1,000 on an income of 8.8 billion yuan).
MAX_WEIGHTED_AMOUNT = 2.0 ** 53 / 1024
MAX_WEIGHT = 2e9          # households one household stands for (China has about 5e8)


def _arrow_type(dtype) -> pa.DataType:
    return pa.from_numpy_dtype(np.dtype(dtype))


HOUSEHOLD_SCHEMA = pa.schema([(k, _arrow_type(v)) for k, v in HOUSEHOLD_COLUMNS.items()])
PERSON_SCHEMA = pa.schema([(k, _arrow_type(v)) for k, v in PARQUET_PERSON_COLUMNS.items()])


def schema_description() -> dict:
    """The data contract as stored in file metadata: columns, dtypes, codes and units."""
    return {
        "households": {k: np.dtype(v).name for k, v in HOUSEHOLD_COLUMNS.items()},
        "persons": {k: np.dtype(v).name for k, v in PARQUET_PERSON_COLUMNS.items()},
        "codes": {"residence": list(codes.RESIDENCE), "status": list(codes.STATUS),
                  "sex": list(codes.SEX), "scheme": list(codes.SCHEME),
                  "chronic_bits": {name: 1 << i for i, name in enumerate(codes.CHRONIC)}},
        "units": "money in yuan per year, nominal, of the population's year; age in years",
        "persons_order": "grouped by household in the order of households.parquet, size rows each",
    }


def spec_metadata(spec: PopulationSpec) -> dict:
    """The resolved spec (values and the source of every value) for embedding in metadata."""
    return {"path": str(spec.path), "name": spec.name, "values": spec.tree.values,
            "sources": {dotted(k): {"source": s.source, "note": s.note, "note_zh": s.note_zh}
                        for k, s in spec.tree.sources.items()}}


def spec_from_metadata(meta: dict, where: str) -> PopulationSpec:
    """Rebuild the embedded spec; errors name the microdata file."""
    try:
        sources = {tuple(k.split(".")) if k != "<top>" else ():
                   Source(str(v["source"]), v.get("note"), where, v.get("note_zh"))
                   for k, v in meta.get("sources", {}).items()}
        values = meta["values"]
        path = Path(str(meta.get("path", where)))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(where, f"the embedded spec is damaged ({type(exc).__name__}: {exc}); "
                         "give the spec explicitly") from None
    if not isinstance(values, dict):
        raise InputError(where, "the embedded spec is damaged (its values are not a mapping); "
                         "give the spec explicitly")
    return spec_from_tree(path, Tree(values, sources, {}, [where]))


# --- writing ---------------------------------------------------------------------------------

def household_table(h: Households) -> pa.Table:
    return pa.table({k: pa.array(getattr(h, k), type=HOUSEHOLD_SCHEMA.field(k).type)
                     for k in HOUSEHOLD_COLUMNS}, schema=HOUSEHOLD_SCHEMA)


def person_table(h: Households, p: Persons) -> pa.Table:
    cols = {"person_id": p.person_id, "hh_id": h.hh_id[p.hh]}
    cols.update({k: getattr(p, k) for k in PARQUET_PERSON_COLUMNS if k not in cols})
    return pa.table({k: pa.array(v, type=PERSON_SCHEMA.field(k).type) for k, v in cols.items()},
                    schema=PERSON_SCHEMA)


def write_population(out: str | Path, chunks, spec: PopulationSpec | None, draw: dict,
                     force: bool = False) -> Path:
    """Write (Households, Persons) chunks as one row group each into `out`, atomically.

    `chunks` is an iterable of (Households, Persons); `draw` (seed, replicate, households)
    is stored in the metadata with the schema and the spec. The folder is written under a
    temporary name and renamed into place, so a folder that exists is complete.
    """
    out = Path(out)
    if out.exists() and not force:
        raise InputError(out, "output folder already exists; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()                 # a link planted at the temporary name: never followed
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()                      # created exclusively
    meta = {META_SCHEMA: json.dumps(schema_description()).encode(),
            META_DRAW: json.dumps(draw).encode()}
    if spec is not None:
        meta[META_SPEC] = json.dumps(spec_metadata(spec), ensure_ascii=False).encode()
    try:
        with pq.ParquetWriter(tmp / HOUSEHOLDS_FILE, HOUSEHOLD_SCHEMA.with_metadata(meta)) as hw, \
                pq.ParquetWriter(tmp / PERSONS_FILE, PERSON_SCHEMA.with_metadata(meta)) as pw:
            for h, p in chunks:
                hw.write_table(household_table(h), row_group_size=max(len(h), 1))
                pw.write_table(person_table(h, p), row_group_size=max(len(p), 1))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --- checking --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    column: str | None
    row: int | None
    message: str
    value: object = None
    has_value: bool = False
    rows: int = 1          # rows of the batch that fail the same check

    def __str__(self) -> str:
        where = [self.file]
        if self.column:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = f"{', '.join(where)}: {self.message}"
        text += f" (got {self.value!r})" if self.has_value else ""
        return text + (f"; {self.rows:,} rows fail this check" if self.rows > 1 else "")

    def error(self) -> InputError:
        return InputError(None, str(self))


def _open(path: Path) -> pq.ParquetFile:
    if kind(path) is None:
        raise InputError(path, "file not found (a microdata folder holds households.parquet "
                         "and persons.parquet)")
    regular_file(path, "microdata file")     # a FIFO or a device is never opened
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(path, f"not a readable Parquet file: {exc}") from None


def _schema_problems(path: Path, pf: pq.ParquetFile, expected: dict) -> list[Problem]:
    schema = pf.schema_arrow
    out = []
    for name, dtype in expected.items():
        if name not in schema.names:
            out.append(Problem(str(path), name, None, "missing column"))
            continue
        if schema.names.count(name) > 1:
            out.append(Problem(str(path), name, None, f"the column appears "
                               f"{schema.names.count(name)} times; keep one"))
            continue
        got = schema.field(name).type
        want = _arrow_type(dtype)
        if got != want:
            out.append(Problem(str(path), name, None, f"has type {got}, expected {want} "
                               "(cast the column before writing)"))
    return out


class _Collector:
    """Keeps the first problem of each (file, column, kind) and counts the rest."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.seen: dict = {}
        self.more = 0

    def add(self, kind: str, problem: Problem) -> None:
        key = (problem.file, problem.column, kind)
        if key in self.seen:   # a later batch: count its rows under the first problem
            i = self.seen[key]
            self.problems[i] = replace(self.problems[i], rows=self.problems[i].rows + problem.rows)
            return
        if len(self.problems) >= MAX_PROBLEMS:
            self.more += 1
            return
        self.seen[key] = len(self.problems)
        self.problems.append(problem)


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _value(v):
    return v.item() if hasattr(v, "item") else v


def _check_values(path: str, offset: int, batch: pa.RecordBatch, rules: dict, out: _Collector):
    for name, rule in rules.items():
        col = batch.column(batch.schema.get_field_index(name))
        if col.null_count:
            row = _first(~np.asarray(col.is_valid()))
            out.add("null", Problem(path, name, offset + row, "missing value (null)",
                                    rows=col.null_count))
            continue
        arr = col.to_numpy(zero_copy_only=False)
        kind, arg = rule
        if kind == "codes":
            bad = ~np.isin(arr, np.arange(len(arg)))
            message = f"unknown code; codes are {dict(enumerate(arg))}"
        elif kind == "nonneg":
            bad = ~np.isfinite(arr) | (arr < 0) if arr.dtype.kind == "f" else arr < 0
            message = f"{name} must be a finite number >= 0"
        elif kind == "positive":
            bad = ~np.isfinite(arr) | (arr <= 0)
            message = f"{name} must be a finite number > 0"
        else:
            lo, hi = arg
            bad = (arr < lo) | (arr > hi)
            message = f"{name} must lie in [{lo}, {hi}]"
        if bad.any():
            row = _first(bad)
            v = arr[row]
            if kind == "nonneg":
                what = "NaN" if arr.dtype.kind == "f" and np.isnan(v) else \
                    "infinite" if arr.dtype.kind == "f" and np.isinf(v) else "negative"
                message = f"{what} value; {message}"
            out.add(kind, Problem(path, name, offset + row, message, _value(v), True,
                                  int(bad.sum())))


HOUSEHOLD_RULES = {
    "hh_id": ("nonneg", None), "weight": ("positive", None), "residence": ("codes", codes.RESIDENCE),
    "size": ("range", (1, 32767)), "income": ("nonneg", None), "consumption": ("nonneg", None),
    "food": ("nonneg", None), "status": ("codes", codes.STATUS), "region": ("nonneg", None),
}
PERSON_RULES = {
    "person_id": ("nonneg", None), "hh_id": ("nonneg", None), "age": ("range", (0, MAX_AGE)),
    "sex": ("codes", codes.SEX), "scheme": ("codes", codes.SCHEME),
    "chronic": ("range", (0, (1 << len(codes.CHRONIC)) - 1)), "wage": ("nonneg", None),
    "disabled": ("any", None), "supplementary": ("any", None),
}


def _first_duplicate(values: np.ndarray) -> int | None:
    order = np.argsort(values, kind="stable")
    s = values[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if dup.size == 0:
        return None
    return int(order[dup + 1].min())


def check_microdata(folder: str | Path) -> list[Problem]:
    """Every problem of a microdata folder (at most the first of each kind per column)."""
    folder = Path(folder)
    if kind(folder) != "folder":
        as_folder(folder, "microdata folder")
    hpath, ppath = folder / HOUSEHOLDS_FILE, folder / PERSONS_FILE
    for path in (hpath, ppath):       # special files refused before either file is opened
        if kind(path) is not None:
            regular_file(path, "microdata file")
    hpf, ppf = _open(hpath), _open(ppath)
    problems = _schema_problems(hpath, hpf, HOUSEHOLD_COLUMNS) + \
        _schema_problems(ppath, ppf, PARQUET_PERSON_COLUMNS)
    if problems:
        return problems
    try:
        metadata_problems(hpath, hpf)
    except InputError as exc:
        return [Problem(str(hpath), None, None, exc.message, exc.value, exc.has_value)]
    out = _Collector()
    h_rules = {k: v for k, v in HOUSEHOLD_RULES.items()}
    p_rules = {k: v for k, v in PERSON_RULES.items() if v[0] != "any"}
    offset = 0
    try:
        for batch in hpf.iter_batches(batch_size=1 << 20, columns=list(HOUSEHOLD_COLUMNS),
                                      use_threads=False):
            _check_values(str(hpath), offset, batch, h_rules, out)
            _check_weighted_amounts(str(hpath), offset, batch, out)
            offset += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        return [_unreadable(hpath, offset, exc)]
    n_households = offset
    offset = 0
    try:
        for batch in ppf.iter_batches(batch_size=1 << 20, columns=list(PARQUET_PERSON_COLUMNS),
                                      use_threads=False):
            _check_values(str(ppath), offset, batch, p_rules, out)
            for name in ("disabled", "supplementary"):
                col = batch.column(batch.schema.get_field_index(name))
                if col.null_count:
                    row = _first(~np.asarray(col.is_valid()))
                    out.add("null", Problem(str(ppath), name, offset + row, "missing value (null)"))
            offset += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        return [_unreadable(ppath, offset, exc)]
    n_persons = offset
    if out.problems:
        return _finish(out)
    # Keys and the grouping of persons by household.
    hh = hpf.read(columns=["hh_id", "size"], use_threads=False)
    hh_id = hh.column("hh_id").to_numpy()
    size = hh.column("size").to_numpy().astype(np.int64)
    row = _first_duplicate(hh_id)
    if row is not None:
        out.add("dup", Problem(str(hpath), "hh_id", row, "duplicate household id", _value(hh_id[row]), True))
    pid = ppf.read(columns=["person_id", "hh_id"], use_threads=False)
    person_id = pid.column("person_id").to_numpy()
    person_hh = pid.column("hh_id").to_numpy()
    row = _first_duplicate(person_id)
    if row is not None:
        out.add("dup", Problem(str(ppath), "person_id", row, "duplicate person id",
                               _value(person_id[row]), True))
    known = np.isin(person_hh, hh_id)
    if not known.all():
        row = _first(~known)
        out.add("missing", Problem(str(ppath), "hh_id", row, "person points at a missing household "
                                   f"(no such hh_id in {HOUSEHOLDS_FILE})", _value(person_hh[row]), True))
    elif int(size.sum()) != n_persons:
        out.add("count", Problem(str(ppath), None, None,
                                 f"has {n_persons} rows but the sizes in {HOUSEHOLDS_FILE} add up "
                                 f"to {int(size.sum())}; each household needs `size` person rows"))
    else:
        expected = np.repeat(hh_id, size)
        wrong = expected != person_hh
        if wrong.any():
            row = _first(wrong)
            out.add("order", Problem(str(ppath), "hh_id", row,
                                     f"persons must be grouped by household in the order of "
                                     f"{HOUSEHOLDS_FILE}, `size` rows each (this row should belong "
                                     f"to household {_value(expected[row])})",
                                     _value(person_hh[row]), True))
    if n_households == 0:
        out.add("empty", Problem(str(hpath), None, None, "holds no households"))
    return _finish(out)


def _unreadable(path: Path, offset: int, exc: Exception) -> Problem:
    return Problem(str(path), None, None, f"cannot be read after row {offset:,}: the file is "
                   f"damaged ({exc})")


def _check_weighted_amounts(path: str, offset: int, batch: pa.RecordBatch, out: _Collector):
    """A household's weight, and its weight x each of its amounts, must fit the accumulators'
    exact range."""
    weight = batch.column(batch.schema.get_field_index("weight")).to_numpy(zero_copy_only=False)
    heavy = weight > MAX_WEIGHT
    if heavy.any():
        row = _first(heavy)
        out.add("weighted", Problem(path, "weight", offset + row, f"a household stands for at "
                                    f"most {MAX_WEIGHT:.0e} households", _value(weight[row]), True,
                                    int(heavy.sum())))
    for name in ("income", "consumption", "food"):
        amount = batch.column(batch.schema.get_field_index(name)).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore", over="ignore"):
            bad = weight * amount >= MAX_WEIGHTED_AMOUNT
        if bad.any():
            row = _first(bad)
            out.add("weighted", Problem(
                path, name, offset + row, f"weight x {name} is {weight[row] * amount[row]:.4g} "
                f"yuan; it must stay below {MAX_WEIGHTED_AMOUNT:.4g} (2**53 / 1024, the range in "
                "which the results' sums are exact): check the weight and the amount",
                _value(amount[row]), True, int(bad.sum())))


def _finish(out: _Collector) -> list[Problem]:
    problems = list(out.problems)
    if out.more:
        problems.append(Problem(problems[0].file, None, None,
                                f"... and {out.more} more problem(s)"))
    return problems


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Microdata:
    """A checked microdata folder: where things are, and each household's first person row."""

    folder: Path
    n_households: int
    first_person: np.ndarray      # int64 (n + 1,) global person row of each household
    household_groups: np.ndarray  # int64 row-group start rows of households.parquet (+ end)
    person_groups: np.ndarray     # int64 row-group start rows of persons.parquet (+ end)
    metadata: dict                # decoded microsim.* metadata (may be empty)

    @property
    def weight_total(self) -> float:
        return float(pq.read_table(self.folder / HOUSEHOLDS_FILE, columns=["weight"])
                     .column("weight").to_numpy().sum())

    def embedded_spec(self) -> PopulationSpec | None:
        meta = self.metadata.get("spec")
        if meta is None:
            return None
        return spec_from_metadata(meta, str(self.folder / HOUSEHOLDS_FILE) + " (embedded spec)")


def _group_starts(pf: pq.ParquetFile) -> np.ndarray:
    rows = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
    out = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(rows, out=out[1:])
    return out


def read_metadata(folder: str | Path) -> dict:
    """The microsim metadata of a microdata folder: schema, spec, draw, import (each may be
    absent)."""
    path = Path(folder) / HOUSEHOLDS_FILE
    return metadata_problems(path, _open(path))


def metadata_problems(path: Path, pf: pq.ParquetFile) -> dict:
    """The decoded microsim metadata of a file, or an InputError naming the bad entry."""
    raw = pf.schema_arrow.metadata or {}
    out = {}
    for key, name in ((META_SCHEMA, "schema"), (META_SPEC, "spec"), (META_DRAW, "draw"),
                      (META_IMPORT, "import")):
        if key in raw:
            try:
                out[name] = json.loads(raw[key])
            except (UnicodeDecodeError, ValueError) as exc:
                raise InputError(path, f"metadata entry {key.decode()!r} is not valid JSON "
                                 f"({exc}); remove it or write the file again") from None
            if not isinstance(out[name], dict):
                raise InputError(path, f"metadata entry {key.decode()!r} must be a JSON object",
                                 value=type(out[name]).__name__, has_value=True)
    return out


def open_microdata(folder: str | Path, check: bool = True) -> Microdata:
    """Check a microdata folder (refusing it with every problem named) and open it for reading."""
    folder = resolve(folder, what="microdata folder")
    if check:
        problems = check_microdata(folder)
        if problems:
            if len(problems) == 1:
                raise problems[0].error()
            raise InputError(folder, "invalid microdata:\n  " + "\n  ".join(str(p) for p in problems))
    hpf, ppf = _open(folder / HOUSEHOLDS_FILE), _open(folder / PERSONS_FILE)
    size = hpf.read(columns=["size"], use_threads=False).column("size").to_numpy()
    first = np.zeros(size.size + 1, np.int64)
    np.cumsum(size, out=first[1:])
    return Microdata(folder, int(size.size), first, _group_starts(hpf), _group_starts(ppf),
                     read_metadata(folder))


def _read_rows(path: Path, starts: np.ndarray, lo: int, hi: int, columns: list[str]) -> pa.Table:
    """Rows [lo, hi) of a Parquet file whose row groups start at `starts`."""
    pf = pq.ParquetFile(path)
    first = int(np.searchsorted(starts, lo, side="right") - 1)
    last = int(np.searchsorted(starts, hi, side="left"))
    groups = list(range(first, max(last, first + 1)))
    table = pf.read_row_groups(groups, columns=columns, use_threads=False)
    return table.slice(lo - int(starts[first]), hi - lo)


def _column(table: pa.Table, name: str, dtype) -> np.ndarray:
    arr = table.column(name).to_numpy()
    return np.ascontiguousarray(arr, dtype=dtype)


def read_households(md: Microdata, start: int, stop: int) -> tuple[Households, Persons]:
    """Households [start, stop) (rows of households.parquet) and their persons."""
    if not 0 <= start <= stop <= md.n_households:
        raise ValueError(f"household range [{start}, {stop}) outside [0, {md.n_households})")
    ht = _read_rows(md.folder / HOUSEHOLDS_FILE, md.household_groups, start, stop,
                    list(HOUSEHOLD_COLUMNS))
    p0, p1 = int(md.first_person[start]), int(md.first_person[stop])
    pt = _read_rows(md.folder / PERSONS_FILE, md.person_groups, p0, p1,
                    [c for c in PARQUET_PERSON_COLUMNS if c != "hh_id"])
    cols = {k: _column(ht, k, v) for k, v in HOUSEHOLD_COLUMNS.items()}
    first = md.first_person[start:stop + 1] - p0
    households = Households(**cols, first_person=np.ascontiguousarray(first))
    pcols = {k: _column(pt, k, v) for k, v in PERSON_COLUMNS.items() if k != "hh"}
    hh = np.repeat(np.arange(stop - start, dtype=np.int64), np.diff(first))
    persons = Persons(hh=hh, **pcols)
    return households, persons
