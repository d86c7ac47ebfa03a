"""Report content: what the report says, as plain data, in one language.

Takes: a results Dataset and a language (zh or en). Gives: a `Report` whose
sections hold paragraphs, tables and figures in reading order, which the
HTML and Markdown renderers (`render.py`) turn into documents:

1. the question the experiment answers and its scenarios;
2. the headline table: each scenario's mean and 95% interval, and each
   reform's paired change from the baseline, for the key indicators;
   beside it, where the model is weak (`caveats.py`): implausible fund
   balances and loss ratios, indices outside their range, calibrated targets,
   policies of another year than the population;
3. the targets table (`targets.py`): every number a source document sets,
   met or not;
4. the experiment's focus tables (`focus.py`): indicators by status,
   residence (with the urban-rural gap) or income quintile;
5. for a projection (results with a `year` dimension), the paths over the
   years (`paths.py`): the headline indicators and the carried funds, one
   column per year, with a line figure per fund indicator;
6. financial protection in the layout of the ADePT Health tables (`protection.py`):
   catastrophic payments over a grid of thresholds, poverty before and after OOP, the
   paint-drip chart, winners and losers of each reform by income decile;
7. the figures (`figures.py`);
8. methods: population, poverty lines, what each scenario changes and the
   sources of the baseline's parameters, the definitions of the indicators
   shown, replicates and seed.

A projection's tables other than the paths and the targets describe its last
simulated year and say so (`years.py` gives that year as a one-year Dataset);
targets are checked in each of their years and the plausibility checks run on
every year.

Numbers are means across replicates with 95% intervals (`engine.summary`);
changes are paired differences from the baseline, the first scenario. What
the report shows beyond the defaults of `labels.yaml` comes from the
experiment's `report:` and `targets:` sections, kept in the results file.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from microsim.engine.summary import effects, summarize, urban_rural
from microsim.errors import InputError
from microsim.experiment import ReportConfig, Target
from microsim.report.policy_terms import key_zh, value_zh
from microsim.report.numbers import (clip_interval, digits_for, interval, number,
                                     resolving_digits, unit_display)

LABELS_PATH = Path(__file__).with_name("labels.yaml")
CONFIG_KEYS = ("headline_indicators", "protection_indicators", "layer_shares", "funds",
               "paths_funds")
GROUP_DIMS = ("residence", "quintile", "status")
STAT_ORDER = ("mean", "lower", "upper")


@dataclass
class Cell:
    text: str
    interval: str = ""     # "[lower, upper]", printed under (HTML) or after (Markdown) the value
    numeric: bool = False
    mark: str = ""         # "met", "not_met" or "na": the verdict of a target
    short: bool = False    # a unit or group name: kept on one line
    clipped: bool = False  # a bound of the interval was moved to the unit's range (a share's 0-100)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    kind: str = ""         # headline, scenarios, targets, focus, changes, sources, indicators


@dataclass
class Figure:
    name: str
    caption: str
    png: bytes = b""      # 300 dpi, for documents and the HTML page
    svg: bytes = b""      # vector, for print
    overlaps: tuple[str, ...] = ()   # pairs of labels drawn over each other (none expected)
    texts: tuple[str, ...] = ()      # every label drawn in the figure


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)   # str (a paragraph), Table or Figure, in order
    key: str = ""                                 # anchor of the section in HTML

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


@dataclass
class Report:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]


@functools.lru_cache(maxsize=1)
def _labels_file() -> dict:
    return yaml.load(LABELS_PATH.read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def labels(lang: str) -> dict:
    data = _labels_file()
    if lang not in data:
        raise InputError(None, f"no report labels for language {lang!r} (languages: zh, en)")
    return {**data[lang], **{k: data[k] for k in CONFIG_KEYS}}


# --- what the experiment asks of the report ---------------------------------------------------

def target_years(t: Target, simulated: list[int]) -> list[int]:
    """The simulated years a target is checked in: its `years` (default every year)."""
    return list(simulated) if t.years is None else [y for y in simulated if y in t.years]


@dataclass(frozen=True)
class Settings:
    report: ReportConfig
    targets: tuple[Target, ...]


def experiment_of(ds: xr.Dataset) -> dict:
    try:
        return yaml.safe_load(ds.attrs.get("experiment", "")) or {}
    except yaml.YAMLError:
        return {}


def settings(ds: xr.Dataset) -> Settings:
    """The experiment's `report:` and `targets:` sections, as validated when it ran."""
    raw = experiment_of(ds)
    try:
        report = ReportConfig.model_validate(raw.get("report") or {})
        targets = tuple(Target.model_validate(t) for t in raw.get("targets") or [])
    except ValueError as exc:
        raise InputError(None, f"the results' experiment has an invalid report or targets "
                         f"section: {exc}") from None
    return Settings(report, targets)


