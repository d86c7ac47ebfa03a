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
    year: 2023
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

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from microsim.errors import InputError
from microsim.population.microdata import Microdata, open_microdata
from microsim.population.spec import PopulationSpec, load_population_spec
from microsim.policy.load import Policy, load_policy
from microsim.schema import Strict, validate_tree
from microsim.yamltree import Tree, load_tree

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
GROUPS = ("residence", "quintile", "status")
LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")
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
    microdata: str | None = None
    households: Annotated[int, Field(gt=0, le=2_000_000_000)] | None = None

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
    urban: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    rural: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class PovertyLine(Strict):
    """A poverty line in yuan per person per year (one amount, or one per residence), or in
    international dollars a day at a PPP conversion factor (yuan per dollar)."""

    name: str
    yuan: Annotated[float, Field(gt=0, allow_inf_nan=False)] | ByResidenceLine | None = None
    usd_per_day: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    ppp_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

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


class TargetSelect(Strict):
    residence: str = "all"
    quintile: str = "all"
    status: str = "all"


class Target(Strict):
    """A number a source document sets for an indicator, checked in the report's targets table."""

    indicator: str
    document: str                   # the source document (a seed file name or a citation)
    target: float
    comparison: Literal["at_least", "at_most", "about"] = "at_least"
    tolerance: Annotated[float, Field(ge=0)] = 0.0   # for 'about': met within +/- tolerance
    scenarios: list[str] | None = None              # default: every scenario
    select: TargetSelect = TargetSelect()
    label: str | None = None
    label_zh: str | None = None
class SocietalPovertyLine(Strict):
    """The societal poverty line of SDG 3.8.2 (2025): computed from the replicate's median
    consumption with `ppp_factor` (yuan of the simulated year per international dollar of the
    line's PPP year), or a fixed `yuan` per person per year."""

    ppp_factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    yuan: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

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


class ScenarioRef(Strict):
    name: str
    label: str | None = None
    label_zh: str | None = None
    policy: str
    reforms: list[str] = []

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
    description: str = ""
    population: PopulationRef
    year: Annotated[int, Field(ge=2000, le=2100)]
    scenarios: Annotated[list[ScenarioRef], Field(min_length=1)]
    replicates: Annotated[int, Field(ge=1, le=10_000)] = 1
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    groups: list[Literal["residence", "quintile", "status"]] = list(GROUPS)
    output: str
    chunk_size: Annotated[int, Field(ge=1, le=10_000_000)] = 50_000
    compute: str = "threads"
    format: Literal["netcdf", "zarr"] = "netcdf"
    poverty_lines: list[PovertyLine] | None = None   # default: the population's 低保 line
    targets: list[Target] = []
    societal_poverty_line: SocietalPovertyLine | None = None   # none: SDG 3.8.2 (2025) is NaN
    subsistence_line: SubsistenceLine | None = None   # none: estimated from the population

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError("an experiment name starts with a letter and uses letters, "
                             "digits, '_' or '-'")
        return v

    @field_validator("compute")
    @classmethod
    def _compute(cls, v: str) -> str:
        problem = scheduler_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _unique(self):
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
        return self


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    policy: Policy
    label_zh: str = ""


@dataclass(frozen=True)
class Experiment:
    """A validated experiment with its population spec and policies loaded."""

    path: Path
    file: ExperimentFile
    population: PopulationSpec | None
    microdata: Path | None
    scenarios: tuple[Scenario, ...]
    output: Path
    tree: Tree
    source: Microdata | None = None   # the opened, checked microdata (when `microdata` is set)

    @property
    def name(self) -> str:
        return self.file.name

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

    def resolved(self) -> dict[str, Any]:
        """The experiment as run: every path absolute, every default filled in."""
        data = self.file.model_dump()
        data["population"]["spec"] = str(self.population.path) if self.population else None
        data["population"]["microdata"] = str(self.microdata) if self.microdata else None
        data["output"] = str(self.output)
        for raw, scen in zip(data["scenarios"], self.scenarios):
            raw["policy"] = str(scen.policy.files[0])
            raw["reforms"] = [str(f) for f in scen.policy.files[1:]]
        return data


def _resolve(base: Path, value: str, tree: Tree, key: str, what: str, must_exist=True) -> Path:
    try:
        path = (base / value).resolve()
        found = path.exists()
    except (ValueError, OSError) as exc:      # a NUL byte, a name too long, a loop of links
        raise InputError(tree.file_of(tuple(key.split("."))), f"{what} is not a usable path "
                         f"({exc})", key=key, value=value, has_value=True) from None
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


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment and everything it references."""
    path = Path(path).resolve()
    tree = load_tree(path, "experiment")
    raw = validate_tree(ExperimentFile, tree, "experiment")
    base = path.parent
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
        policy_path = _resolve(base, s.policy, tree, f"scenarios.{i}.policy", "policy file")
        reforms = [_resolve(base, r, tree, f"scenarios.{i}.reforms.{j}", "reform overlay")
                   for j, r in enumerate(s.reforms)]
        policy = _referenced(tree, f"scenarios.{i}", load_policy, policy_path, reforms)
        scenarios.append(Scenario(s.name, s.label or s.name, policy, s.label_zh or s.label or s.name))
    output = _resolve(base, raw.output, tree, "output", "output folder", must_exist=False)
    return Experiment(path, raw, population, microdata, tuple(scenarios), output, tree, source)
