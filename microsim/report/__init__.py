"""Reports: the evaluation report of a run, in Chinese or English, from its results Dataset.

One module per step: `content` says what the report contains (sections of paragraphs,
tables and figures, as data) with `targets` (the source documents' targets, met or not)
and `focus` (the experiment's own tables by status, residence or quintile); `numbers`
formats values in each language's units; `figures` draws the matplotlib charts; `render`
writes HTML and Markdown; `build` writes the files atomically beside the results. `table`
gives the headline table printed on the terminal by `microsim run`.

`microsim.report(results_dir, lang=...)` (this package, called) writes a run's report beside its
results as `microsim report` does.
"""

from __future__ import annotations

import sys
import types


def write(results_dir, lang: str = "zh", formats=("html", "md")):
    """Write the report of a run beside its results, as `microsim report` does: `results_dir`
    is the run's output folder (or its results file), `lang` 'zh' or 'en', `formats` 'html'
    and/or 'md'. Returns the paths written."""
    from pathlib import Path
    from microsim.report.build import open_results, write_report
    from microsim.report.options import check_report_options
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    check_report_options(lang, formats)      # a bad language is refused before anything is read
    results_dir = Path(results_dir)
    ds = open_results(results_dir)
    folder = results_dir if results_dir.is_dir() and results_dir.suffix != ".zarr" \
        else results_dir.parent
    return write_report(ds, folder, lang, formats)


class _CallablePackage(types.ModuleType):
    def __call__(self, results_dir, lang: str = "zh", formats=("html", "md")):
        return write(results_dir, lang, formats)


sys.modules[__name__].__class__ = _CallablePackage