# --- summaries, computed once, as plain arrays --------------------------------------------------

@dataclass
class Stats:
    """Means and 95% interval bounds of some indicators, as arrays indexed by
    [stat (mean, lower, upper), scenario, residence, quintile, status]; a gap has no residence."""

    arrays: dict[str, np.ndarray]
    index: dict[str, dict[str, int]]   # dim -> label -> position
    scenarios: list[str]

    def get(self, name: str, scenario: str, residence: str = "all", quintile: str = "all",
            status: str = "all") -> tuple[float, float, float]:
        a = self.arrays[name]
        i = self.index
        pos = (i["scenario"][scenario],)
        if "residence" in i:
            pos += (i["residence"][residence],)
        pos += (i["quintile"][quintile], i["status"][status])
        return tuple(float(a[(k,) + pos]) for k in range(3))

    def __contains__(self, name: str) -> bool:
        return name in self.arrays


def stats_of(summary: xr.Dataset, names: list[str]) -> Stats:
    if "year" in summary.dims:
        raise ValueError("stats_of reads one year: select a year of a projection first "
                         "(report.years.in_year)")
    dims = [d for d in ("scenario",) + GROUP_DIMS if d in summary.dims]
    stat_pos = [list(summary.stat.values).index(s) for s in STAT_ORDER]
    arrays = {}
    for name in names:
        var = summary.variables[name]            # the raw variable: no coordinate alignment
        a = np.moveaxis(np.asarray(var.values, dtype=float),
                        [var.dims.index(d) for d in ("stat", *dims)], range(len(dims) + 1))
        arrays[name] = a[stat_pos]
    index = {d: {str(v): k for k, v in enumerate(summary[d].values)} for d in dims}
    return Stats(arrays, index, [str(s) for s in summary.scenario.values])


@dataclass
class Summaries:
    """Every summary the report needs, computed once."""

    values: Stats                 # each scenario
    effects: Stats | None         # each other scenario minus the baseline, paired
    gaps: Stats | None            # NAME_difference and NAME_ratio (rural against urban)
    gap_effects: Stats | None
    baseline: str
    years: "YearStats | None" = None   # a projection: each year's values (years.year_stats)


def summaries(ds: xr.Dataset, names: list[str], gap_names: list[str] = ()) -> Summaries:
    """Summaries of the named indicators only (the report shows a few dozen of ~190)."""
    names = sorted(set(names))
    base = str(ds.scenario.values[0])
    sub = ds[names]
    values = stats_of(summarize(sub), names)
    eff = stats_of(effects(sub, base), names) if ds.sizes["scenario"] > 1 else None
    gaps = gap_eff = None
    if gap_names:
        gap_ds = urban_rural(ds[sorted(set(gap_names))])
        gap_vars = list(gap_ds.data_vars)
        gaps = stats_of(summarize(gap_ds), gap_vars)
        if ds.sizes["scenario"] > 1:
            gap_eff = stats_of(effects(gap_ds, base), gap_vars)
    return Summaries(values, eff, gaps, gap_eff, base)


# --- words -----------------------------------------------------------------------------------

def scenario_names(ds: xr.Dataset, lang: str) -> dict[str, str]:
    coord = "scenario_label_zh" if lang == "zh" and "scenario_label_zh" in ds.coords else "scenario_label"
    if coord not in ds.coords:
        return {str(s): str(s) for s in ds.scenario.values}
    return {str(s): str(lbl) or str(s) for s, lbl in zip(ds.scenario.values, ds[coord].values)}


