"""Survey files read chunk by chunk for `microsim population import`: CSV and Stata .dta.

Takes: a source file, the `FileRules` of its mapping section (encoding, separator, whether
Stata value labels are read) and a chunk size in rows. Gives: `read_chunks`, which checks that
every mapped column exists and yields (first row, pandas DataFrame of the mapped columns)
without ever holding more than one chunk; `file_record`, the size and SHA-256 of a file for
the Parquet metadata. CSV cells are read as text (so ids keep their digits and labels their
spelling); .dta columns with value labels are read as their labels unless
`value_labels: false`, and Stata missing values as missing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from microsim.errors import InputError
from microsim.paths import regular_file
from microsim.population.import_mapping import FileRules

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".dta": "dta"}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(path, f"unknown file type {path.suffix!r}: import reads CSV (.csv, "
                         ".txt, .tsv) and Stata (.dta) files")
    return fmt


def _missing_columns(path: Path, have: list[str], rules: FileRules, mapping: Path) -> None:
    for column in rules.columns():
        if column not in have:
            shown = ", ".join(have[:30]) + (", ..." if len(have) > 30 else "")
            raise InputError(path, f"column {column!r} not found ({rules.key_of(column)} of the "
                             f"mapping {mapping} reads it); the file has: {shown}")


def read_chunks(path: Path, rules: FileRules, rows: int, mapping: Path):
    """(first row, DataFrame) chunks of the mapped columns of `path`."""
    regular_file(path, f"{rules.name} file")
    fmt = file_format(path)
    want = rules.columns()
    if fmt == "csv":
        yield from _csv_chunks(path, rules, rows, want, mapping)
    else:
        yield from _dta_chunks(path, rules, rows, want, mapping)


def _csv_chunks(path: Path, rules: FileRules, rows: int, want: list[str], mapping: Path):
    sep = "\t" if path.suffix.lower() == ".tsv" and rules.separator == "," else rules.separator
    options = dict(sep=sep, encoding=rules.encoding, dtype=str, keep_default_na=False,
                   na_filter=False)
    offset = 0
    try:
        header = list(pd.read_csv(path, nrows=0, **options).columns)
        _missing_columns(path, header, rules, mapping)
        with pd.read_csv(path, usecols=want, chunksize=rows, **options) as reader:
            for chunk in reader:
                yield offset, chunk
                offset += len(chunk)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not {rules.encoding} text near row {offset:,} ({exc.reason}); "
                         f"set '{rules.name}.encoding' in the mapping (gbk for many Chinese "
                         "files)") from None
    except LookupError:
        raise InputError(mapping, "unknown text encoding", key=f"{rules.name}.encoding",
                         value=rules.encoding, has_value=True) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(path, f"not a readable CSV file after row {offset:,}: {exc}") from None


def _dta_chunks(path: Path, rules: FileRules, rows: int, want: list[str], mapping: Path):
    offset = 0
    try:
        with pd.read_stata(path, chunksize=rows, columns=None, convert_categoricals=False,
                           iterator=True) as probe:
            header = list(probe.variable_labels())
        _missing_columns(path, header, rules, mapping)
        with pd.read_stata(path, chunksize=rows, columns=want, iterator=True,
                           convert_categoricals=rules.value_labels) as reader:
            for chunk in reader:
                yield offset, chunk
                offset += len(chunk)
    except InputError:
        raise
    except ValueError as exc:
        hint = ("; if value labels repeat, set "
                f"'{rules.name}.value_labels: false' in the mapping and map the codes"
                if "label" in str(exc).lower() else "")
        raise InputError(path, f"not a readable Stata file after row {offset:,}: {exc}{hint}") \
            from None
    except (OSError, EOFError, UnicodeDecodeError, KeyError, IndexError) as exc:
        raise InputError(path, f"not a readable Stata file after row {offset:,}: "
                         f"{type(exc).__name__}: {exc}") from None


def file_record(path: Path, rows: int) -> dict:
    """What the Parquet metadata says of a source file: path, format, bytes, SHA-256, rows."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path.resolve()), "format": file_format(path),
            "bytes": path.stat().st_size, "sha256": digest.hexdigest(), "rows": rows}
