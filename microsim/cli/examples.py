"""`microsim examples DIR [--force]`: copy the shipped inputs into a working folder."""

from __future__ import annotations

from pathlib import Path

import typer

from microsim.cli.common import guarded, out


@guarded
def examples(folder: Path = typer.Argument(..., help="folder to copy into (new or empty)"),
             force: bool = typer.Option(False, help="copy into a non-empty folder, replacing "
                                        "the shipped files already there")):
    """Copy the shipped policies, populations, experiments, calibration targets and the JSON
    Schemas of their files into FOLDER."""
    from microsim.examples import QUICKSTART, copy_examples
    for path in copy_examples(folder, force):
        out.print(f"copied {path}", highlight=False)
    out.print(f"try: microsim run {folder / QUICKSTART}", highlight=False)


def version_callback(value: bool) -> None:
    """`microsim --version`: the package version, and the git revision when there is one."""
    if not value:
        return
    from microsim.engine.results import git_revision, package_version
    revision = git_revision()
    out.print(f"microsim {package_version()}"
              + (f" (git {revision})" if revision != "unknown" else ""), highlight=False)
    raise typer.Exit()