def indicator_name(ds: xr.Dataset, name: str, lang: str) -> str:
    attrs = ds[name].attrs
    return attrs.get("long_name_zh" if lang == "zh" else "long_name", name)


def group_name(label: str, lab: dict) -> str:
    return lab["groups"].get(label, label)


def unit_of(ds: xr.Dataset, name: str, lab: dict):
    return unit_display(ds[name].attrs.get("units", ""), lab["units"])


def value_cells(triples: list[tuple[float, float, float]], display, lang: str,
                signed: bool = False, digits: int | None = None) -> list[Cell]:
    """Cells of one row: each (mean, lower, upper) scaled to the unit, with common decimals."""
    scaled = [tuple(v * display.scale for v in t) for t in triples]
    if digits is None:
        digits = digits_for(display, [t[0] / display.scale for t in scaled]) \
            if display.digits is None else int(display.digits)
    clipped = []
    for m, lo, hi in scaled:   # levels of a share stay in [0, 100]; changes are not clipped
        lo, hi, moved = (lo, hi, False) if signed else clip_interval(lo, hi, display)
        clipped.append((m, lo, hi, moved))
    digits = resolving_digits([c[:3] for c in clipped], digits)
    return [Cell(number(m, digits, lang, signed), interval(lo, hi, digits, lang, signed), True,
                 clipped=moved)
            for m, lo, hi, moved in clipped]


def fine_digits(display) -> int:
    """Decimals for changes and target checks: 2 for percentages (a change is often a
    fraction of a point), else the unit's."""
    return 2 if display.digits is None else int(display.digits)


def final_year_title(title: str, ds: xr.Dataset, lab: dict) -> str:
    """A section title of a projection's last year says so ("Headline results, 2025 (the last
    simulated year)"); a one-year run's title as it is."""
    year = ds.attrs.get("simulated_year")
    return title if year is None else lab["in_last_year"].format(title=title, year=int(year))


# --- sections --------------------------------------------------------------------------------

def question(ds: xr.Dataset, st: Settings, lang: str, lab: dict) -> Section:
    names = scenario_names(ds, lang)
    sec = Section(lab["question"], key="question")
    if lang == "zh":     # the Chinese report never falls back to the English question
        text = st.report.question_zh or str(ds.attrs.get("description_zh", ""))
    else:
        text = st.report.question or str(ds.attrs.get("description", ""))
    if text.strip():
        sec.blocks.append(text.strip())
    from microsim.report.caveats import year_text
    years = year_text(ds, lang, lab)
    if years:
        sec.blocks.append(years)
    if ds.attrs.get("simulated_year") is not None:
        first, last = str(ds.attrs["projection_years"]).split("-")
        sec.blocks.append(lab["projection_text"].format(first=first, last=last))
    policies = json.loads(ds.attrs.get("policies", "{}"))
    rows = []
    for sc in ds.scenario.values:
        info = policies.get(str(sc), {})
        # a policy schedule: each entry with the year it starts ("2021: ..., 2025: ...")
        entries = [(f"{first}: ", p) for first, p in info["schedule"].items()] \
            if isinstance(info.get("schedule"), dict) else [("", info)]
        sep = "；" if lang == "zh" else "; "
        title = sep.join(start + (p.get("policy_zh") if lang == "zh" and p.get("policy_zh")
                                  else p.get("policy", "")) for start, p in entries)
        files = sep.join(start + " + ".join(Path(f).name for f in p.get("files", []))
                         for start, p in entries)
        rows.append([Cell(names[str(sc)]), Cell(title), Cell(files)])
    sec.blocks.append(Table([lab["scenario"], lab["policy"], lab["files"]], rows,
                            caption=lab["scenarios"], kind="scenarios"))
    return sec


