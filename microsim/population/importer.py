"""Survey microdata (CSV or Stata .dta) imported into a checked Parquet microdata folder.

Takes: a households file, a persons file and a column mapping (`import_mapping`), an output
folder. Gives: `import_microdata`, which writes `households.parquet` and `persons.parquet` in
the schema of `microdata.py` (households in file order; persons grouped by household in that
order, in file order within a household; row groups of whole households), with the schema,
the mapping (its text) and the source files (size, SHA-256, rows) in the Parquet metadata.

Household size: when the mapping gives `size` a column it is checked against the persons of
each household; without one it is counted from the persons. Either way a household without
persons is refused.

Memory stays bounded: the files are read `chunk_rows` rows at a time; persons are sorted by a
bucket pass (each bucket one output row group of households) through temporary Parquet files,
so beyond one chunk and one row group only keys are held: the household ids and person counts,
and the person ids (for the duplicate check and the final `check_microdata`).

The folder is written under a temporary name beside the output and renamed into place when it
is complete and passes `check_microdata`; an existing output is replaced only with `force`, and
only if it holds nothing but microdata files (a folder that holds anything else is left alone).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from microsim.errors import InputError
from microsim.paths import kind
from microsim.population.import_convert import check_weighted, convert_chunk
from microsim.population.import_mapping import Mapping, load_mapping
from microsim.population.import_sources import file_record, read_chunks
from microsim.population.microdata import (HOUSEHOLD_SCHEMA, HOUSEHOLDS_FILE, META_IMPORT,
                                           META_SCHEMA, PERSON_SCHEMA, PERSONS_FILE,
                                           _first_duplicate, check_microdata,
                                           schema_description)
HH_ROW = "_hh_row"            # helper column of the person buckets: the household's row


@dataclass(frozen=True)
class ImportResult:
    out: Path
    households: int
    persons: int
    size: str                 # "counted" from persons or "checked" against them


def import_microdata(mapping: str | Path | Mapping, households: str | Path, persons: str | Path,
                     out: str | Path, force: bool = False, chunk_rows: int = 100_000,
                     row_group: int = 50_000) -> ImportResult:
    """Import a households file and a persons file by `mapping` into the folder `out`."""
    if chunk_rows < 1 or row_group < 1:
        raise ValueError("chunk_rows and row_group must be >= 1")
    mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    hpath, ppath, out = Path(households), Path(persons), Path(out)
    replaced = _check_output(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        work = tmp / "work"
        work.mkdir()
        n_h, n_p, size = _write(mapping, hpath, ppath, tmp, work, chunk_rows, row_group)
        shutil.rmtree(work)
        problems = check_microdata(tmp)
        if problems:   # every rule is applied above; this is the last line of defence
            raise InputError(out, "the imported files fail the microdata check:\n  " +
                             "\n  ".join(str(p).replace(str(tmp), str(out)) for p in problems))
        _publish(tmp, out, replaced)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ImportResult(out, n_h, n_p, size)


def _check_output(out: Path, force: bool) -> bool:
    """Whether `out` exists and will be replaced; refuses what must not be replaced."""
    if not os.path.lexists(out):
        return False
    if out.is_symlink():
        raise InputError(out, "the output is a symbolic link; give a folder path")
    if kind(out) != "folder":
        raise InputError(out, f"the output exists and is a {kind(out)}, not a folder")
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return True
    if not force:
        raise InputError(out, "output folder exists and is not empty; use --force to replace it")
    foreign = [e for e in entries if e not in (HOUSEHOLDS_FILE, PERSONS_FILE)]
    if foreign:
        raise InputError(out, f"--force replaces a microdata folder only (households.parquet "
                         f"and persons.parquet); this folder also holds {foreign[:5]}, so it "
                         "is left alone: choose another --out")
    return True


def _publish(tmp: Path, out: Path, replaced: bool) -> None:
    """Rename the finished folder into place; an old folder is moved aside, then removed."""
    if not replaced:
        os.rename(tmp, out)        # fails rather than overwrite a folder that appeared meanwhile
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.replaced-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def _table(cols: dict, schema: pa.Schema, extra: dict | None = None) -> pa.Table:
    arrays = {f.name: pa.array(cols[f.name], type=f.type) for f in schema}
    fields = list(schema)
    for name, values in (extra or {}).items():
        arrays[name] = pa.array(values, type=pa.int64())
        fields.append(pa.field(name, pa.int64()))
    return pa.table(arrays, schema=pa.schema(fields))


def _write(mapping: Mapping, hpath: Path, ppath: Path, tmp: Path, work: Path, chunk_rows: int,
           row_group: int) -> tuple[int, int, str]:
    # Pass 1: households, converted in file order into a work file.
    hh_ids, sizes = [], []
    schema = HOUSEHOLD_SCHEMA
    n_h = 0
    with pq.ParquetWriter(work / HOUSEHOLDS_FILE, schema) as writer:
        for offset, chunk in read_chunks(hpath, mapping.households, chunk_rows, mapping.path):
            cols = convert_chunk(chunk, mapping.households, hpath, offset)
            check_weighted(cols, hpath, offset, mapping.households)
            if "size" in cols:
                sizes.append(cols["size"].astype(np.int64))
            cols.setdefault("size", np.zeros(len(chunk), np.int16))
            hh_ids.append(cols["hh_id"])
            writer.write_table(_table(cols, schema))
            n_h = offset + len(chunk)
    hh_id = np.concatenate(hh_ids) if hh_ids else np.zeros(0, np.int64)
    del hh_ids
    if n_h == 0:
        raise InputError(hpath, "holds no households")
    hh_column = mapping.households.rules["hh_id"].column or "hh_id"
    row = _first_duplicate(hh_id)
    if row is not None:
        first = int(np.flatnonzero(hh_id == hh_id[row])[0])
        raise InputError(hpath, f"duplicate household id (also in row {first})", key=hh_column,
                         row=row, value=int(hh_id[row]), has_value=True)
    order = np.argsort(hh_id, kind="stable")
    sorted_id = hh_id[order]

    # Pass 2: persons, converted and sent to the bucket of their household's output row group.
    counts = np.zeros(n_h, np.int64)
    person_ids = []
    n_buckets = -(-n_h // row_group)
    writers: dict[int, pq.ParquetWriter] = {}
    p_column = mapping.persons.rules["hh_id"].column or "hh_id"
    n_p = 0
    try:
        for offset, chunk in read_chunks(ppath, mapping.persons, chunk_rows, mapping.path):
            cols = convert_chunk(chunk, mapping.persons, ppath, offset)
            pos = np.minimum(np.searchsorted(sorted_id, cols["hh_id"]), n_h - 1)
            known = sorted_id[pos] == cols["hh_id"]
            if not known.all():
                r = int(np.argmax(~known))
                raise InputError(ppath, f"the person's household is not in {hpath} (no "
                                 f"household has this hh_id)", key=p_column, row=offset + r,
                                 value=int(cols["hh_id"][r]), has_value=True)
            hh_row = order[pos]
            counts += np.bincount(hh_row, minlength=n_h)
            person_ids.append(cols["person_id"])
            bucket = hh_row // row_group
            table = _table(cols, PERSON_SCHEMA, {HH_ROW: hh_row})
            for b in np.unique(bucket):
                if b not in writers:
                    writers[b] = pq.ParquetWriter(work / f"bucket-{b}.parquet", table.schema)
                writers[b].write_table(table.filter(pa.array(bucket == b)))
            n_p = offset + len(chunk)
    finally:
        for w in writers.values():
            w.close()
    person_id = np.concatenate(person_ids) if person_ids else np.zeros(0, np.int64)
    del person_ids
    row = _first_duplicate(person_id)
    if row is not None:
        first = int(np.flatnonzero(person_id == person_id[row])[0])
        raise InputError(ppath, f"duplicate person id (also in row {first})",
                         key=mapping.persons.rules["person_id"].column or "person_id", row=row,
                         value=int(person_id[row]), has_value=True)
    del person_id

    # Household sizes: checked against the persons, or counted from them.
    if sizes:
        size = np.concatenate(sizes)
        wrong = size != counts
        if wrong.any():
            r = int(np.argmax(wrong))
            raise InputError(hpath, f"the household's size is {int(size[r])} but {ppath} holds "
                             f"{int(counts[r])} person(s) with its hh_id {int(hh_id[r])} (leave "
                             "size out of the mapping to count it from the persons)",
                             key=mapping.households.rules["size"].column, row=r,
                             value=int(size[r]), has_value=True)
        how = "checked"
    else:
        how = "counted"
    empty = counts == 0
    if empty.any():
        r = int(np.argmax(empty))
        raise InputError(hpath, f"the household has no persons in {ppath} (every household "
                         "needs at least one)", key=hh_column, row=r, value=int(hh_id[r]),
                         has_value=True)
    if counts.max() > 32767:
        r = int(np.argmax(counts > 32767))
        raise InputError(hpath, f"the household has {int(counts[r])} persons; size holds at "
                         "most 32767", key=hh_column, row=r, value=int(hh_id[r]), has_value=True)

    # Pass 3: the output, one row group of households (and of their persons) at a time.
    meta = {META_SCHEMA: json.dumps(schema_description()).encode(),
            META_IMPORT: json.dumps(_import_metadata(mapping, hpath, ppath, n_h, n_p, how),
                                    ensure_ascii=False).encode()}
    first = np.zeros(n_h + 1, np.int64)
    np.cumsum(counts, out=first[1:])
    work_h = pq.ParquetFile(work / HOUSEHOLDS_FILE)
    starts = np.zeros(work_h.num_row_groups + 1, np.int64)
    np.cumsum([work_h.metadata.row_group(i).num_rows for i in range(work_h.num_row_groups)],
              out=starts[1:])
    with pq.ParquetWriter(tmp / HOUSEHOLDS_FILE, HOUSEHOLD_SCHEMA.with_metadata(meta)) as hw, \
            pq.ParquetWriter(tmp / PERSONS_FILE, PERSON_SCHEMA.with_metadata(meta)) as pw:
        for b in range(n_buckets):
            lo, hi = b * row_group, min((b + 1) * row_group, n_h)
            ht = _rows(work_h, starts, lo, hi)
            ht = ht.set_column(ht.schema.get_field_index("size"), HOUSEHOLD_SCHEMA.field("size"),
                               pa.array(counts[lo:hi], type=pa.int16()))
            hw.write_table(ht, row_group_size=hi - lo)
            pt = pq.read_table(work / f"bucket-{b}.parquet")
            keys = pt.column(HH_ROW).to_numpy()
            pt = pt.take(pa.array(np.argsort(keys, kind="stable"))).select(PERSON_SCHEMA.names)
            assert pt.num_rows == first[hi] - first[lo]
            pw.write_table(pt.cast(PERSON_SCHEMA), row_group_size=max(pt.num_rows, 1))
    return n_h, n_p, how


def _rows(pf: pq.ParquetFile, starts: np.ndarray, lo: int, hi: int) -> pa.Table:
    """Rows [lo, hi) of a work file whose row groups start at `starts`."""
    a = int(np.searchsorted(starts, lo, side="right") - 1)
    b = int(np.searchsorted(starts, hi, side="left"))
    table = pf.read_row_groups(list(range(a, max(b, a + 1))), use_threads=False)
    return table.slice(lo - int(starts[a]), hi - lo)


def _import_metadata(mapping: Mapping, hpath: Path, ppath: Path, n_h: int, n_p: int,
                     how: str) -> dict:
    from microsim import __version__
    return {"name": mapping.name,
            "mapping": {"path": str(mapping.path.resolve()), "text": mapping.text},
            "households": file_record(hpath, n_h), "persons": file_record(ppath, n_p),
            "size": how, "microsim_version": __version__}
