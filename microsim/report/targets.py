"""The targets table: every number a source document sets, beside the simulated value.

Takes: the results, their `Summaries`, the experiment's `targets:` (each an
indicator, the document that sets it, the target, a comparison, and the
scenarios and groups to check it in) and the report labels. Gives: a
`Section` with one row per target, group and scenario: the document, the
target in the indicator's unit, the simulated mean with its 95% interval,
and whether it is met. A value that does not exist (NaN) is neither met nor
missed: the row says why it was not computed. A target the experiment marks
`calibrated` (an input was chosen to reproduce it) is reported as calibrated,
never as met, and counted apart: it validates nothing.

In a projection a target is checked in each of its `years` (default: every simulated
year): the table gains a year column, one row per target, group, scenario and year, each
with its own verdict. A target set only for years the results do not simulate is not
checked; a sentence under the table says so. A one-year run's table has no year column.
"""

from __future__ import annotations

import math

import xarray as xr

from microsim.experiment import Target
from microsim.report.content import (Cell, Section, Settings, Summaries, Table, fine_digits,
                                     group_name, indicator_name, scenario_names, target_years,
                                     unit_of, value_cells)
from microsim.report.years import simulated_years, year_range
from microsim.report.numbers import compact


def verdict(value: float, t: Target) -> bool | None:
    """Met (True), missed (False), or None when the value does not exist. The tolerance
    widens every comparison: at least target - tolerance, at most target + tolerance,
    about within target +/- tolerance."""
    if not math.isfinite(value):
        return None
    if t.comparison == "at_least":
        return value >= t.target - t.tolerance
    if t.comparison == "at_most":
        return value <= t.target + t.tolerance
    return abs(value - t.target) <= t.tolerance


def calibrated_text(t: Target, lang: str) -> str:
    """Why a target is reproduced by construction, in the report's language ('' if it is not)."""
    if not t.calibrated:
        return ""
    return (t.calibrated_zh if lang == "zh" and t.calibrated_zh else t.calibrated).strip()


def target_text(t: Target, display, lab: dict) -> str:
    """"at least 72%", "about 87% (± 1)", "at most 3 months (tolerance 0.5)": the target in
    the unit shown."""
    unit = display.label
    goal = compact(t.target * display.scale)
    goal = f"{goal}{unit}" if unit.startswith("%") else f"{goal} {unit}"
    text = f"{lab[t.comparison]} {goal}"
    if t.tolerance:
        tol = compact(t.tolerance * display.scale)
        text += lab["about_tolerance" if t.comparison == "about" else "tolerance"].format(tol=tol)
    return text


def group_text(cell: dict[str, str], lab: dict) -> str:
    parts = [group_name(v, lab) for v in cell.values() if v != "all"]
    return " · ".join(parts) if parts else group_name("all", lab)


def targets_section(ds: xr.Dataset, sm: Summaries, st: Settings, lang: str, lab: dict) -> Section:
    sec = Section(lab["targets"], key="targets")
    if not st.targets:
        sec.blocks.append(lab["targets_none"])
        return sec
    names = scenario_names(ds, lang)
    projection = sm.years is not None
    simulated = sm.years.years if projection else simulated_years(ds)
    rows, notes, skipped = [], [], []
    counts = {"met": 0, "not_met": 0, "calibrated": 0}
    for t in st.targets:
        display = unit_of(ds, t.indicator, lab)
        label = (t.label_zh if lang == "zh" and t.label_zh else t.label) or \
            indicator_name(ds, t.indicator, lang)
        # A one-year run that does not record its year checks every target in it.
        years = target_years(t, simulated) if simulated else [None]
        if not years:
            skipped.append(lab["targets_not_simulated"].format(
                label=label, years=year_range(sorted(t.years)), simulated=year_range(simulated)))
            continue
        if not projection:
            years = [None]       # the run's own year: no year column
        note = t.note_zh if lang == "zh" and t.note_zh else t.note
        why = calibrated_text(t, lang)
        if why:
            note = (note.strip() + " " if note else "") + lab["calibrated_note"].format(why=why)
        if note:
            notes.append(note)
            label += f" [{len(notes)}]"
        goal = target_text(t, display, lab)
        not_computed_note = None
        for cell in t.select.cells():
            for sc in t.scenarios or [str(s) for s in ds.scenario.values]:
                for year in years:
                    stats = sm.values if year is None else sm.years.by_year[year]
                    triple = stats.get(t.indicator, sc, **cell)
                    # Two decimals for percentages, so that rounding never hides which side
                    # of the target a value is on (98.98 is not 99.0).
                    value = value_cells([triple], display, lang, digits=fine_digits(display))[0]
                    met = verdict(triple[0], t)
                    if met is None:
                        mark = Cell(lab["met_na"], mark="na")
                        if not_computed_note is None:
                            notes.append(lab["not_computed"].format(
                                indicator=indicator_name(ds, t.indicator, lang),
                                reason=ds[t.indicator].attrs.get("nan_reason", "")).strip())
                            not_computed_note = len(notes)
                        mark.text += f" [{not_computed_note}]"
                    elif t.calibrated:
                        # Reproduced by construction: it tests nothing, so it is never "met".
                        mark = Cell(lab["met_calibrated"], mark="calibrated")
                        counts["calibrated"] += 1
                    else:
                        mark = Cell(lab["met_yes"] if met else lab["met_no"],
                                    mark="met" if met else "not_met")
                        counts["met" if met else "not_met"] += 1
                    row = [Cell(label), Cell(group_text(cell, lab), short=True), Cell(names[sc])]
                    if projection:
                        row.append(Cell(str(year), short=True))
                    rows.append(row + [Cell(document_text(t.document, lang), short=True), Cell(goal),
                                       value, mark])
    columns = [lab["indicator"], lab["group"], lab["scenario"]]
    if projection:
        columns.append(lab["year"])
    columns += [lab["document"], lab["target"], lab["simulated"], lab["met"]]
    sec.blocks.append(lab["targets_note"])
    if projection:
        sec.blocks.append(lab["targets_years_note"])
    sec.blocks.append(lab["targets_count"].format(**counts))
    if rows:
        sec.blocks.append(Table(columns, rows, kind="targets"))
    sec.blocks += skipped
    sec.blocks += [f"[{i}] {n.strip()}" for i, n in enumerate(notes, start=1)]
    return sec


def document_text(document: str, lang: str) -> str:
    """The document that sets a target: a seed file's name as it is; in Chinese, an assumption
    is 假设 (its reason, in English, stays in the English report)."""
    if lang == "zh" and document.strip().startswith("assumption"):
        return "假设"
    return document