def headline_names(ds: xr.Dataset, st: Settings, lab: dict) -> list[str]:
    if st.report.headline:
        missing = [n for n in st.report.headline if n not in ds.data_vars]
        if missing:
            raise InputError(None, f"the experiment's report.headline names {missing[0]!r}, which "
                             "the results do not have")
        return list(st.report.headline)
    return [n for n in lab["headline_indicators"] if n in ds.data_vars]


def headline(ds: xr.Dataset, sm: Summaries, names_: list[str], lang: str, lab: dict) -> Section:
    names = scenario_names(ds, lang)
    base = sm.baseline
    others = [str(s) for s in ds.scenario.values if str(s) != base]
    columns = [lab["indicator"], lab["unit"], names[base]]
    for sc in others:
        columns += [names[sc], lab["change_of"].format(scenario=names[sc])]
    rows = []
    for name in names_:
        display = unit_of(ds, name, lab)
        triples = [sm.values.get(name, sc) for sc in [base] + others]
        cells = value_cells(triples, display, lang)
        unit = display.label
        if others and display.effect_label != display.label:   # a share's change: in pp / 百分点
            unit = lab["unit_and_change"].format(unit=display.label, change=display.effect_label)
        row = [Cell(indicator_name(ds, name, lang)), Cell(unit, short=True), cells[0]]
        for k, sc in enumerate(others):
            change = value_cells([sm.effects.get(name, sc)], display, lang, signed=True,
                                 digits=fine_digits(display))[0]
            row += [cells[k + 1], change]
        rows.append(row)
    n = ds.sizes["replicate"]
    note = lab["headline_note"].format(replicates=n, baseline=names[base])
    if n < 2:
        note += " " + lab["headline_one_replicate"]
    return Section(final_year_title(lab["headline"], ds, lab),
                   [note, Table(columns, rows, kind="headline")], key="headline")


def _value_text(value, lang: str = "en") -> str:
    if value is None:                    # a key set to nothing: no such rule
        return "不设" if lang == "zh" else "none"
    words = value_zh(value) if lang == "zh" else None
    if words is not None:
        return words
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, list):
        return ", ".join(_value_text(v, lang) for v in value)
    return str(value)


def _source_text(r: dict, lang: str = "en") -> str:
    """Where a value comes from. In Chinese: the kind of source (假设, 校准) or the cited
    file, and the Chinese note; the English description of a reference line stays in the
    English report."""
    if lang != "zh":
        return r["source"] + (f" — {r['note']}" if r.get("note") else "")
    source = str(r["source"]).strip()
    if source == "assumption":
        text = "假设"
    elif source.startswith("calibration ") and "(" in source:
        text = f"校准：`{source[source.index('(') + 1:source.rindex(')')]}`"
    else:
        text = f"`{source.split(' (')[0].strip()}`"
    return text + (f" — {r['note_zh']}" if r.get("note_zh") else "")


def _key_text(key: str, lang: str) -> str:
    return key_zh(key) if lang == "zh" else key


def policy_in_force(info: dict, year: int | None) -> dict:
    """A scenario's policy record (results' `policies`) in force in `year`: the entry of its
    schedule that started last at or before it; the record itself without a schedule or year."""
    schedule = info.get("schedule") if isinstance(info, dict) else None
    if year is None or not isinstance(schedule, dict):
        return info
    started = [int(k) for k in schedule if int(k) <= int(year)]
    return schedule[str(max(started))] if started else info


def uprating_text(ds: xr.Dataset, lab: dict) -> str:
    """How the population reached the simulated years: moved from its spec's year by index
    series, aged with a demography file in a projection ('' when every simulated year is the
    population's own, or the results do not record it)."""
    from microsim.report.years import year_range

    a = ds.attrs
    try:
        years = [int(y) for y in json.loads(a.get("years", "[]"))]
        base = int(a["population_year"])
    except (KeyError, TypeError, ValueError):
        return ""
    moved = [y for y in years if y != base]
    if not moved or not a.get("index_series"):
        return ""
    text = lab["uprating_text"].format(base=base, years=year_range(moved),
                                       file=Path(str(a["index_series"])).name)
    if a.get("demography"):
        text += lab["demography_text"].format(file=Path(str(a["demography"])).name)
    return text


