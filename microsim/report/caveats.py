"""Where the model is weak: the report's plausibility section, beside the headline it qualifies.

Takes: a results Dataset, the summaries of its indicators (means over replicates), the
experiment's targets and the bands of `plausibility.yaml`. Gives: the list of `Flag`s (each
a problem with its number, the band it leaves and what it means) and the report `Section`
that lists them, or says that nothing is flagged. Four kinds of problem:

- `band`: a basic fund's balance of the year, or the 惠民保 loss ratio, outside the band a
  credible result lies in, or a carried closing balance below zero (a fund that runs out;
  checked for every scenario in the whole population);
- `range`: an indicator outside the range its definition allows (concentration and
  Erreygers indices in [-1, 1], Gini in [0, 1], shares in [0, 100]; every scenario and
  group), a defect of the model rather than a finding;
- `calibrated`: a target the experiment reproduces by construction (`calibrated:`), which
  therefore validates nothing;
- `year`: a scenario whose policy is of another year than the year it is applied in. Results
  that record their simulated years (`years`) have a population moved to each simulated year
  by index series, so a policy is compared with the simulated year (in a projection, year by
  year: a policy kept unchanged from 2021 applies 2021 amounts in 2022-2025); older results
  compare it with the population's year, and flag `experiment_year`, an experiment whose
  `year:` is not its population's (those engines simulated the population's year).

In a projection, bands and ranges are checked in every simulated year and each flag names
its year ("URRBMI fund balance -8% of revenue in 2024"); calibrated targets are stated with
the value of the last year.

Bands, ranges and their sources live in `plausibility.yaml`, never here.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from microsim.report.content import (Cell, Section, Settings, Summaries, Table, experiment_of,
                                     fine_digits, indicator_name, scenario_names, unit_of)
from microsim.report.numbers import compact, number
from microsim.report.years import year_range

PLAUSIBILITY_PATH = Path(__file__).with_name("plausibility.yaml")


@functools.lru_cache(maxsize=1)
def plausibility() -> dict:
    """The bands and ranges of `plausibility.yaml`."""
    return yaml.safe_load(PLAUSIBILITY_PATH.read_text(encoding="utf-8"))


def _bound(b) -> float:
    return float(b["value"] if isinstance(b, dict) else b)


@dataclass(frozen=True)
class Flag:
    kind: str                  # band, range, calibrated, year
    indicator: str = ""
    scenario: str = ""
    group: str = ""            # "residence/quintile/status" of a range flag; "" for all
    value: float = math.nan    # the simulated mean
    lower: float = math.nan
    upper: float = math.nan
    band: str = ""             # the band's name in plausibility.yaml
    detail: str = ""           # calibrated: why (English); year: "POLICY_YEAR/POPULATION_YEAR"
    detail_zh: str = ""        # calibrated: why (Chinese)
    year: int | None = None    # band and range flags of a projection: the year checked


def _names(ds: xr.Dataset, rule: dict) -> list[str]:
    indicators = [n for n in ds.data_vars if "replicate" in ds[n].dims]   # not the drip sample
    names = [n for n in indicators if any(fnmatch.fnmatchcase(str(n), p)
                                          for p in rule.get("indicators", []))]
    names += [n for n in indicators if ds[n].attrs.get("units") in rule.get("units", [])]
    return sorted(set(map(str, names)))


def caveat_indicators(ds: xr.Dataset) -> list[str]:
    """Every indicator a band or range checks (their summaries are needed)."""
    conf = plausibility()
    return sorted({n for rule in conf["bands"] + conf["ranges"] for n in _names(ds, rule)})


def policy_years(ds: xr.Dataset) -> tuple[int | None, dict[str, int]]:
    """(the population's year, each scenario's policy year) as the results record them;
    None and {} for results written before they recorded years."""
    a = ds.attrs
    try:
        policies = json.loads(a.get("policies", "{}"))
    except ValueError:
        policies = {}
    years = {s: int(p["year"]) for s, p in policies.items()
             if isinstance(p, dict) and isinstance(p.get("year"), int)}
    population = a.get("population_year", experiment_of(ds).get("year"))
    return (int(population) if population is not None else None), years


def simulated_policy_years(ds: xr.Dataset) -> tuple[list[int], dict[str, dict[int, int]]] | None:
    """(the simulated years, each scenario's policy year in each of them) for results that
    record their years (`years`, and a policy schedule's entries under `schedule`); None for
    results written before."""
    a = ds.attrs
    try:
        years = [int(y) for y in json.loads(a["years"])]
        policies = json.loads(a.get("policies", "{}"))
    except (KeyError, TypeError, ValueError):
        return None
    by_scenario = {}
    for sc, p in policies.items():
        if not isinstance(p, dict):
            continue
        schedule = p.get("schedule") if isinstance(p.get("schedule"), dict) else {}
        by_year = {}
        for y in years:
            record = p
            started = [int(k) for k in schedule if int(k) <= y]
            if started:
                record = schedule[str(max(started))]
            if isinstance(record.get("year"), int):
                by_year[y] = record["year"]
        by_scenario[str(sc)] = by_year
    return years, by_scenario


def other_year_policies(ds: xr.Dataset) -> list[tuple[str, int, list[int]]] | None:
    """(scenario, policy year, the simulated years it applies in) for every policy applied in
    another year than its own; None for results that do not record their years."""
    recorded = simulated_policy_years(ds)
    if recorded is None:
        return None
    out = []
    for sc, by_year in recorded[1].items():
        groups: dict[int, list[int]] = {}
        for y, policy_year in by_year.items():
            if policy_year != y:
                groups.setdefault(policy_year, []).append(y)
        out += [(sc, policy_year, ys) for policy_year, ys in groups.items()]
    return out


def experiment_year(ds: xr.Dataset) -> int | None:
    """The experiment's `year:` as the results record it (None when they do not)."""
    year = ds.attrs.get("year", experiment_of(ds).get("year"))
    try:
        return int(year) if year is not None else None
    except (TypeError, ValueError):
        return None


def find_flags(ds: xr.Dataset, sm: Summaries, st: Settings) -> list[Flag]:
    """Every problem the report must state, in the order of the section."""
    conf = plausibility()
    scenarios = [str(s) for s in ds.scenario.values]
    flags: list[Flag] = []
    others = other_year_policies(ds)
    if others is not None:
        # the population is moved to each simulated year: a policy meets the year it runs in
        flags += [Flag("year", scenario=sc, detail=f"{policy_year}/{year_range(ys)}")
                  for sc, policy_year, ys in others]
    else:
        pop_year, years = policy_years(ds)
        exp_year = experiment_year(ds)
        if pop_year is not None and exp_year is not None and exp_year != pop_year:
            flags.append(Flag("experiment_year", detail=f"{exp_year}/{pop_year}"))
        for sc in scenarios:
            if pop_year is not None and sc in years and years[sc] != pop_year:
                flags.append(Flag("year", scenario=sc, detail=f"{years[sc]}/{pop_year}"))
    # one-year run: its summaries; projection: each year's
    checked = [(None, sm.values)] if sm.years is None else \
        [(y, sm.years.by_year[y]) for y in sm.years.years]
    for rule in conf["bands"]:
        lo, hi = _bound(rule["lower"]), _bound(rule["upper"])
        for name in _names(ds, rule):
            for sc in scenarios:
                for year, stats in checked:
                    value = stats.get(name, sc)[0]
                    if math.isfinite(value) and not lo <= value <= hi:
                        flags.append(Flag("band", name, sc, "", value, lo, hi, rule["name"],
                                          year=year))
    rounding = _bound(conf["range_rounding"])
    for rule in conf["ranges"]:
        lo, hi = float(rule["lower"]), float(rule["upper"])
        for name in _names(ds, rule):
            for year, stats in checked:
                if name in stats:
                    flags += _range_flags(stats, name, lo, hi, rule["name"], year, rounding)
    for t in st.targets:
        if t.calibrated:
            for sc in t.scenarios or scenarios:
                for cell in t.select.cells():
                    value = sm.values.get(t.indicator, sc, **cell)[0]
                    group = "/".join(v for v in cell.values() if v != "all")
                    flags.append(Flag("calibrated", t.indicator, sc, group, value, t.target,
                                      t.target, detail=t.calibrated.strip(),
                                      detail_zh=(t.calibrated_zh or "").strip()))
    return flags


def _range_flags(stats, name: str, lo: float, hi: float, rule: str, year: int | None,
                 rounding: float = 0.0) -> list[Flag]:
    """The value furthest outside [lo, hi] over the groups, one flag per scenario; a value
    within `rounding` of a bound (relative, absolute below 1) is on it."""
    means = stats.arrays[name][0]        # [scenario, residence, quintile, status]
    outside = np.isfinite(means) & ((means < lo - rounding * max(1.0, abs(lo)))
                                    | (means > hi + rounding * max(1.0, abs(hi))))
    if not outside.any():
        return []
    flags = []
    dims = [d for d in ("residence", "quintile", "status") if d in stats.index]
    labels = {d: {v: key for key, v in stats.index[d].items()} for d in dims}
    for k, sc in enumerate(stats.scenarios):
        bad = outside[k]
        if not bad.any():
            continue
        distance = np.where(bad, np.maximum(lo - means[k], means[k] - hi), -np.inf)
        pos = np.unravel_index(int(np.argmax(distance)), distance.shape)
        group = "/".join(labels[d][p] for d, p in zip(dims, pos))
        flags.append(Flag("range", name, sc, group, float(means[k][pos]), lo, hi, rule,
                          year=year))
    return flags


def year_text(ds: xr.Dataset, lang: str, lab: dict) -> str:
    """The opening's sentence on years: which scenarios apply a policy of another year than
    the population's, or that every policy is of the population's year ('' when unknown).
    A projection says which scenarios apply a policy of another year in which years."""
    recorded = simulated_policy_years(ds)
    if recorded is not None:
        simulated, _ = recorded
        names = scenario_names(ds, lang)
        others = other_year_policies(ds)
        if len(simulated) > 1:
            if not others:
                return lab["years_projection_same"]
            sep = "；" if lang == "zh" else "; "
            return lab["years_projection_mixed"].format(list=sep.join(
                lab["years_projection_item"].format(scenario=names.get(sc, sc), policy=p,
                                                    years=year_range(ys))
                for sc, p, ys in others))
        population = ds.attrs.get("population_year")
        moved = (lab["years_uprated"].format(population=int(population), year=simulated[0])
                 if population is not None and int(population) != simulated[0] else "")
        if not others:
            return lab["years_simulated_same"].format(year=simulated[0]) + moved
        sep = "；" if lang == "zh" else "; "
        return lab["years_simulated_mixed"].format(year=simulated[0], list=sep.join(
            lab["years_item"].format(scenario=names.get(sc, sc), year=p)
            for sc, p, _ in others)) + moved
    pop_year, years = policy_years(ds)
    if pop_year is None or not years:
        return ""
    names = scenario_names(ds, lang)
    other = [(names[s], y) for s, y in years.items() if y != pop_year]
    if not other:
        text = lab["years_same"].format(year=pop_year)
    else:
        sep = "；" if lang == "zh" else "; "
        text = lab["years_mixed"].format(
            year=pop_year, list=sep.join(lab["years_item"].format(scenario=n, year=y)
                                          for n, y in other))
    exp_year = experiment_year(ds)
    if exp_year is not None and exp_year != pop_year:
        text += lab["years_experiment"].format(year=exp_year, population=pop_year)
    return text


def caveats_section(ds: xr.Dataset, sm: Summaries, st: Settings, lang: str, lab: dict) -> Section:
    """The section "Where the model is weak": one row per flag, or a sentence saying none."""
    conf = plausibility()
    sec = Section(lab["caveats"], key="caveats")
    flags = find_flags(ds, sm, st)
    names = scenario_names(ds, lang)
    bands = {b["name"]: b for b in conf["bands"]}
    if not flags:
        sec.blocks.append(lab["caveats_none"])
    else:
        rows = []
        merged: dict[tuple, list] = {}    # band and range flags: one row for every scenario
        seen: dict[tuple, dict] = {}      # a projection's row: scenario -> its values by year
        sep = "；" if lang == "zh" else "; "
        colon = "：" if lang == "zh" else ": "
        for f in flags:
            if f.kind == "experiment_year":
                exp_year, pop_year = f.detail.split("/")
                rows.append([Cell(lab["caveat_experiment_year"]), Cell(""),
                             Cell(lab["caveat_experiment_year_value"].format(year=exp_year)),
                             Cell(lab["caveat_year_band"].format(population=pop_year), short=True),
                             Cell(lab["caveat_experiment_year_means"].format(
                                 year=exp_year, population=pop_year))])
                continue
            if f.kind == "year":
                policy_year, pop_year = f.detail.split("/")
                means = "caveat_year_means_projection" if sm.years is not None \
                    else "caveat_year_means"
                rows.append([Cell(lab["caveat_year"]), Cell(names[f.scenario]),
                             Cell(lab["caveat_year_value"].format(policy=policy_year)),
                             Cell(lab["caveat_year_band"].format(population=pop_year), short=True),
                             Cell(lab[means].format(policy=policy_year, population=pop_year))])
                continue
            display = unit_of(ds, f.indicator, lab)
            value = number(f.value * display.scale, fine_digits(display), lang) + _sp(display.label)
            what = indicator_name(ds, f.indicator, lang)
            if f.kind == "calibrated":
                if f.group:
                    what += f" ({f.group})"
                why = f.detail_zh if lang == "zh" and f.detail_zh else f.detail
                rows.append([Cell(lab["caveat_calibrated"]), Cell(names[f.scenario]),
                             Cell(f"{what}{colon}{value}"),
                             Cell(compact(f.lower * display.scale) + _sp(display.label), short=True),
                             Cell(lab["caveat_calibrated_means"].format(why=why))])
                continue
            key = (f.kind, f.indicator, f.band)
            if key not in merged:
                if f.kind == "band":
                    kind, meaning = lab["caveat_band"], bands[f.band]["meaning"][lang]
                else:
                    kind, meaning = lab["caveat_range"], lab["caveat_range_means"]
                band = band_text(f.lower, f.upper, display.label)
                merged[key] = [Cell(kind), Cell(""), Cell(what), Cell(band, short=True),
                               Cell(meaning)]
                rows.append(merged[key])
                seen[key] = {}
            row = merged[key]
            item = value + (f" ({f.group})" if f.group else "")
            if f.year is None:
                row[1].text += (sep if row[1].text else "") + names[f.scenario]
                row[2].text += (sep if row[2].text != what else colon) + item
                continue
            # A projection: "scenario: value in 2024, value in 2025; other scenario: ...".
            item = lab["caveat_in_year"].format(value=item, year=f.year)
            items = seen[key]
            items.setdefault(f.scenario, []).append(item)
            row[1].text = sep.join(names[sc] for sc in items)
            comma = "，" if lang == "zh" else ", "
            by_scenario = [(names[sc] + colon if len(items) > 1 else "") + comma.join(its)
                           for sc, its in items.items()]
            row[2].text = what + colon + sep.join(by_scenario)
        sec.blocks.append(lab["caveats_intro"].format(n=len(rows)))
        sec.blocks.append(Table([lab["caveat_problem"], lab["scenario"], lab["caveat_value"],
                                 lab["caveat_band_col"], lab["caveat_means"]], rows,
                                kind="caveats"))
    sec.blocks.append(lab["caveats_sources"].format(sources=_sources(conf, lang)))
    return sec


def _sp(unit: str) -> str:
    return unit if unit.startswith("%") else f" {unit}"


def band_text(lower: float, upper: float, unit: str = "") -> str:
    """"-5 .. 30%", or "≥ 0" / "≤ 100" for a band open on one side."""
    if math.isinf(upper) and math.isinf(lower):
        return ""
    if math.isinf(upper):
        return f"≥ {compact(lower)}{_sp(unit) if unit else ''}"
    if math.isinf(lower):
        return f"≤ {compact(upper)}{_sp(unit) if unit else ''}"
    return f"{compact(lower)} .. {compact(upper)}{_sp(unit) if unit else ''}"


def _sources(conf: dict, lang: str) -> str:
    parts = []
    for b in conf["bands"]:
        rule = b.get("rule", {})
        if lang == "zh":
            quote = f"（{rule['source']}：“{rule['quote']}”）" if rule else ""
        else:
            quote = f" ({rule['source']}: {rule['quote']})" if rule else ""
        name = b.get("label", {}).get(lang, b["name"])
        parts.append(f"{name} {band_text(_bound(b['lower']), _bound(b['upper']))}{quote}")
    return ("；" if lang == "zh" else "; ").join(parts)
