"""Report figures: matplotlib charts of a results Dataset, as PNG and SVG, in either language.

Takes: a results Dataset, its `Summaries` (means and 95% intervals across
replicates), a language and the report labels. Gives: `Figure`s (name,
caption, PNG at 300 dpi, SVG, and any labels drawn over each other, which the
tests require to be none):

- `oop_by_quintile`: OOP share of income by income quintile, urban and rural
  panels, one bar per scenario with its interval;
- `protection_by_scenario`: catastrophic spending and impoverishment, one
  panel per indicator, one bar per scenario with its interval;
- `layers_by_quintile`: who pays what, the payers' shares of spending stacked
  by quintile, one panel per scenario;
- `funds_by_scenario`: basic-insurance fund revenue and expenditure by scenario
  (residents' and employees' funds);
- `concentration_curves`: cumulative OOP against cumulative persons ranked by
  income (quintile points), one curve per scenario.

A projection's section "Paths over the years" adds `path_NAME`, one per carried fund
indicator: years on x, one line per scenario with its interval shaded.

Which indicators they show is set in `labels.yaml`; a figure whose
indicators or groups the results lack is left out. Chinese labels are drawn
with an installed Simplified Chinese font, or else the Noto Sans CJK font that
microsim depends on (`report/fonts.py`), so no glyph falls back to an empty box.
Figures are drawn once each (constrained layout, no tight-bbox second pass)
to keep report writing fast.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

import matplotlib
import matplotlib.text

matplotlib.use("Agg")
from matplotlib.figure import Figure as MplFigure  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from microsim.report.fonts import figure_fonts  # noqa: E402
from microsim.report.content import (Figure, Summaries, indicator_name, scenario_names,  # noqa: E402
                                     unit_of)

DPI = 300          # PNG resolution for print; SVG is written beside it
QUINTILES = ["Q1", "Q2", "Q3", "Q4", "Q5"]
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f")
PAYER_COLOURS = ("#1f77b4", "#aec7e8", "#2ca02c", "#98df8a", "#9467bd", "#d62728")


def _style(lang: str) -> dict:
    base = {"font.size": 9, "axes.titlesize": 9, "legend.fontsize": 8, "axes.spines.top": False,
            "axes.spines.right": False, "axes.unicode_minus": False}
    return {**base, "font.family": figure_fonts(lang)}


TOKEN = re.compile(r"[A-Za-z0-9.,%+\-_/'’:;!?=<>≥≤]+|\s+|.")
CLOSING = set("）)，、。：；》”’")
OPENING = set("（(《“‘")


def wrap(text: str, lang: str = "en", width: int = 28) -> str:
    """Break a label into lines of about `width` columns (a Chinese character counts two):
    between words and between Chinese characters, never inside a number or a word, never
    before closing or after opening punctuation."""
    lines, line, used = [], "", 0
    for tok in TOKEN.findall(text):
        w = sum(2 if ord(ch) > 0x2E7F else 1 for ch in tok)
        if (line.strip() and used + w > width and not tok.isspace() and tok not in CLOSING
                and line[-1] not in OPENING):
            lines.append(line.rstrip())
            line, used = "", 0
        if not line and tok.isspace():
            continue
        line += tok
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines) or text


def _new(width: float, height: float) -> MplFigure:
    return MplFigure(figsize=(width, height), dpi=DPI, layout="constrained")


@dataclass(frozen=True)
class Drawing:
    """A drawn figure: PNG at `DPI`, SVG, and the labels that overlap (see `overlapping`)."""

    png: bytes
    svg: bytes
    overlaps: tuple[str, ...]
    texts: tuple[str, ...]     # every label drawn, for the check of the Chinese figures' words


def _render(fig: MplFigure) -> Drawing:
    """Render `fig` to PNG and SVG (text as paths: no font needed to view it) and record
    any labels drawn over each other or outside the figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    png = buf.getvalue()
    problems = overlapping(fig)      # the layout of the PNG just drawn
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "microsim"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return Drawing(png, buf.getvalue(), problems,
                   tuple(t.get_text() for t in drawn_texts(fig)))


def drawn_texts(fig: MplFigure) -> list:
    """The figure's visible, non-empty text artists."""
    return [t for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip() and t.figure is fig]


