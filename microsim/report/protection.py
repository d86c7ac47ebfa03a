"""Financial protection in the layout of the World Bank's ADePT Health tables.

Takes: a results Dataset, a language and the report labels. Gives: one `Section`
(`protection_section`) with, in reading order:

1. catastrophic payments over the grid of thresholds (`che_grid_*`, `overshoot_grid_*`,
   `mpo_grid_*`): headcount H, overshoot O and mean positive overshoot MPO = O / H with OOP
   as a share of consumption and of income, one table per scenario; and the headcount by
   income quintile (share of consumption), one table per scenario;
2. poverty before and after out-of-pocket spending for every poverty line: headcount, the
   persons pushed below and the normalised gap, per scenario;
3. the paint-drip chart (Wagstaff and van Doorslaer 2003) from the results' drip sample: one
   panel per scenario;
4. winners and losers of each reform against the baseline by income decile: shares of persons
   (and households) whose payments (OOP + household contributions) fall or rise by more than
   the tolerance, and the mean change per household.

Values are means over replicates with 95% intervals (`content.summaries`). A part whose
indicators or sample the results lack is left out; `None` when nothing is there. Labels come
from `labels.yaml` (keys `adept_*`). The figure is drawn at 300 dpi.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from microsim.report.figures import QUINTILES, _has_quintiles  # noqa: E402
from microsim.report.content import (Cell, Figure, Section, Table, group_name,  # noqa: E402
                                     scenario_names, summaries, unit_of, value_cells)

DECILES = [f"d{k}" for k in range(1, 11)]
WL_COLUMNS = ("winners_share", "losers_share", "unchanged_share", "winners_households",
              "losers_households", "payment_change", "oop_change")
DRIP_TOP_LINES = 4.0    # the chart's y axis reaches this many times the highest poverty line


def grid_keys(ds: xr.Dataset) -> list[str]:
    """The threshold keys of the grid in the results ('5', '10', ...), in ascending order."""
    from microsim.metrics.accumulate import threshold_key
    try:
        grid = json.loads(ds.attrs.get("che_grid", "[]"))
    except ValueError:
        grid = []
    return [threshold_key(float(t)) for t in grid if f"che_grid_{threshold_key(float(t))}" in ds]


def line_names(ds: xr.Dataset) -> list[str]:
    return [n for n in json.loads(ds.attrs.get("poverty_lines", "{}"))
            if f"poverty_before_{n}" in ds and f"poverty_after_{n}" in ds]


def protection_indicators(ds: xr.Dataset) -> list[str]:
    """Every indicator the section reads."""
    names = []
    for k in grid_keys(ds):
        names += [f"{m}_grid_{k}{s}" for s in ("", "_income")
                  for m in ("che", "overshoot", "mpo")]
    for n in line_names(ds):
        names += [f"poverty_before_{n}", f"poverty_after_{n}", f"impoverished_{n}",
                  f"poverty_gap_index_before_{n}", f"poverty_gap_index_after_{n}"]
    if ds.sizes.get("scenario", 0) > 1:
        names += [f"{c}{d}" for c in WL_COLUMNS for d in [""] + [f"_{d}" for d in DECILES]]
    return [n for n in names if n in ds.data_vars]


def _row(ds, sm, label: str, names: list[str], scenario: str, lang: str, lab: dict,
         quintile: str = "all") -> list[Cell]:
    """A row of cells: each name's mean and interval (digits chosen per cell's unit)."""
    cells = [Cell(label, short=True)]
    for n in names:
        if n not in sm.values:
            cells.append(Cell("—"))
            continue
        cells += value_cells([sm.values.get(n, scenario, quintile=quintile)],
                             unit_of(ds, n, lab), lang)
    return cells


def grid_tables(ds, sm, scenario: str, lang: str, lab: dict) -> list[Table]:
    keys = grid_keys(ds)
    if not keys:
        return []
    name = scenario_names(ds, lang)[scenario]
    measures = ("che", "overshoot", "mpo")
    columns = [lab["adept_threshold"]] + [
        lab["adept_measure"][m] + lab["adept_of_budget"][b]
        for b in ("consumption", "income") for m in measures]
    rows = [_row(ds, sm, k.replace("p", ".") + "%",
                 [f"{m}_grid_{k}{s}" for s in ("", "_income") for m in measures],
                 scenario, lang, lab) for k in keys]
    tables = [Table(columns, rows, caption=lab["adept_grid_caption"].format(scenario=name),
                    kind="adept_grid")]
    if _has_quintiles(ds):
        columns = [lab["adept_threshold"]] + [group_name(q, lab) for q in QUINTILES] + [
            group_name("all", lab)]
        rows = []
        for k in keys:
            n = f"che_grid_{k}"
            triples = [sm.values.get(n, scenario, quintile=q) for q in QUINTILES + ["all"]]
            rows.append([Cell(k.replace("p", ".") + "%", short=True)]
                        + value_cells(triples, unit_of(ds, n, lab), lang))
        tables.append(Table(columns, rows, kind="adept_grid_quintile",
                            caption=lab["adept_quintile_caption"].format(scenario=name)))
    return tables


def poverty_table(ds, sm, lang: str, lab: dict) -> Table | None:
    lines = line_names(ds)
    if not lines:
        return None
    labels = json.loads(ds.attrs.get("poverty_line_labels", "{}"))
    names = scenario_names(ds, lang)
    k = 1 if lang == "zh" else 0
    columns = [lab["adept_line"], lab["scenario"]] + list(lab["adept_poverty_columns"])
    rows = []
    for line in lines:
        for sc in (str(s) for s in ds.scenario.values):
            cells = _row(ds, sm, labels.get(line, [line, line])[k],
                         [f"poverty_before_{line}", f"poverty_after_{line}",
                          f"impoverished_{line}", f"poverty_gap_index_before_{line}",
                          f"poverty_gap_index_after_{line}"], sc, lang, lab)
            rows.append(cells[:1] + [Cell(names[sc])] + cells[1:])
    return Table(columns, rows, caption=lab["adept_poverty_caption"], kind="adept_poverty")


def winners_table(ds, sm, reform: str, lang: str, lab: dict) -> Table | None:
    if f"winners_share_{DECILES[0]}" not in sm.values:
        return None
    names = scenario_names(ds, lang)
    columns = [lab["adept_decile"]] + list(lab["adept_wl_columns"])
    rows = [_row(ds, sm, lab["adept_decile_label"].format(k=i + 1),
                 [f"{c}_{d}" for c in WL_COLUMNS], reform, lang, lab)
            for i, d in enumerate(DECILES)]
    rows.append(_row(ds, sm, group_name("all", lab), list(WL_COLUMNS), reform, lang, lab))
    return Table(columns, rows, kind="adept_winners", caption=lab["adept_wl_caption"].format(
        scenario=names[reform], baseline=names[str(ds.scenario.values[0])],
        tolerance=f"{float(ds.attrs.get('winners_losers_tolerance_yuan', 1.0)):g}"))


# --- the paint-drip chart ----------------------------------------------------------------------

def drip_points(ds: xr.Dataset, scenario: str) -> dict[str, np.ndarray]:
    """The sample's households ranked by per-capita income before OOP: their cumulative share
    of the sample's persons (x, mid-point), per-capita income before and after the scenario's
    OOP, and their residence code."""
    size = ds["drip_size"].values.astype(float)
    income = ds["drip_income"].values.astype(float)
    oop = ds["drip_oop"].sel(scenario=scenario).values.astype(float)
    weight = ds["drip_weight"].values.astype(float)
    # households with members, a positive weight and finite amounts (a damaged file aside,
    # every household of the sample)
    keep = (size > 0) & (weight > 0) & np.isfinite(income) & np.isfinite(oop) & np.isfinite(weight)
    size = size[keep]
    pre = income[keep] / size
    post = pre - oop[keep] / size
    persons = weight[keep] * size
    order = np.argsort(pre, kind="stable")
    persons, pre, post = persons[order], pre[order], post[order]
    cum = np.cumsum(persons)
    x = (cum - persons / 2) / cum[-1] if cum.size and cum[-1] > 0 else cum
    return {"x": x, "pre": pre, "post": post,
            "residence": ds["drip_residence"].values[keep][order]}


def _number(x) -> float:
    """A finite number, or NaN (a line of a damaged results file)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v if np.isfinite(v) else float("nan")


