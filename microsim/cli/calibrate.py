"""`microsim calibrate`: fit free parameters to a target file, or check the files as they
stand, print every target's error and every parameter's move, and optionally write the
fitted values back and the Markdown page (docs/calibration.md).

    microsim calibrate calibration/national_2023.yaml            # fit, print, compare
    microsim calibrate calibration/national_2023.yaml --write    # fit and write back
    microsim calibrate calibration/*.yaml --check --markdown docs/calibration.md
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from microsim.cli.common import err, guarded, out, styled
from microsim.errors import InputError, RunError

REPRODUCE = 1e-3     # a refit reproduces a written value to this relative difference


def _print_fit(fit, fitted: bool) -> None:
    from microsim.calibrate.report import TARGET_HEADER, parameter_rows, target_rows
    ts = fit.targets
    out.print(styled(ts.name, "bold", f": {ts.path}  ({fit.evaluations} run(s), "
                                      f"{fit.seconds:.1f} s)"), highlight=False)
    if ts.parameters:
        table = Table("parameter", "key", "start", "in files",
                      "fitted" if fitted else "(not fitted)", "bounds", "", title="parameters")
        for row in parameter_rows(fit):
            table.add_row(*row)
        out.print(table)
    for roles, title in ((("fit", "implied"), "fitted targets"), (("holdout",), "held-out targets")):
        rows = target_rows(fit, roles)
        if rows:
            table = Table(*TARGET_HEADER, title=title)
            for row in rows:
                table.add_row(*row)
            out.print(table)


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@guarded
def calibrate(targets: List[Path] = typer.Argument(..., help="calibration target file(s)"),
              check: bool = typer.Option(False, "--check", help="evaluate the targets as the "
                                         "files stand; fit nothing"),
              write: bool = typer.Option(False, "--write", help="write the fitted values back "
                                         "into the population spec and policy files"),
              markdown: Optional[Path] = typer.Option(None, help="write the Markdown page "
                                                      "(docs/calibration.md) of the target sets"),
              quiet: bool = typer.Option(False, help="no progress messages")):
    """Fit free parameters to published targets; print each target's error and each
    parameter's move."""
    from microsim.calibrate.fit import check as check_targets, fit as fit_targets
    from microsim.calibrate.params import current
    from microsim.calibrate.report import markdown as page
    from microsim.calibrate.targets import load_targets
    from microsim.calibrate.writeback import rounded, write_back

    if check and write:
        raise InputError(None, "--write needs a fit; drop --check")
    log = (lambda _m: None) if quiet else (lambda m: err.print(m, highlight=False))
    fits, drifted = [], []
    seen: set[Path] = set()
    targets = [p for p in targets if not (p.resolve() in seen or seen.add(p.resolve()))]
    for path in targets:
        ts = load_targets(path)
        if check:
            result = check_targets(ts)
        else:
            result = fit_targets(ts, log=log)
            for p, x in zip(ts.parameters, result.values):
                now = current(ts.experiment, p)
                if not math.isclose(rounded(x), now, rel_tol=REPRODUCE, abs_tol=REPRODUCE):
                    drifted.append(f"{ts.name}.{p.name}: fitted {rounded(x):g}, files {now:g}")
        _print_fit(result, fitted=not check)
        if write:
            for file in write_back(result):
                out.print(f"wrote {file}", highlight=False)
            result = check_targets(load_targets(path))
        fits.append(result)
    if markdown is not None:
        command = "microsim calibrate " + " ".join(str(p) for p in targets) + \
            (" --check" if check else "") + f" --markdown {markdown}"
        _write_text(markdown, page(fits, command))
        out.print(f"wrote {markdown}", highlight=False)
    if drifted and not write:
        raise RunError("the fit does not reproduce the values in the files: "
                       + "; ".join(drifted) + " (rerun with --write to write the new values)")