def methods(ds: xr.Dataset, shown: list[str], lang: str, lab: dict) -> Section:
    a = ds.attrs
    sec = Section(lab["methods"], key="methods")
    population = a.get("population", "")
    if lang == "zh":        # the spec's English name stays in the English report
        population = a.get("population_region_zh") or lab["population_unnamed"]
    template = lab["population_text"] if a.get("population_households_represented") else lab["microdata_text"]
    sec.blocks.append(template.format(
        population=population, file=Path(a.get("population_file", "")).name,
        households=int(a.get("households", 0)),
        represented=int(a.get("population_households_represented", 0)),
        persons=int(a.get("persons_per_replicate", 0))))
    lines = json.loads(a.get("poverty_lines", "{}"))
    line_labels = json.loads(a.get("poverty_line_labels", "{}"))
    if lines:
        k = 1 if lang == "zh" else 0
        text = "; ".join(f"{line_labels.get(n, [n, n])[k]} {number(u, 0, lang)} / {number(r, 0, lang)}"
                         for n, (u, r) in lines.items())
        sec.blocks.append(lab["lines_text"].format(lines=text))
    sec.blocks.append(lab["replicates_text"].format(replicates=ds.sizes["replicate"],
                                                    seed=a.get("seed", "")))
    sec.blocks.append(lab["intervals_cover"])
    if a.get("simulated_year") is not None:
        first, last = str(a["projection_years"]).split("-")
        sec.blocks.append(lab["projection_methods"].format(first=first, last=last))
    uprated = uprating_text(ds, lab)
    if uprated:
        sec.blocks.append(uprated)
    sec.blocks.append(lab["quintiles_text"])
    sec.blocks.append(lab["nan_text"])
    policies = {sc: policy_in_force(info, a.get("simulated_year"))
                for sc, info in json.loads(a.get("policies", "{}")).items()}
    names = scenario_names(ds, lang)
    scen = list(policies)
    if scen and a.get("simulated_year") is not None:
        sec.blocks.append(lab["policies_of_year"].format(year=int(a["simulated_year"])))
    if scen:
        first = {r["key"]: r for r in policies[scen[0]].get("sources", [])}
        changed = []
        for sc in scen[1:]:
            rows = {r["key"]: r for r in policies[sc].get("sources", [])}
            for key in sorted(set(first) | set(rows)):
                b, r = first.get(key), rows.get(key)
                if b is not None and r is not None and b["value"] == r["value"]:
                    continue
                changed.append([Cell(names.get(sc, sc)), Cell(_key_text(key, lang)),
                                Cell(_value_text(b["value"], lang) if b else "—"),
                                Cell(_value_text(r["value"], lang) if r else lab["removed"]),
                                Cell(_source_text(r, lang) if r else _source_text(b, lang))])
        if changed:
            sec.blocks.append(Table([lab["scenario"], lab["key"], lab["baseline_value"],
                                     lab["scenario_value"], lab["source"]], changed,
                                    caption=lab["changes"], kind="changes"))
        elif len(scen) > 1:
            sec.blocks.append(lab["changes_none"])
        rows = [[Cell(_key_text(key, lang)), Cell(_value_text(r["value"], lang)),
                 Cell(_source_text(r, lang))] for key, r in first.items()]
        if rows:
            sec.blocks.append(Table([lab["key"], lab["value"], lab["source"]], rows,
                                    caption=lab["policy_sources"], kind="sources"))
    rows, works = [], []
    for n in shown:
        attrs = ds[n].attrs
        if lang == "zh":     # the Chinese definition; why a value is missing is said once above
            definition = attrs.get("definition_zh", "") or lab["definition_missing"]
            source = attrs.get("source_zh", "")
            if not source and attrs.get("source"):
                # a published work is cited as published, in the list of works below
                if attrs["source"] not in works:
                    works.append(attrs["source"])
                source = lab["work_ref"].format(n=works.index(attrs["source"]) + 1)
        else:
            definition = attrs.get("definition", "")
            if attrs.get("nan_reason"):
                definition += f" ({attrs['nan_reason']})"
            source = attrs.get("source", "")
        rows.append([Cell(indicator_name(ds, n, lang)), Cell(f"`{n}`" if lang == "zh" else n),
                     Cell(unit_of(ds, n, lab).label, short=True), Cell(definition), Cell(source)])
    sec.blocks.append(Table([lab["indicator"], lab["code"], lab["unit"], lab["definition"],
                             lab["source"]], rows, caption=lab["indicators"], kind="indicators"))
    if works:
        sec.blocks.append(Table(["", lab["work"]], [[Cell(f"[{i}]", short=True), Cell(w)]
                                                   for i, w in enumerate(works, start=1)],
                                caption=lab["works"], kind="works"))
    return sec


