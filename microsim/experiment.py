"""The experiment: what to simulate, validated, with every path resolved.

Takes: an `experiment.yaml` path. Gives: an `Experiment` (frozen pydantic model)
whose population spec, policies and reform overlays are loaded and validated,
so that a run never starts on an input it would later refuse. Paths in the
file are relative to the experiment file.

    name: quickstart
    population: {spec: ../populations/china_2023.yaml, households: 100000}
    # or microdata in the Parquet schema of microsim/population/microdata.py, with the
    # spec that supplies health use and poverty lines:
    # population: {microdata: ../data/lishui_extract, spec: ../populations/zhejiang_lishui_2020.yaml}
    year: 2023          # the first (or only) simulated year
    # until: 2027       # a projection: every year from `year` to `until` (docs/years.md)
    scenarios:
      - {name: baseline, policy: ../policies/china/national_2023.yaml}
      - {name: reform, policy: ../policies/china/national_2023.yaml,
         reforms: [../policies/reforms/raise_resident_inpatient_rates.yaml]}
    replicates: 2
    seed: 20231
    groups: [residence, quintile, status]
    output: ../results/quickstart
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from microsim import codes
from microsim.errors import InputError
from microsim.paths import kind, regular_file, resolve
from microsim.population.demography import Demography, load_demography
from microsim.population.microdata import Microdata, open_microdata
from microsim.population.spec import PopulationSpec, load_population_spec
from microsim.population.uprate import IndexSeries, Uprating, load_index_series, uprating
from microsim.policy.load import Policy, inline_overlays, load_policy
from microsim.schema import Strict, validate_tree
from microsim.yamltree import Tree, load_tree

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
GROUPS = ("residence", "quintile", "status")
LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")
MAX_YEARS = 50
"""The longest projection, in years (a bound on the plan, not a model limit)."""
_CLUSTER = re.compile(r"^local-cluster:(\d+)$")
_ADDRESS = re.compile(r"^([a-z][a-z0-9+]*://\S+|[A-Za-z0-9.\-\[\]:]+:\d{1,5})$")


def scheduler_problem(value: str) -> str | None:
    """Why `value` is not a scheduler microsim can use, or None if it is one."""
    if value in LOCAL_SCHEDULERS:
        return None
    cluster = _CLUSTER.match(value)
    if cluster:
        n = int(cluster.group(1))
        return None if 1 <= n <= 1024 else \
            "a local cluster needs between 1 and 1024 workers (local-cluster:N)"
    if _ADDRESS.match(value):
        return None
    return (f"the scheduler is one of {', '.join(LOCAL_SCHEDULERS)}, local-cluster:N, or the "
            "address of a dask.distributed scheduler (tcp://host:8786)")


class PopulationRef(Strict):
    """A population spec to synthesise `households` from, or a microdata folder read as it is
    (with the spec that supplies its health use and poverty lines)."""

    spec: str | None = None
    """The population spec (a path relative to the experiment): synthesised from, or, with
    `microdata`, the spec that supplies health use and poverty lines."""
    microdata: str | None = None
    """A microdata folder (households.parquet, persons.parquet; docs/populations.md) read as it
    is; absent: synthesise from `spec`."""
    households: Annotated[int, Field(gt=0, le=2_000_000_000)] | None = None
    """How many households to synthesise from `spec` (not with `microdata`)."""

    @model_validator(mode="after")
    def _one_source(self):
        if self.spec is None:
            raise ValueError("'spec' is required: a population spec to synthesise from, or, with "
                             "'microdata', the spec that supplies health use and poverty lines")
        if self.microdata is None and self.households is None:
            raise ValueError("'households' is required with 'spec': how many households "
                             "to synthesise")
        if self.microdata is not None and self.households is not None:
            raise ValueError("'households' goes with a spec only: microdata brings its own "
                             "households")
        return self


class ByResidenceLine(Strict):
    """A poverty line for urban and one for rural residents, yuan per person per year."""

    urban: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """For urban residents, yuan per person per year."""
    rural: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """For rural residents, yuan per person per year."""


class PovertyLine(Strict):
    """A poverty line in yuan per person per year (one amount, or one per residence), or in
    international dollars a day at a PPP conversion factor (yuan per dollar). `label` and
    `label_zh` name the line in indicator names ("Pushed below the LABEL ...",
    "因病致贫发生率（LABEL_ZH，...）"); by default "NAME line" and "贫困线N" (its position)."""

    name: str
    """The line's name (lower-case letters, digits and '_'), used in indicator names."""
    label: str | None = None
    """The line's name in English indicator names; default "NAME line"."""
    label_zh: str | None = None
    """The line's name in Chinese indicator names; default "贫困线N" (N: its position)."""
    yuan: Annotated[float, Field(gt=0, allow_inf_nan=False)] | ByResidenceLine | None = None
    """The line in yuan per person per year: one amount, or `{urban, rural}`."""
    usd_per_day: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """The line in international dollars a day (with `ppp_factor`)."""
    ppp_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """Yuan per international dollar (with `usd_per_day`)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]*$", v):
            raise ValueError("a line name uses lower-case letters, digits and '_'")
        return v

    @model_validator(mode="after")
    def _one_way(self):
        dollars = self.usd_per_day is not None or self.ppp_factor is not None
        if (self.yuan is None) == (not dollars) or (dollars and None in (self.usd_per_day, self.ppp_factor)):
            raise ValueError("give either 'yuan' or both 'usd_per_day' and 'ppp_factor'")
        return self

    def annual(self) -> tuple[float, float]:
        """(urban, rural) yuan per person per year."""
        if self.yuan is None:
            v = self.usd_per_day * self.ppp_factor * 365.0
            return v, v
        if isinstance(self.yuan, float):
            return self.yuan, self.yuan
        return self.yuan.urban, self.yuan.rural


GROUP_LABELS = {"residence": codes.RESIDENCE + ("all",),
                "quintile": tuple(f"Q{k}" for k in range(1, 6)) + ("all",),
                "status": codes.STATUS + ("all",)}


def _labels_of(dim: str, value: str | list[str]) -> list[str]:
    labels = [value] if isinstance(value, str) else list(value)
    if not labels:
        raise ValueError(f"give at least one {dim} group")
    bad = [v for v in labels if v not in GROUP_LABELS[dim]]
    if bad:
        raise ValueError(f"unknown {dim} group {bad[0]!r} (groups: {', '.join(GROUP_LABELS[dim])})")
    if len(set(labels)) != len(labels):
        raise ValueError(f"{dim} groups must not repeat")
    return labels


class TargetSelect(Strict):
    """The group a target is checked in; a list checks each of its groups (one row each)."""

    residence: str | list[str] = "all"
    """The residence group (`urban`, `rural`, `all`), or a list of them."""
    quintile: str | list[str] = "all"
    """The income quintile (`Q1` ... `Q5`, `all`), or a list of them."""
    status: str | list[str] = "all"
    """The status group (or `all`), or a list of them."""

    @field_validator("residence", "quintile", "status")
    @classmethod
    def _known(cls, v, info):
        _labels_of(info.field_name, v)
        return v

    def cells(self) -> list[dict[str, str]]:
        """Every (residence, quintile, status) the target is checked in."""
        dims = ("residence", "quintile", "status")
        return [dict(zip(dims, combo)) for combo in
                product(*(_labels_of(d, getattr(self, d)) for d in dims))]


class Target(Strict):
    """A number a source document sets for an indicator, checked in the report's targets table."""

    indicator: str
    """The indicator checked (docs/indicators.md)."""
    document: str
    """The source document: a seed file name or a citation."""
    target: float
    """The number the document sets, in the indicator's unit."""
    comparison: Literal["at_least", "at_most", "about"] = "at_least"
    """`at_least`: met at target - tolerance or above; `at_most`: at target + tolerance or below;
    `about`: within target +/- tolerance (a document's 左右, 'about', read as a margin)."""
    tolerance: Annotated[float, Field(ge=0)] = 0.0
    """The margin of the comparison, in the indicator's unit."""
    scenarios: list[str] | None = None
    """The scenarios it is checked in; absent: every scenario."""
    years: list[int] | None = None
    """The years it is checked in; absent: every simulated year."""
    select: TargetSelect = TargetSelect()
    """The group it is checked in (default: all)."""
    label: str | None = None
    """The target's name in the English report; default: the indicator's."""
    label_zh: str | None = None
    """The target's name in the Chinese report."""
    note: str = ""
    """What the document says, or why the comparison is loose."""
    note_zh: str = ""
    """The note in Chinese."""
    calibrated: str | None = None
    """Reproduced by construction: which input value was chosen to reproduce this target, and
    why. A calibrated target is reported as calibrated, never as met (docs/experiments.md)."""
    calibrated_zh: str | None = None
    """The same in Chinese."""

    @field_validator("calibrated", "calibrated_zh")
    @classmethod
    def _says_why(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("say which value was chosen to reproduce the target, and why "
                             "(or leave 'calibrated' out)")
        return v


class FocusSelect(Strict):
    """The fixed groups of a focus table's other dimensions (default: all)."""

    residence: str = "all"
    """The residence group of the table's other dimension (default: all)."""
    quintile: str = "all"
    """The income quintile of the table's other dimension (default: all)."""
    status: str = "all"
    """The status group of the table's other dimension (default: all)."""

    @field_validator("residence", "quintile", "status")
    @classmethod
    def _known(cls, v, info):
        _labels_of(info.field_name, v)
        return v


class FocusTable(Strict):
    """A report table for one question: indicators (rows, one per scenario or per reform)
    across the groups of one dimension (columns), e.g. comprehensive coverage by status."""

    title: str
    """The table's title in English."""
    title_zh: str | None = None
    """The table's title in Chinese."""
    note: str = ""
    """A note below the table in English."""
    note_zh: str = ""
    """The note in Chinese."""
    indicators: Annotated[list[str], Field(min_length=1)]
    """The indicators of the rows (docs/indicators.md)."""
    by: Literal["residence", "quintile", "status"]
    """The dimension of the columns."""
    groups: list[str] | None = None
    """The columns' groups; absent: every group of `by`, then 'all'."""
    select: FocusSelect = FocusSelect()
    """The fixed groups of the other dimensions."""
    scenarios: list[str] | None = None
    """The scenarios of the rows; absent: every scenario (the reforms only, with `show:
    effects`)."""
    show: Literal["values", "effects"] = "values"
    """`values`, or `effects`: each scenario minus the baseline (the first scenario)."""
    gap: bool = False
    """With `by: residence`: add the rural - urban gap and the rural / urban ratio."""

    @model_validator(mode="after")
    def _consistent(self):
        if self.groups is not None:
            _labels_of(self.by, self.groups)
        if getattr(self.select, self.by) != "all":
            raise ValueError(f"'select.{self.by}' cannot fix the dimension the table is by "
                             f"('by: {self.by}')")
        if self.gap and self.by != "residence":
            raise ValueError("'gap: true' needs 'by: residence' (the gap is rural against urban)")
        if len(set(self.indicators)) != len(self.indicators):
            raise ValueError("indicators must not repeat")
        return self


class ReportConfig(Strict):
    """What the report of this experiment says beyond the defaults (docs/reports.md)."""

    title: str | None = None
    """The report's title in English; default: the experiment's name."""
    title_zh: str | None = None
    """The report's title in Chinese."""
    question: str = ""
    """The question the experiment answers, opening the report."""
    question_zh: str = ""
    """The question in Chinese."""
    headline: list[str] | None = None
    """The indicators of the headline table; absent: those of labels.yaml."""
    focus: list[FocusTable] = []
    """Report tables for one question each."""


class SocietalPovertyLine(Strict):
    """The societal poverty line of SDG 3.8.2 (2025): computed from the replicate's median
    consumption with `ppp_factor` (yuan of the simulated year per international dollar of the
    line's PPP year), or a fixed `yuan` per person per year."""

    ppp_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """Yuan of the simulated year per international dollar of the line's PPP year: the line is
    computed from the replicate's median consumption."""
    yuan: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """A fixed line, yuan per person per year."""

    @model_validator(mode="after")
    def _one_way(self):
        if (self.ppp_factor is None) == (self.yuan is None):
            raise ValueError("give either 'ppp_factor' (the line is computed from median "
                             "consumption) or 'yuan' (a fixed line)")
        return self


class SubsistenceLine(Strict):
    """A fixed subsistence line for capacity to pay, yuan per equivalent adult per year
    (replaces Xu's food-share estimate from the population)."""

    yuan: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """Yuan per equivalent adult per year."""


YEAR_KEY = re.compile(r"^\d{4}$")


class ScenarioRef(Strict):
    """A scenario: one policy file for every year, or a schedule {"YEAR": file} in which each
    simulated year uses the file of the latest listed year at or before it; reform overlays
    apply in every year."""

    name: str
    """The scenario's name: starts with a letter and uses letters, digits, '_' or '-'; unique in
    the experiment."""
    label: str | None = None
    """The scenario's name in the English report; default: its name."""
    label_zh: str | None = None
    """The scenario's name in the Chinese report; default: 情景N (N: its position)."""
    policy: str | dict[str, str]
    """A policy file (relative to the experiment) for every year, or a schedule {"YEAR": file} in
    which each simulated year uses the file of the latest listed year at or before it."""
    reforms: list[str] = []
    """Reform overlays (files relative to the experiment) applied in every year, in order."""

    @field_validator("policy")
    @classmethod
    def _schedule(cls, v):
        if isinstance(v, dict):
            if not v:
                raise ValueError("a policy schedule lists at least one year")
            bad = [k for k in v if not YEAR_KEY.match(k)]
            if bad:
                raise ValueError(f"a policy schedule's keys are years such as \"2021\", "
                                 f"not {bad[0]!r}")
            years = [int(k) for k in v]
            if years != sorted(years):
                raise ValueError("a policy schedule lists its years in ascending order")
        return v

    def schedule(self) -> list[tuple[int | None, str]]:
        """(first year, file) of each entry; one entry with year None for a single file."""
        if isinstance(self.policy, str):
            return [(None, self.policy)]
        return [(int(k), f) for k, f in self.policy.items()]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError("a scenario name starts with a letter and uses letters, digits, "
                             "'_' or '-'")
        return v


class ExperimentFile(Strict):
    """The experiment file as written, before its references are loaded."""

    name: str
    """The experiment's name: starts with a letter and uses letters, digits, '_' or '-'."""
    description: str = ""
    """What the experiment is for."""
    description_zh: str = ""
    """What the experiment is for, in Chinese (the Chinese report's question when `report` has no
    `question_zh`)."""
    population: PopulationRef
    """The population: a spec and a number of households, or microdata with its spec."""
    year: Annotated[int, Field(ge=2000, le=2100)]
    """The first (or only) simulated year."""
    until: Annotated[int, Field(ge=2000, le=2100)] | None = None
    """The last year of a projection: every year from `year` to `until` is simulated
    (docs/years.md); absent: `year` only."""
    scenarios: Annotated[list[ScenarioRef], Field(min_length=1)]
    """The scenarios compared, the first being the baseline."""
    replicates: Annotated[int, Field(ge=1, le=10_000)] = 1
    """Independent replicates (new households from a spec, new illnesses every time)."""
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    """The seed every random draw is addressed from."""
    groups: list[Literal["residence", "quintile", "status"]] = list(GROUPS)
    """The dimensions results are broken down by."""
    output: str
    """The folder the results and report are written to (relative to the experiment)."""
    chunk_size: Annotated[int, Field(ge=1, le=10_000_000)] = 50_000
    """Households per task; any chunk size gives the same results."""
    compute: str = "threads"
    """The scheduler: threads, processes, synchronous, local-cluster:N, or the address of a
    dask.distributed scheduler (tcp://host:8786)."""
    format: Literal["netcdf", "zarr"] = "netcdf"
    """The results file: `netcdf` (results.nc) or `zarr` (results.zarr)."""
    poverty_lines: list[PovertyLine] | None = None
    """The poverty lines of impoverishment indicators; absent: the population's 低保 line."""
    targets: list[Target] = []
    """Numbers source documents set for indicators, checked in the report's targets table."""
    societal_poverty_line: SocietalPovertyLine | None = None
    """The societal poverty line of SDG 3.8.2 (2025); absent: that indicator is NaN."""
    subsistence_line: SubsistenceLine | None = None
    """A fixed subsistence line for capacity to pay; absent: estimated from the population."""
    che_grid: list[float] | None = None
    """Thresholds of the ADePT catastrophic-payment tables, as shares (none: the catalogue's
    `che_grid`)."""
    report: ReportConfig = ReportConfig()
    """What the report says beyond the defaults (docs/reports.md)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError("an experiment name starts with a letter and uses letters, "
                             "digits, '_' or '-'")
        return v

    @field_validator("che_grid")
    @classmethod
    def _che_grid(cls, v: list[float] | None) -> list[float] | None:
        from microsim.metrics.indicators import check_che_grid
        return None if v is None else check_che_grid(v)

    @field_validator("compute")
    @classmethod
    def _compute(cls, v: str) -> str:
        problem = scheduler_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @property
    def years(self) -> list[int]:
        """Every simulated year, in order."""
        return list(range(self.year, (self.until or self.year) + 1))

    @model_validator(mode="after")
    def _unique(self):
        if self.until is not None and self.until < self.year:
            raise ValueError(f"'until' ({self.until}) is the last year of a projection and "
                             f"cannot come before 'year' ({self.year})")
        if self.until is not None and self.until - self.year >= MAX_YEARS:
            raise ValueError(f"a projection runs at most {MAX_YEARS} years ({self.year}-"
                             f"{self.until} is {self.until - self.year + 1})")
        for s in self.scenarios:
            first = s.schedule()[0][0]
            if first is not None and first > self.year:
                raise ValueError(f"scenario {s.name!r}: its policy schedule starts in {first}, "
                                 f"after the first simulated year {self.year}; list a policy "
                                 f"for {self.year} or earlier")
        names = [s.name for s in self.scenarios]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"scenario names must be unique; repeated: {dupes}")
        if len(set(self.groups)) != len(self.groups):
            raise ValueError("groups must not repeat")
        lines = [line.name for line in self.poverty_lines or []]
        if len(set(lines)) != len(lines):
            raise ValueError("poverty line names must be unique")
        for t in self.targets:
            unknown = set(t.scenarios or []) - set(names)
            if unknown:
                raise ValueError(f"target for {t.indicator!r} names unknown scenarios {sorted(unknown)}")
            outside = sorted(set(t.years or []) - set(self.years))
            if outside:
                raise ValueError(f"target for {t.indicator!r} is checked in {outside}, which the "
                                 f"experiment does not simulate ({self.year}"
                                 + (f"-{self.until}" if self.until else "") + ")")
            for dim in GROUPS:
                if dim not in self.groups and getattr(t.select, dim) != "all":
                    raise ValueError(f"target for {t.indicator!r} selects {dim} "
                                     f"{getattr(t.select, dim)!r}, but the experiment's groups "
                                     f"leave {dim} out (add it to 'groups')")
        for i, f in enumerate(self.report.focus):
            where = f"report.focus.{i} ({f.title!r})"
            unknown = set(f.scenarios or []) - set(names)
            if unknown:
                raise ValueError(f"{where} names unknown scenarios {sorted(unknown)}")
            if f.by not in self.groups:
                raise ValueError(f"{where} is by {f.by}, but the experiment's groups leave "
                                 f"{f.by} out (add it to 'groups')")
            for dim in GROUPS:
                if dim not in self.groups and getattr(f.select, dim) != "all":
                    raise ValueError(f"{where} selects {dim} {getattr(f.select, dim)!r}, but the "
                                     f"experiment's groups leave {dim} out")
            if f.show == "effects" and len(self.scenarios) < 2:
                raise ValueError(f"{where} shows effects, which need a baseline and at least "
                                 "one other scenario")
            if f.show == "effects" and names[0] in (f.scenarios or []):
                raise ValueError(f"{where} shows effects against the baseline {names[0]!r}; "
                                 "list only the other scenarios")
        return self


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: `policy` is the one of the first simulated year; `schedule` holds
    (first year, policy) of every entry of a schedule (empty for one policy every year)."""

    name: str
    """The experiment's name: starts with a letter and uses letters, digits, '_' or '-'."""
    label: str
    policy: Policy
    label_zh: str = ""
    schedule: tuple[tuple[int, Policy], ...] = ()

    def policy_in(self, year: int) -> Policy:
        """The policy of `year`: the schedule's latest entry at or before it."""
        chosen = self.policy
        for first, policy in self.schedule:
            if first <= year:
                chosen = policy
        return chosen

    def policies(self) -> list[Policy]:
        """Every policy the scenario uses, each once."""
        return [p for _, p in self.schedule] if self.schedule else [self.policy]


@dataclass(frozen=True)
class Experiment:
    """A validated experiment with its population spec and policies loaded."""

    path: Path
    file: ExperimentFile
    population: PopulationSpec | None
    """The population: a spec and a number of households, or microdata with its spec."""
    microdata: Path | None
    scenarios: tuple[Scenario, ...]
    """The scenarios compared, the first being the baseline."""
    output: Path
    """The folder the results and report are written to (relative to the experiment)."""
    tree: Tree
    source: Microdata | None = None   # the opened, checked microdata (when `microdata` is set)
    index_series: IndexSeries | None = None   # the spec's `uprating` series
    demography: Demography | None = None      # the spec's `demography` (projections)

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def years(self) -> list[int]:
        """Every simulated year, in order (one for a one-year run)."""
        return self.file.years

    @property
    def projection(self) -> bool:
        """Whether the experiment runs a span of years (`until`)."""
        return self.file.until is not None

    def uprating(self, year: int) -> Uprating:
        """The factors that move the population from its base year to `year`."""
        spec = self.population
        return uprating(self.index_series, spec.data.year, year,
                        spec.tree.file_of(("uprating",)) if spec.data.uprating else spec.path)

    @property
    def households(self) -> int:
        """Households simulated: synthesised from the spec, or the rows of the microdata."""
        if self.source is not None:
            return self.source.n_households
        return int(self.file.population.households or 0)

    def poverty_lines(self) -> list[tuple[str, tuple[float, float]]]:
        """(name, (urban, rural) yuan per person per year) of each poverty line."""
        if self.file.poverty_lines:
            return [(line.name, line.annual()) for line in self.file.poverty_lines]
        if self.population is None:
            raise InputError(self.path, "microdata experiments must list their poverty_lines",
                             key="poverty_lines")
        dibao = self.population.data.poverty.dibao_line
        return [("dibao", (dibao.urban, dibao.rural))]

    def poverty_line_labels(self) -> dict[str, tuple[str, str]]:
        """(English, Chinese) label of each poverty line, as indicator names use them."""
        if not self.file.poverty_lines:
            return {"dibao": ("dibao (minimum living guarantee) line", "低保线")}
        # a line without a Chinese label is numbered: the Chinese report never shows its code
        return {line.name: (line.label or f"{line.name} line", line.label_zh or f"贫困线{i}")
                for i, line in enumerate(self.file.poverty_lines, start=1)}

    def check_indicators(self, known: set[str]) -> None:
        """Refuse a target, headline or focus-table indicator the run will not compute."""
        refs = [(f"targets.{i}.indicator", t.indicator) for i, t in enumerate(self.file.targets)]
        refs += [(f"report.headline.{i}", n) for i, n in enumerate(self.file.report.headline or [])]
        refs += [(f"report.focus.{i}.indicators.{j}", n)
                 for i, f in enumerate(self.file.report.focus) for j, n in enumerate(f.indicators)]
        for key, name in refs:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=3)
                raise InputError(self.tree.file_of(tuple(key.split("."))),
                                 "no such indicator (docs/indicators.md lists them)"
                                 + (f"; did you mean {', '.join(close)}?" if close else ""),
                                 key=key, value=name, has_value=True)

    def resolved(self) -> dict[str, Any]:
        """The experiment as run: every path absolute, every default filled in."""
        data = self.file.model_dump()
        data["population"]["spec"] = str(self.population.path) if self.population else None
        data["population"]["microdata"] = str(self.microdata) if self.microdata else None
        data["output"] = str(self.output)
        for raw, scen in zip(data["scenarios"], self.scenarios):
            raw["policy"] = ({str(y): str(p.files[0]) for y, p in scen.schedule}
                             if scen.schedule else str(scen.policy.files[0]))
            raw["reforms"] = [str(f) for f in scen.policy.files[1:]] + list(scen.policy.inline)
        return data


