"""Focus tables: the experiment's own question as a table, configured in its `report.focus`.

Takes: the results, their `Summaries`, the experiment's focus tables
(`experiment.FocusTable`: indicators, the dimension the columns are `by` -
status, residence or quintile -, the groups, fixed groups of the other
dimensions, the scenarios, values or paired changes, and for residence the
urban-rural gap) and the report labels. Gives: one `Section` per focus table.

Rows are the indicators, one per scenario (values) or per reform (changes
from the baseline); columns are the groups, each a mean with its 95%
interval. With `gap: true` two more columns give the rural - urban
difference and the rural / urban ratio, summarised replicate by replicate
(`engine.summary.urban_rural`), so their intervals are their own.
"""

from __future__ import annotations

import xarray as xr

from microsim.experiment import FocusTable
from microsim.report.content import (Cell, Section, Settings, Summaries, Table, final_year_title,
                                     fine_digits, group_name, indicator_name, scenario_names, unit_of,
                                     value_cells)
from microsim.report.numbers import digits_for, unit_display


def _rows(ds: xr.Dataset, sm: Summaries, f: FocusTable, groups: list[str], lang: str,
          lab: dict) -> list[list[Cell]]:
    names = scenario_names(ds, lang)
    effects = f.show == "effects"
    scenarios = f.scenarios or [str(s) for s in ds.scenario.values
                                if not effects or str(s) != sm.baseline]
    stats = sm.effects if effects else sm.values
    gaps = sm.gap_effects if effects else sm.gaps
    fixed = {d: getattr(f.select, d) for d in ("residence", "quintile", "status") if d != f.by}
    ratio_display = unit_display("ratio", lab["units"])
    rows = []
    for name in f.indicators:
        display = unit_of(ds, name, lab)
        cells = {sc: [stats.get(name, sc, **{**fixed, f.by: g}) for g in groups]
                 for sc in scenarios}
        if effects or display.digits is not None:
            digits = fine_digits(display)
        else:
            digits = digits_for(display, [t[0] for row in cells.values() for t in row])
        for k, sc in enumerate(scenarios):
            label = lab["change_of"].format(scenario=names[sc]) if effects else names[sc]
            row = [Cell(indicator_name(ds, name, lang) if k == 0 else ""),
                   Cell(display.effect_label if effects else display.label, short=True), Cell(label)]
            row += value_cells(cells[sc], display, lang, signed=effects, digits=digits)
            if f.gap:
                gap_fixed = {d: v for d, v in fixed.items() if d != "residence"}
                diff = gaps.get(f"{name}_difference", sc, **gap_fixed)
                ratio = gaps.get(f"{name}_ratio", sc, **gap_fixed)
                row += value_cells([diff], display, lang, signed=True,
                                   digits=fine_digits(display))
                row += value_cells([ratio], ratio_display, lang, signed=effects)
            rows.append(row)
    return rows


def focus_table(ds: xr.Dataset, sm: Summaries, f: FocusTable, lang: str, lab: dict) -> Section:
    groups = f.groups or [str(g) for g in ds[f.by].values]
    title = f.title_zh if lang == "zh" and f.title_zh else f.title
    sec = Section(final_year_title(title, ds, lab), key="focus")
    note = f.note_zh if lang == "zh" and f.note_zh else f.note
    if note:
        sec.blocks.append(note.strip())
    fixed = [group_name(getattr(f.select, d), lab) for d in ("residence", "quintile", "status")
             if d != f.by and getattr(f.select, d) != "all"]
    if fixed:
        sec.blocks.append(f"{lab['group']}: {' · '.join(fixed)}")
    if f.show == "effects":
        sec.blocks.append(lab["focus_effects"].format(
            baseline=scenario_names(ds, lang)[sm.baseline]))
    columns = [lab["indicator"], lab["unit"], lab["scenario"]] + [group_name(g, lab) for g in groups]
    if f.gap:
        columns += [lab["gap_difference"], lab["gap_ratio"]]
    sec.blocks.append(Table(columns, _rows(ds, sm, f, groups, lang, lab), kind="focus"))
    return sec


def focus_sections(ds: xr.Dataset, sm: Summaries, st: Settings, lang: str,
                   lab: dict) -> list[Section]:
    return [focus_table(ds, sm, f, lang, lab) for f in st.report.focus]
