"""`microsim schema`: the JSON Schemas of the input files, and the docs' reference tables.

    microsim schema KIND [--out FILE]     KIND: experiment, policy, population, reform, ...
    microsim schema all --out DIR         every kind, as DIR/KIND.json (the shipped schemas/)
    microsim schema docs [--check] [--folder DIR]

Parses arguments, calls `microsim.schemas` and `microsim.schemadocs`, prints or writes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from microsim.cli.common import guarded, out
from microsim.errors import InputError, MicrosimError

REFRESH = "microsim schema docs"


class StaleDocs(MicrosimError):
    """Generated tables that no longer match the models."""

    exit_code = 1


def _docs_folder(folder: Optional[Path]) -> Path:
    if folder is not None:
        return folder
    clone = Path(__file__).resolve().parents[2] / "docs"
    if not clone.is_dir():
        raise InputError(clone, "no docs folder beside the package (an installed copy has "
                         "none); give the folder with --folder", key="--folder")
    return clone


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot write the schema: {exc.strerror}") from None


@guarded
def schema(what: str = typer.Argument(..., help="experiment, policy, population, reform, "
                                      "calibration, demography, indices, sensitivity; 'all' "
                                      "(with --out DIR); or 'docs'"),
           out_path: Optional[Path] = typer.Option(None, "--out", help="write the schema to "
                                                   "this file (a folder for 'all') instead of "
                                                   "printing it"),
           check: bool = typer.Option(False, help="docs: only say whether the generated "
                                      "tables are up to date (exit 1 if not)"),
           folder: Optional[Path] = typer.Option(None, help="docs: the folder of Markdown "
                                                 "files (default: the clone's docs/)")):
    """Print or write the JSON Schema of an input file, for editor completion; or refresh the
    reference tables of the docs made from it."""
    from microsim import schemadocs, schemas

    if what == "docs":
        files = schemadocs.docs_with_blocks(_docs_folder(folder))
        stale = schemadocs.stale(files)
        if check:
            if stale:
                raise StaleDocs("the generated tables of " + ", ".join(map(str, stale))
                                + f" are out of date; refresh them with: {REFRESH}")
            out.print(f"up to date: {', '.join(map(str, files))}", highlight=False)
            return
        for path in stale:
            path.write_text(schemadocs.refresh(path.read_text(encoding="utf-8")),
                            encoding="utf-8")
            out.print(f"refreshed {path}", highlight=False)
        if not stale:
            out.print("the generated tables are up to date", highlight=False)
        return
    if what == "all":
        if out_path is None:
            raise InputError(None, "'all' writes one file per kind: give the folder with --out",
                             key="--out")
        for name in schemas.KINDS:
            _write(out_path / f"{name}.json", schemas.text(name))
            out.print(f"wrote {out_path / f'{name}.json'}", highlight=False)
        return
    text = schemas.text(what)
    if out_path is None:
        sys.stdout.write(text)
    else:
        _write(out_path, text)
        out.print(f"wrote {out_path}", highlight=False)