def build_content(ds: xr.Dataset, lang: str, sensitivity: dict | None = None) -> Report:
    """The report of `ds` in `lang`. A projection's tables and figures describe its last
    year (and say so), its targets are checked in each of their years, its plausibility
    checks run in every year, and a section follows the indicators over the years."""
    from microsim.report.figures import figure_indicators, figure_slots
    from microsim.report.focus import focus_sections
    from microsim.report.caveats import caveat_indicators, caveats_section
    from microsim.report.paths import path_indicators, paths_section
    from microsim.report.targets import targets_section
    from microsim.report.years import in_year, is_projection, last_year, year_stats

    lab = labels(lang)
    st = settings(ds)
    full = ds
    if is_projection(ds):
        ds = in_year(full, last_year(full))
    head = headline_names(ds, st, lab)
    for t in st.targets:
        if t.indicator not in ds.data_vars:
            raise InputError(None, f"the experiment's target names indicator {t.indicator!r}, "
                             "which the results do not have")
    focus_names = [n for f in st.report.focus for n in f.indicators]
    for n in focus_names:
        if n not in ds.data_vars:
            raise InputError(None, f"the experiment's focus table names indicator {n!r}, which "
                             "the results do not have")
    gap_names = [n for f in st.report.focus if f.gap for n in f.indicators]
    shown = list(dict.fromkeys(head + [t.indicator for t in st.targets] + focus_names))
    sm = summaries(ds, shown + figure_indicators(ds, lab) + caveat_indicators(ds), gap_names)
    path_head, path_funds = path_indicators(ds, head, lab) if is_projection(full) else ([], [])
    sm.years = year_stats(full, path_head + path_funds + [t.indicator for t in st.targets]
                          + caveat_indicators(ds))

    a = ds.attrs
    if lang == "zh":         # the experiment's name is a code: a Chinese title goes without it
        title = st.report.title_zh or lab["title"]
    else:
        title = st.report.title or f"{a.get('experiment_name', '')}: {lab['title']}"
    subtitle = lab["generated"].format(version=a.get("microsim_version", ""),
                                       revision=str(a.get("git_revision", ""))[:10],
                                       created=a.get("created", ""))
    sections = [question(ds, st, lang, lab), headline(ds, sm, head, lang, lab),
                caveats_section(ds, sm, st, lang, lab), targets_section(ds, sm, st, lang, lab)]
    if sm.years is not None:
        sections.append(paths_section(ds, sm, path_head, path_funds, lang, lab))
    if sensitivity is not None:
        from microsim.report.sensitivity import sensitivity_section
        sections.append(sensitivity_section(ds, sensitivity, lang, lab))
    sections += focus_sections(ds, sm, st, lang, lab)
    from microsim.report.protection import protection_section
    protection = protection_section(ds, lang, lab)
    if protection is not None:
        sections.append(protection)
    sections.append(Section(final_year_title(lab["figures"], ds, lab),
                            list(figure_slots(ds, sm, lang, lab)), key="figures"))
    sections.append(methods(ds, shown + path_funds, lang, lab))
    if any(c.clipped for sec in sections for t in sec.tables for row in t.rows for c in row):
        sections[1].blocks.insert(1, lab["intervals_clipped"])   # once, under the headline note
    return Report(lang, title, subtitle, sections)
