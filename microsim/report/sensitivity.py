"""The report's section "Which assumptions drive the answers" (哪些假设决定结论).

Takes: the results, the `sensitivity.json` that `microsim sensitivity` wrote in the same
folder (as a dict; see microsim/sensitivity.py) and the report labels. Gives: a `Section`
with one tornado table per headline indicator: each group of assumptions at its low and high
setting beside the base value, and the swing, largest first. A sensitivity file of another
experiment is not shown (the section says so). A projection's analysis is of its first
simulated year, and the section says so.
"""

from __future__ import annotations

import math

import xarray as xr

from microsim.report.content import Cell, Section, Table, scenario_names, unit_of
from microsim.report.numbers import number


def sensitivity_section(ds: xr.Dataset, data: dict, lang: str, lab: dict) -> Section:
    sec = Section(lab["sensitivity"], key="sensitivity")
    experiment = ds.attrs.get("experiment_name", "")
    if data.get("experiment") != experiment:
        sec.blocks.append(lab["sensitivity_other"].format(experiment=data.get("experiment", "?")))
        return sec
    sec.blocks.append(lab["sensitivity_note"].format(
        scenario=scenario_names(ds, lang).get(data["scenario"], data["scenario"])
        if "scenario" in ds.coords else data["scenario"], households=int(data["households"]),
        replicates=int(data["replicates"]), seed=data["seed"], runs=1 + 2 * len(data["groups"])))
    if ds.attrs.get("projection_years"):
        # `microsim sensitivity` analyses a projection in its first year (docs/sensitivity.md)
        first, last = str(ds.attrs["projection_years"]).split("-")
        sec.blocks.append(lab["sensitivity_projection"].format(first=first, last=last))
    groups = {g["name"]: g for g in data["groups"]}
    for ind, rows in data["tornado"].items():
        info = data["indicators"].get(ind, {})
        name = info.get("long_name_zh" if lang == "zh" else "long_name", ind)
        if ind in ds.data_vars:
            display = unit_of(ds, ind, lab)
            unit, scale = display.label, display.scale
        else:
            unit, scale = info.get("units", ""), 1.0
        table_rows = []
        for r in rows:
            g = groups.get(r["group"], {})
            label = g.get("label_zh" if lang == "zh" else "label", r["group"])
            cells = [Cell(number(_f(r[k]) * scale, 2, lang), numeric=True)
                     for k in ("low", "base", "high", "swing")]
            table_rows.append([Cell(label), Cell(_setting(g)), *cells])
        sec.blocks.append(Table([lab["sensitivity_group"], lab["sensitivity_range"],
                                 lab["sensitivity_low"], lab["sensitivity_base"],
                                 lab["sensitivity_high"], lab["sensitivity_swing"]],
                                table_rows, kind="sensitivity",
                                caption=f"{name}（{unit}）" if lang == "zh" else f"{name} ({unit})"))
    return sec


def _f(v) -> float:
    return float(v) if v is not None else math.nan


def _setting(group: dict) -> str:
    """"×0.8 / ×1.2", "-0.1 / +0.1": the group's settings, parameter by parameter."""
    parts = []
    for p in group.get("parameters", []):
        if p["mode"] == "scale":
            parts.append(f"×{p['low']:g} / ×{p['high']:g}")
        else:
            parts.append(f"{p['low']:+g} / {p['high']:+g}")
    return "; ".join(dict.fromkeys(parts))