def _resolve(base: Path, value: str, tree: Tree, key: str, what: str, must_exist=True) -> Path:
    path = resolve(base / value, tree.file_of(tuple(key.split("."))), key, what)
    found = kind(path) is not None
    if must_exist and not found:
        raise InputError(tree.file_of(tuple(key.split("."))), f"{what} not found: {path}",
                         key=key)
    return path


def _referenced(tree: Tree, key: str, load, *args):
    """Load a file the experiment refers to; a refusal also names the experiment's key."""
    try:
        return load(*args)
    except InputError as exc:
        raise InputError(None, f"{exc} (referenced by {tree.file_of(tuple(key.split('.')))}, "
                         f"key '{key}')") from None


def load_experiment(path: str | Path, reforms: list | None = None) -> Experiment:
    """Load and validate an experiment and everything it references. `reforms` (from
    Python) are reform overlays given as mappings, applied to every scenario after the
    overlays its file lists, and named `reforms[0]`, `reforms[1]`... in errors."""
    if kind(Path(path)) not in (None, "file", "loop"):
        regular_file(Path(path), "experiment")     # named as given, not as the link it leads to
    path = resolve(path, what="experiment")
    tree = load_tree(path, "experiment")
    raw = validate_tree(ExperimentFile, tree, "experiment")
    base = path.parent
    inline = inline_overlays(reforms, base)
    microdata = None
    source = None
    spec_path = _resolve(base, raw.population.spec, tree, "population.spec", "population spec")
    population = _referenced(tree, "population.spec", load_population_spec, spec_path)
    if raw.population.microdata is not None:
        microdata = _resolve(base, raw.population.microdata, tree, "population.microdata",
                             "microdata folder")
        source = _referenced(tree, "population.microdata", open_microdata, microdata)
    scenarios = []
    for i, s in enumerate(raw.scenarios):
        reforms = [_resolve(base, r, tree, f"scenarios.{i}.reforms.{j}", "reform overlay")
                   for j, r in enumerate(s.reforms)]
        schedule = []
        for first, file in s.schedule():
            key = f"scenarios.{i}.policy" + ("" if first is None else f".{first}")
            policy_path = _resolve(base, file, tree, key, "policy file")
            when = "" if first is None else f" (the {first} file of the scenario's schedule)"
            schedule.append((first, _referenced(tree, key, load_policy, policy_path,
                                                reforms + list(inline), when)))
        entries = tuple(schedule) if schedule[0][0] is not None else ()
        scenario = Scenario(s.name, s.label or s.name, schedule[0][1],
                            s.label_zh or f"情景{i + 1}", entries)   # the Chinese report shows no code
        # `policy` is the first simulated year's
        scenarios.append(dataclasses.replace(scenario, policy=scenario.policy_in(raw.year)))
    output = _resolve(base, raw.output, tree, "output", "output folder", must_exist=False)
    index, demography = _years_inputs(tree, raw, population, source)
    exp = Experiment(path, raw, population, microdata, tuple(scenarios), output, tree, source,
                     index, demography)
    for year in raw.years:
        _referenced(tree, "year", exp.uprating, year)   # every year's factors exist
    return exp