def paint_drip(ds: xr.Dataset, lang: str, lab: dict):
    """Per-capita income before OOP (the line) and each household's drop to its income after
    OOP (a drip), households ranked by income before OOP; the first poverty line drawn (both
    residences' values where they differ)."""
    needed = ("drip_oop", "drip_size", "drip_income", "drip_weight", "drip_residence")
    if any(n not in ds for n in needed) or ds.sizes.get("drip_household", 0) == 0 \
            or "scenario" not in ds["drip_oop"].dims:
        return None
    from microsim.report.figures import DPI, _render, _style, wrap
    lines = json.loads(ds.attrs.get("poverty_lines", "{}"))
    labels = json.loads(ds.attrs.get("poverty_line_labels", "{}"))
    k = 1 if lang == "zh" else 0
    first = next(iter(lines), None)
    levels = sorted({v for v in (_number(x) for x in lines[first]) if v > 0}) if first else []
    scen = [str(s) for s in ds.scenario.values]
    points = {sc: drip_points(ds, sc) for sc in scen}
    if any(p["pre"].size == 0 for p in points.values()):
        return None
    names = scenario_names(ds, lang)
    with matplotlib.rc_context(_style(lang)):
        cols = min(len(scen), 2)
        rows = -(-len(scen) // cols)
        fig = MplFigure(figsize=(4.2 * cols + 0.4, 3.4 * rows + 0.5), dpi=DPI,
                        layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        for ax in axes.flat[len(scen):]:
            ax.set_visible(False)
        for ax, sc in zip(axes.flat, scen):
            p = points[sc]
            top = DRIP_TOP_LINES * max(levels) if levels else float(np.percentile(p["pre"], 90))
            top = top if top > 0 else 1.0
            drops = p["post"] < p["pre"]
            segments = np.stack([np.column_stack([p["x"][drops], p["pre"][drops]]),
                                 np.column_stack([p["x"][drops], p["post"][drops]])], axis=1)
            ax.add_collection(LineCollection(segments, colors="#d62728", linewidths=0.5,
                                             label=lab["adept_drip_drop"]))
            ax.plot(p["x"], p["pre"], color="black", lw=0.9, label=lab["adept_drip_pre"])
            for i, z in enumerate(levels):
                ax.axhline(z, color="#1f77b4", lw=0.9, ls="--",
                           label=labels.get(first, [first, first])[k] if i == 0 else None)
            low = min(0.0, max(float(p["post"].min()), -top / 4)) if p["post"].size else 0.0
            ax.set_xlim(0, 1)
            ax.set_ylim(low, top)
            ax.set_title(wrap(names[sc], lang, 40))
            ax.set_xlabel(wrap(lab["adept_drip_x"], lang, 44))
            ax.grid(alpha=0.3)
        for ax in axes[:, 0]:
            ax.set_ylabel(lab["adept_drip_y"])
        handles, texts = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, texts, loc="outside lower center", ncol=3, frameon=False)
        return _render(fig)      # PNG at the figures' 300 dpi, SVG, overlapping labels


def protection_section(ds: xr.Dataset, lang: str, lab: dict) -> Section | None:
    """The ADePT-style financial-protection section, or None if the results hold none of it."""
    from microsim.report.content import final_year_title
    names = protection_indicators(ds)
    drip = paint_drip(ds, lang, lab)
    if not names and drip is None:
        return None
    sec = Section(final_year_title(lab["adept_title"], ds, lab), [lab["adept_intro"]],
                  key="protection")
    if names:
        sm = summaries(ds, names)
        for sc in (str(s) for s in ds.scenario.values):
            sec.blocks += grid_tables(ds, sm, sc, lang, lab)
        table = poverty_table(ds, sm, lang, lab)
        if table is not None:
            sec.blocks.append(table)
    if drip is not None:
        n = ds.sizes["drip_household"]
        caption = lab["adept_drip_caption"].format(households=n, top=f"{DRIP_TOP_LINES:g}")
        if ds.attrs.get("simulated_year") is not None:
            caption += lab["adept_drip_first_year"]
        sec.blocks.append(Figure("paint_drip", caption, drip.png, drip.svg, drip.overlaps,
                                 drip.texts))
    if names:
        for reform in [str(s) for s in ds.scenario.values][1:]:
            table = winners_table(ds, sm, reform, lang, lab)
            if table is not None:
                sec.blocks.append(table)
        if ds.sizes["scenario"] > 1 and f"winners_share_{DECILES[0]}" in sm.values:
            sec.blocks.append(lab["adept_wl_note"])
    return sec
