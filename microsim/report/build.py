"""Write a report beside the results: HTML and/or Markdown, with figures, atomically.

Takes: a results folder (or Dataset and folder), a language and formats; the
folder's `sensitivity.json` (from `microsim sensitivity`), when there is one.
Gives: `report.<lang>.html` (self-contained) and/or `report.<lang>.md` with
`figures/<lang>/*.png` (300 dpi) and `*.svg`, each written under a temporary
name and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from microsim.engine.results import open_results  # noqa: F401 - re-exported for the CLI
from microsim.errors import RunError
from microsim.report.content import build_content
from microsim.report.render import to_html, to_markdown
from microsim.sensitivity import read_sensitivity

from microsim.report.options import FORMATS, LANGS, check_report_options  # noqa: E402,F401


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        # Created exclusively: a link planted under the temporary name is never followed.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_report(ds: xr.Dataset, folder: Path, lang: str = "zh",
                 formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the report of `ds` in `lang` into `folder`: the files written, in order."""
    check_report_options(lang, formats)
    report = build_content(ds, lang, read_sensitivity(folder))
    written = []
    if "md" in formats:
        fig_dir = folder / "figures" / lang
        try:
            fig_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"cannot write the report's figures in {fig_dir}: "
                           f"{exc.strerror or exc}") from None
        paths = {}
        for sec in report.sections:
            for fig in sec.figures:
                _write(fig_dir / f"{fig.name}.png", fig.png)
                _write(fig_dir / f"{fig.name}.svg", fig.svg)
                paths[fig.name] = f"figures/{lang}/{fig.name}.png"
        target = folder / f"report.{lang}.md"
        _write(target, to_markdown(report, paths).encode("utf-8"))
        written.append(target)
    if "html" in formats:
        target = folder / f"report.{lang}.html"
        _write(target, to_html(report).encode("utf-8"))
        written.append(target)
    return written