def _spec_file(spec: PopulationSpec, key: str, what: str, load):
    """Load the file a population spec names under `key` (relative to the spec that set it)."""
    value = getattr(spec.data, key)
    if value is None:
        return None
    where = Path(spec.tree.file_of((key,)))
    found = resolve(where.parent / value, where, key, what)
    if kind(found) is None:
        raise InputError(where, f"{what} not found: {found}", key=key)
    return load(found)


def _years_inputs(tree: Tree, raw: ExperimentFile, spec: PopulationSpec,
                  source: Microdata | None) -> tuple[IndexSeries | None, Demography | None]:
    """The population's index series (read when a simulated year is not the spec's base year)
    and demography (read for a projection): a spec copied elsewhere for a run of its own
    year needs neither file."""
    index = demography = None
    if any(year != spec.data.year for year in raw.years):
        index = _referenced(tree, "population.spec", _spec_file, spec, "uprating",
                            "index series", load_index_series)
    if raw.until is not None:
        if source is not None:
            raise InputError(tree.file_of(("until",)), "a projection ages a synthesised "
                             "population; ageing microdata is not built (run one year at a "
                             "time, with 'year' only)", key="until")
        demography = _referenced(tree, "population.spec", _spec_file, spec, "demography",
                                 "demography file", load_demography)
        if demography is None:
            raise InputError(tree.file_of(("until",)), f"a projection needs the population's "
                             f"life table and fertility: the spec {spec.path} names no "
                             "'demography' file (docs/years.md)", key="until")
    return index, demography
