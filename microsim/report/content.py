"""Report content: what the report says, as plain data, in one language.

Takes: a results Dataset and a language (zh or en). Gives: a `Report` of
sections (paragraphs, tables and figure slots) that the HTML and Markdown
renderers (`render.py`) turn into documents. Numbers are means across
replicates with 95% intervals (`engine.summary`); effects are paired
differences from the baseline scenario; targets come from the experiment.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from microsim.engine.summary import effects, summarize

LABELS_PATH = Path(__file__).with_name("labels.yaml")


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    name: str
    caption: str
    png: bytes = b""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]


CONFIG_KEYS = ("headline_indicators", "protection_indicators", "layer_shares", "funds")


def labels(lang: str) -> dict:
    data = yaml.safe_load(LABELS_PATH.read_text(encoding="utf-8"))
    if lang not in data:
        raise ValueError(f"no labels for language {lang!r}")
    return {**data[lang], **{k: data[k] for k in CONFIG_KEYS}}


@dataclass
class Summaries:
    """Every summary the report needs, computed once."""

    means: xr.Dataset                 # summarize(ds): stat = mean, se, lower, upper
    effects: xr.Dataset | None        # paired effects against the first scenario
    baseline: str


def summaries(ds: xr.Dataset) -> Summaries:
    base = str(ds.scenario.values[0])
    return Summaries(summarize(ds), effects(ds, base) if ds.sizes["scenario"] > 1 else None, base)


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def interval(mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(lo) or not math.isfinite(hi):
        return fmt(mean)
    return f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]"


def scenario_names(ds: xr.Dataset, lang: str) -> dict[str, str]:
    coord = "scenario_label_zh" if lang == "zh" and "scenario_label_zh" in ds.coords else "scenario_label"
    if coord not in ds.coords:
        return {str(s): str(s) for s in ds.scenario.values}
    return {str(s): str(lbl) for s, lbl in zip(ds.scenario.values, ds[coord].values)}


def indicator_name(ds: xr.Dataset, name: str, lang: str) -> str:
    attrs = ds[name].attrs
    return attrs.get("long_name_zh" if lang == "zh" else "long_name", name)


def units(ds: xr.Dataset, name: str, lab: dict) -> str:
    raw = ds[name].attrs.get("units", "")
    return lab.get("units", {}).get(raw, raw)


def _at(da: xr.DataArray, **sel) -> xr.DataArray:
    return da.sel({k: v for k, v in sel.items() if k in da.dims})


def headline(ds: xr.Dataset, sm: Summaries, lang: str, lab: dict) -> Section:
    s, eff, base = sm.means, sm.effects, sm.baseline
    names = scenario_names(ds, lang)
    columns = [lab["indicator"], lab["unit"]] + [names[str(sc)] for sc in ds.scenario.values]
    if eff is not None:
        columns += [lab["effect"].format(baseline=names[base]) + f": {names[str(sc)]}"
                    for sc in eff.scenario.values]
    rows = []
    for name in lab["headline_indicators"]:
        if name not in ds.data_vars:
            continue
        da = _at(s[name], residence="all", quintile="all", status="all")
        row = [indicator_name(ds, name, lang), units(ds, name, lab)]
        for sc in ds.scenario.values:
            v = da.sel(scenario=sc)
            row.append(interval(float(v.sel(stat="mean")), float(v.sel(stat="lower")), float(v.sel(stat="upper"))))
        if eff is not None:
            e = _at(eff[name], residence="all", quintile="all", status="all")
            for sc in eff.scenario.values:
                v = e.sel(scenario=sc)
                row.append(interval(float(v.sel(stat="mean")), float(v.sel(stat="lower")), float(v.sel(stat="upper"))))
        rows.append(row)
    note = lab["headline_note"].format(replicates=ds.sizes["replicate"], baseline=names[base])
    return Section(lab["headline"], [note], [Table(columns, rows)])


def experiment_of(ds: xr.Dataset) -> dict:
    try:
        return yaml.safe_load(ds.attrs.get("experiment", "")) or {}
    except yaml.YAMLError:
        return {}


def target_rows(ds: xr.Dataset, sm: Summaries, lang: str, lab: dict) -> list[list[str]]:
    s = sm.means
    names = scenario_names(ds, lang)
    rows = []
    for t in experiment_of(ds).get("targets") or []:
        name = t["indicator"]
        if name not in ds.data_vars:
            raise ValueError(f"the experiment's target names indicator {name!r}, which the results "
                             "do not have")
        sel = t.get("select") or {}
        label = t.get("label_zh" if lang == "zh" else "label") or indicator_name(ds, name, lang)
        for sc in t.get("scenarios") or [str(x) for x in ds.scenario.values]:
            da = _at(s[name], **{k: sel.get(k, "all") for k in ("residence", "quintile", "status")})
            value = float(da.sel(scenario=sc, stat="mean"))
            goal = float(t["target"])
            kind = t.get("comparison", "at_least")
            if kind == "at_least":
                met = value >= goal
            elif kind == "at_most":
                met = value <= goal
            else:
                met = abs(value - goal) <= float(t.get("tolerance", 0.0))
            where = ", ".join(f"{k}={v}" for k, v in sel.items() if v != "all")
            rows.append([label + (f" ({where})" if where else ""), names[sc], t["document"],
                         f"{lab[kind]} {fmt(goal)}" + (f" ± {fmt(t.get('tolerance', 0.0))}" if kind == "about" else ""),
                         fmt(value), lab["met_yes"] if met and math.isfinite(value) else lab["met_no"]])
    return rows


def targets(ds: xr.Dataset, sm: Summaries, lang: str, lab: dict) -> Section:
    rows = target_rows(ds, sm, lang, lab)
    if not rows:
        return Section(lab["targets"], [lab["targets_none"]])
    columns = [lab["indicator"], "scenario" if lang == "en" else "情景", lab["document"], lab["target"],
               lab["simulated"], lab["met"]]
    return Section(lab["targets"], tables=[Table(columns, rows)])


def methods(ds: xr.Dataset, lang: str, lab: dict) -> Section:
    a = ds.attrs
    sec = Section(lab["methods"])
    sec.paragraphs.append(lab["population_text"].format(
        population=a.get("population", ""), file=Path(a.get("population_file", "")).name,
        households=int(a.get("households", 0)), represented=int(a.get("population_households_represented", 0)),
        persons=int(a.get("persons_per_replicate", 0))))
    policies = json.loads(a.get("policies", "{}"))
    names = scenario_names(ds, lang)
    for sc, info in policies.items():
        files = ", ".join(Path(f).name for f in info.get("files", []))
        title = info.get("policy_zh") if lang == "zh" and info.get("policy_zh") else info.get("policy", "")
        sec.paragraphs.append(f"{names.get(sc, sc)}: {title} ({files})")
    first = next(iter(policies.values()), {})
    rows = [[r["key"], str(r["value"]), r["source"] + (f" — {r['note']}" if r["note"] else "")]
            for r in first.get("sources", [])]
    changed = []
    for sc, info in list(policies.items())[1:]:
        base = {r["key"]: r for r in first.get("sources", [])}
        for r in info.get("sources", []):
            if r["key"] not in base or base[r["key"]]["value"] != r["value"]:
                changed.append([f"{names.get(sc, sc)}: {r['key']}", str(r["value"]),
                                r["source"] + (f" — {r['note']}" if r["note"] else "")])
    if rows:
        sec.tables.append(Table([lab["key"], lab["value"], lab["source"]], rows + changed,
                                caption=lab["policy_sources"]))
    ind_rows = [[indicator_name(ds, n, lang), units(ds, n, lab),
                 ds[n].attrs.get("definition", ""), ds[n].attrs.get("source", "")] for n in ds.data_vars]
    sec.tables.append(Table([lab["indicator"], lab["unit"], "definition" if lang == "en" else "定义",
                             lab["source"]], ind_rows, caption=lab["indicators"]))
    sec.paragraphs.append(lab["replicates_text"].format(replicates=ds.sizes["replicate"], seed=a.get("seed", "")))
    if "quintiles" in a:
        sec.paragraphs.append(lab["quintiles_text"].format(quintiles=a["quintiles"]))
    return sec


def build_content(ds: xr.Dataset, lang: str) -> Report:
    lab = labels(lang)
    a = ds.attrs
    title = f"{a.get('experiment_name', '')}: {lab['title']}"
    subtitle = lab["generated"].format(version=a.get("microsim_version", ""), created=a.get("created", ""))
    if a.get("description"):
        subtitle = f"{a['description']} — {subtitle}"
    from microsim.report.figures import figure_slots
    sm = summaries(ds)
    figures = Section(lab["figures"], figures=figure_slots(ds, sm, lang, lab))
    return Report(lang, title, subtitle, [headline(ds, sm, lang, lab), targets(ds, sm, lang, lab),
                                          figures, methods(ds, lang, lab)])
