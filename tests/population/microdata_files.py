"""Damaged copies of a microdata folder for the tests: each file read, optionally changed as a
table, and written into `tmp_path/bad`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from microsim.population.microdata import HOUSEHOLDS_FILE, PERSONS_FILE


def copy_microdata(base: Path, tmp_path: Path, households=None, persons=None) -> Path:
    """`base` copied to `tmp_path/bad`, each table passed through its change (if any)."""
    out = tmp_path / "bad"
    out.mkdir()
    for name, change in ((HOUSEHOLDS_FILE, households), (PERSONS_FILE, persons)):
        table = pq.read_table(base / name)
        pq.write_table(change(table) if change else table, out / name)
    return out


def with_value(table: pa.Table, column: str, row: int, value) -> pa.Table:
    """The table with one cell replaced, the column keeping its type."""
    values = table.column(column).to_numpy(zero_copy_only=False).copy()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))