def overlapping(fig: MplFigure, slack: float = 0.5) -> tuple[str, ...]:
    """Pairs of visible, non-empty labels (titles, tick and axis labels, legend entries,
    annotations) whose boxes intersect by more than `slack` pixels, and labels that leave
    the figure; as readable strings."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    hidden = set()            # labels of ticks outside the view, which are not drawn
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            pad = (hi - lo) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - pad <= tick.get_loc() <= hi + pad:
                    hidden.update({id(tick.label1), id(tick.label2)})
    texts = [t for t in drawn_texts(fig) if id(t) not in hidden]
    boxes = [(t.get_text().replace("\n", " "), t.get_window_extent(renderer)) for t in texts]
    out = []
    page = fig.bbox
    for name, b in boxes:
        if (b.x0 < page.x0 - slack or b.y0 < page.y0 - slack or b.x1 > page.x1 + slack
                or b.y1 > page.y1 + slack):
            out.append(f"{name!r} leaves the figure")
    for i, (a, ba) in enumerate(boxes):
        for c, bc in boxes[i + 1:]:
            w = min(ba.x1, bc.x1) - max(ba.x0, bc.x0)
            h = min(ba.y1, bc.y1) - max(ba.y0, bc.y0)
            if w > slack and h > slack:
                out.append(f"{a!r} overlaps {c!r}")
    return tuple(out)


def _errors(triples: list[tuple[float, float, float]], scale: float = 1.0):
    a = np.array(triples, dtype=float).reshape(-1, 3) * scale
    mean = a[:, 0]
    err = np.vstack([mean - a[:, 1], a[:, 2] - mean])
    return np.nan_to_num(mean), np.where(np.isfinite(err), np.maximum(err, 0.0), 0.0)


def _has_quintiles(ds: xr.Dataset) -> bool:
    return set(QUINTILES) <= {str(q) for q in ds.quintile.values}


def _scenario_legend(fig: MplFigure, ds: xr.Dataset, lang: str, handles) -> None:
    names = scenario_names(ds, lang)
    labels = [wrap(names[str(sc)], lang, 40) for sc in ds.scenario.values]
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 3),
               frameon=False)


def oop_by_quintile(ds, sm: Summaries, lang, lab):
    name = "oop_share_income"
    if name not in ds or not _has_quintiles(ds):
        return None
    residences = [r for r in ("urban", "rural") if r in ds.residence.values] or ["all"]
    scen = [str(s) for s in ds.scenario.values]
    n_s = len(scen)
    fig = _new(4.6 * len(residences) + 0.6, 3.8)
    axes = fig.subplots(1, len(residences), sharey=True, squeeze=False)[0]
    width = 0.8 / n_s
    handles = []
    for ax, res in zip(axes, residences):
        handles = []
        for i, sc in enumerate(scen):
            mean, err = _errors([sm.values.get(name, sc, residence=res, quintile=q)
                                 for q in QUINTILES])
            handles.append(ax.bar(np.arange(5) + (i - (n_s - 1) / 2) * width, mean, width,
                                  yerr=err, capsize=2, color=COLOURS[i % len(COLOURS)],
                                  error_kw={"elinewidth": 0.8}))
        ax.set_xticks(np.arange(5), lab["quintile_ticks"])
        ax.set_title(lab["groups"].get(res, res))
        ax.set_xlabel(lab["quintile"])
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(lab["oop_share_axis"])
    _scenario_legend(fig, ds, lang, handles)
    return _render(fig)


def _grouped(ax, ds, sm: Summaries, names: list[str], ticks: list[str]):
    """Bars of several indicators (groups on x), one bar per scenario with its interval."""
    scen = [str(s) for s in ds.scenario.values]
    n_s = len(scen)
    width = 0.8 / n_s
    handles = []
    for i, sc in enumerate(scen):
        mean, err = _errors([sm.values.get(n, sc) for n in names])
        handles.append(ax.bar(np.arange(len(names)) + (i - (n_s - 1) / 2) * width, mean, width,
                              yerr=err, capsize=2, color=COLOURS[i % len(COLOURS)],
                              error_kw={"elinewidth": 0.8}))
    ax.set_xticks(np.arange(len(names)), ticks)
    ax.grid(axis="y", alpha=0.3)
    return handles


def protection_by_scenario(ds, sm: Summaries, lang, lab):
    """Catastrophic spending (left) and impoverishment for each poverty line (right)."""
    def shown(n):
        return n in sm.values and np.isfinite(sm.values.get(n, sm.baseline)[0])
    che = [n for n in lab["protection_indicators"] if shown(n)]
    lines = json.loads(ds.attrs.get("poverty_line_labels", "{}")) or \
        {n: [f"{n} line", f"{n}线"] for n in json.loads(ds.attrs.get("poverty_lines", "{}"))}
    poor = [f"impoverished_{n}" for n in lines if shown(f"impoverished_{n}")]
    panels = [(names, title) for names, title in ((che, lab["catastrophic"]),
                                                  (poor, lab["impoverishment"])) if names]
    if not panels:
        return None
    # about 1.2 inches a tick, so that wrapped tick labels never touch
    fig = _new(sum(max(4.4, 1.2 * len(n) + 0.8) for n, _ in panels) + 0.6, 3.9)
    axes = fig.subplots(1, len(panels), squeeze=False,
                        width_ratios=[max(len(n), 2) for n, _ in panels])[0]
    handles = []
    for ax, (names, title) in zip(axes, panels):
        if names is che:
            ticks = [wrap(lab["short"].get(n, n), lang, 12) for n in names]
        else:
            k = 1 if lang == "zh" else 0
            ticks = [wrap(lines[n.removeprefix("impoverished_")][k], lang, 12) for n in names]
        handles = _grouped(ax, ds, sm, names, ticks)
        ax.set_title(title)
        ax.set_ylabel(unit_of(ds, names[0], lab).label)
    _scenario_legend(fig, ds, lang, handles)
    return _render(fig)


def layers_by_quintile(ds, sm: Summaries, lang, lab):
    shares = [n for n in lab["layer_shares"] if n in ds]
    if not shares or not _has_quintiles(ds):
        return None
    scen = scenario_names(ds, lang)
    n_s = ds.sizes["scenario"]
    cols = min(n_s, 4)
    rows = -(-n_s // cols)
    fig = _new(3.3 * cols + 0.4, 3.0 * rows + 0.6)
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False)
    for ax in axes.flat[n_s:]:
        ax.set_visible(False)
    handles = []
    for ax, sc in zip(axes.flat, ds.scenario.values):
        bottom = np.zeros(5)
        handles = []
        for i, name in enumerate(shares):
            v = np.nan_to_num([sm.values.get(name, str(sc), quintile=q)[0] for q in QUINTILES])
            handles.append(ax.bar(np.arange(5), v, 0.7, bottom=bottom,
                                  color=PAYER_COLOURS[i % len(PAYER_COLOURS)]))
            bottom += v
        ax.set_xticks(np.arange(5), lab["quintile_ticks"])
        ax.set_title(wrap(scen[str(sc)], lang, 36))
        ax.set_ylim(0, 100)
    for ax in axes[:, 0]:
        ax.set_ylabel(lab["share_of_spending"])
    fig.legend(handles, [lab["payers"].get(n, indicator_name(ds, n, lang)) for n in shares],
               loc="outside lower center", ncol=3, frameon=False)
    return _render(fig)


def funds_by_scenario(ds, sm: Summaries, lang, lab):
    pairs = [(r, e) for r, e in lab["funds"] if r in ds and e in ds]
    pairs = [(r, e) for r, e in pairs
             if np.isfinite(sm.values.get(r, sm.baseline)[0]) and sm.values.get(r, sm.baseline)[0] != 0]
    if not pairs:
        return None
    scen = [str(s) for s in ds.scenario.values]
    names = scenario_names(ds, lang)
    fig = _new(4.4 * len(pairs) + 0.4, 3.6)
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    titles = {"urrbmi": lab["residents_fund"], "uebmi": lab["employees_fund"]}
    x = np.arange(len(scen))
    handles = []
    for ax, (rev, exp_) in zip(axes, pairs):
        display = unit_of(ds, rev, lab)
        handles = []
        for j, (name, colour) in enumerate(((rev, "#2ca02c"), (exp_, "#d62728"))):
            mean, err = _errors([sm.values.get(name, sc) for sc in scen], display.scale)
            handles.append(ax.bar(x + (j - 0.5) * 0.38, mean, 0.38, yerr=err, capsize=3,
                                  color=colour))
        ax.set_xticks(x, [wrap(names[sc], lang, 18) for sc in scen], fontsize=7)
        ax.set_title(titles.get(rev.rsplit("_", 1)[-1], rev))
        ax.set_ylabel(display.label)
        ax.grid(axis="y", alpha=0.3)
    fig.legend(handles, [lab["revenue"], lab["expenditure"]], loc="outside lower center", ncol=2,
               frameon=False)
    return _render(fig)


def concentration_curves(ds, sm: Summaries, lang, lab):
    if "oop_per_person" not in ds or "population" not in ds or not _has_quintiles(ds):
        return None
    fig = _new(5.6, 4.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label=lab["equality"])
    names = scenario_names(ds, lang)
    for i, sc in enumerate(str(s) for s in ds.scenario.values):
        pop = np.array([sm.values.get("population", sc, quintile=q)[0] for q in QUINTILES])
        oop = np.array([sm.values.get("oop_per_person", sc, quintile=q)[0] for q in QUINTILES]) * pop
        x = np.concatenate([[0], np.cumsum(pop) / pop.sum()])
        y = np.concatenate([[0], np.cumsum(oop) / oop.sum()])
        label = wrap(names[sc], lang, 40)
        if "ci_oop" in sm.values:
            label += lab["ci_in_legend"].format(ci=sm.values.get("ci_oop", sc)[0])
        ax.plot(x, y, marker="o", ms=3, color=COLOURS[i % len(COLOURS)], label=label)
    ax.set_xlabel(lab["cumulative_population"])
    ax.set_ylabel(lab["cumulative_oop"])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=7)
    ax.grid(alpha=0.3)
    return _render(fig)


FIGURES = (("oop_by_quintile", "fig_oop_quintile", oop_by_quintile),
           ("protection_by_scenario", "fig_che", protection_by_scenario),
           ("layers_by_quintile", "fig_layers", layers_by_quintile),
           ("funds_by_scenario", "fig_funds", funds_by_scenario),
           ("concentration_curves", "fig_concentration", concentration_curves))


def figure_indicators(ds: xr.Dataset, lab: dict) -> list[str]:
    """The indicators the figures read (summarised with the tables' in one pass)."""
    names = ["oop_share_income", "oop_per_person", "population", "ci_oop"]
    names += list(lab["protection_indicators"]) + list(lab["layer_shares"])
    names += [n for pair in lab["funds"] for n in pair]
    names += [f"impoverished_{line}" for line in json.loads(ds.attrs.get("poverty_lines", "{}"))]
    return [n for n in names if n in ds.data_vars]


def path_figure(ds, sm: Summaries, name: str, lang: str, lab: dict) -> Drawing:
    """One indicator over the years (whole population): a line per scenario with markers,
    its 95% interval shaded; a year without a value leaves a gap in its line."""
    ys = sm.years
    display = unit_of(ds, name, lab)
    fig = _new(7.6, 3.6)
    ax = fig.subplots()
    handles = []
    for i, sc in enumerate(sm.values.scenarios):
        a = np.array([ys.by_year[y].get(name, sc) for y in ys.years], dtype=float) * display.scale
        colour = COLOURS[i % len(COLOURS)]
        (line,) = ax.plot(ys.years, a[:, 0], marker="o", ms=3, color=colour)
        if np.isfinite(a[:, 1:]).any():
            ax.fill_between(ys.years, a[:, 1], a[:, 2], color=colour, alpha=0.18, lw=0)
        handles.append(line)
    ax.set_xticks(ys.years, [str(y) for y in ys.years])
    ax.set_ylabel(display.label)
    ax.set_title(wrap(indicator_name(ds, name, lang), lang, 60))
    ax.grid(alpha=0.3)
    if np.nanmin([ys.by_year[y].get(name, sc)[0] for y in ys.years
                  for sc in sm.values.scenarios] + [np.inf]) < 0:
        ax.axhline(0, color="grey", lw=0.8)
    # beside the plot, one scenario a line: long labels stay whole whatever their number
    names = scenario_names(ds, lang)
    fig.legend(handles, [wrap(names[sc], lang, 26) for sc in sm.values.scenarios],
               loc="outside right upper", frameon=False)
    return _render(fig)


def path_figures(ds: xr.Dataset, sm: Summaries, names: list[str], lang: str,
                 lab: dict) -> list[Figure]:
    """A line figure per indicator followed over the years, skipping one with no value."""
    out = []
    with matplotlib.rc_context(_style(lang)):
        for name in names:
            means = [sm.years.by_year[y].get(name, sc)[0] for y in sm.years.years
                     for sc in sm.values.scenarios]
            if not np.isfinite(means).any():
                continue
            drawn = path_figure(ds, sm, name, lang, lab)
            out.append(Figure(f"path_{name}", lab["fig_path"].format(
                indicator=indicator_name(ds, name, lang), unit=unit_of(ds, name, lab).label),
                drawn.png, drawn.svg, drawn.overlaps, drawn.texts))
    return out


def figure_slots(ds: xr.Dataset, sm: Summaries, lang: str, lab: dict) -> list[Figure]:
    out = []
    with matplotlib.rc_context(_style(lang)):
        for name, caption, draw in FIGURES:
            drawn = draw(ds, sm, lang, lab)
            if drawn is not None:
                out.append(Figure(name, lab[caption], drawn.png, drawn.svg, drawn.overlaps,
                                  drawn.texts))
    return out
