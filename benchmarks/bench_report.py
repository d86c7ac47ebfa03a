"""Time to write the evaluation report of written results, by step and language.

    .venv/bin/python benchmarks/bench_report.py results/jiaxing_common_prosperity [more ...] [--repeat 3]

For each results folder and language (zh, en), after one warm-up (fonts, caches), writes
the report (HTML and Markdown with figures) into a temporary folder `--repeat` times and
prints the median and fastest wall seconds of: the summaries (`content.summaries` of the
indicators shown), the figures, the whole report content (`build_content`, which includes
both) and `write_report` (content, rendering and atomic writes). Timings are measured,
never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

from microsim.engine.results import open_results
from microsim.report import figures
from microsim.report.build import write_report
from microsim.report.content import build_content, headline_names, labels, settings, summaries


def _timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, nargs="+")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| results | lang | summaries s | figures s | content s | write_report s |")
    print("|---|---|---:|---:|---:|---:|")
    for folder in args.results:
        ds = open_results(folder).load()
        for lang in ("zh", "en"):
            lab = labels(lang)
            st = settings(ds)
            names = headline_names(ds, st, lab) + [t.indicator for t in st.targets]
            names += [n for f in st.report.focus for n in f.indicators]
            names += figures.figure_indicators(ds, lab)
            gaps = [n for f in st.report.focus if f.gap for n in f.indicators]
            sm = summaries(ds, names, gaps)

            def draw():
                with matplotlib.rc_context(figures._style(lang)):
                    for _, _, fn in figures.FIGURES:
                        fn(ds, sm, lang, lab)

            with tempfile.TemporaryDirectory() as tmp:
                write_report(ds, Path(tmp), lang)                      # warm-up
                cells = [_timed(lambda: summaries(ds, names, gaps), args.repeat),
                         _timed(draw, args.repeat),
                         _timed(lambda: build_content(ds, lang), args.repeat),
                         _timed(lambda: write_report(ds, Path(tmp), lang), args.repeat)]
            print(f"| {folder.name} | {lang} | "
                  + " | ".join(f"{m:.2f} (min {lo:.2f})" for m, lo in cells) + " |")


if __name__ == "__main__":
    main()
