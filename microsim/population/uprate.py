"""Uprating: moving a population from its base year to another year by cited index series.

Takes: a population spec (its `year` and its `uprating:` file of index series,
`populations/indices/*.yaml`) and a simulated year. Gives: an `Uprating`, the
factor of each quantity from the base year to that year, with what each factor
rests on (the two values, or the interpolation), and `uprate_chunk`, which
applies the household and person factors to a chunk.

What moves, and by which series (docs/years.md):
- household income by `income` (by residence); consumption and food spending by
  `consumption` when the file has it, else by `income`; UEBMI wages by `wage`
  when the file has it, else by the `income` of the household's residence;
- the cost of care by `inpatient_cost` (admissions) and `outpatient_cost`
  (visits and chronic outpatient spending), the use of care by `admissions`
  and `visits` (applied to the spec's health `level` factors, `health/params.py`);
- poverty lines given in yuan of the base year by `poverty_line` (by residence),
  fixed lines of the consumer's money (a subsistence line, a societal poverty
  line's PPP factor) by `prices`;
- the UEBMI shares of the insured by `uebmi_enrolment` when the file has it.

Policies never move: a policy file is of its own year. A factor is the ratio of
the series' values in the two years; a year between two listed years is
interpolated log-linearly (constant growth), and a year outside the series is
refused. Uprating to the base year is the identity: every factor is exactly 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field, field_validator, model_validator

from microsim.errors import InputError
from microsim.schema import Strict, validate_tree
from microsim.yamltree import load_tree

REQUIRED = ("income", "prices", "inpatient_cost", "outpatient_cost", "admissions", "visits",
            "poverty_line")
OPTIONAL = ("consumption", "wage", "uebmi_enrolment")
BY_RESIDENCE = ("income", "consumption", "poverty_line")
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


def _years(values: dict[str, float] | None) -> dict[str, float] | None:
    if values is None:
        return None
    bad = [k for k in values if not (len(k) == 4 and k.isdigit())]
    if bad:
        raise ValueError(f"a series is keyed by years such as \"2021\", not {bad[0]!r}")
    if not values:
        raise ValueError("a series lists at least one year")
    return values


class Series(Strict):
    """One index series: `all:` or `urban:` and `rural:`, each {"YEAR": value}."""

    unit: str = ""
    """What the numbers measure."""
    description: str = ""
    """Where the series comes from."""
    all: dict[str, Positive] | None = None
    """One value per year {"YEAR": value}, for everyone."""
    urban: dict[str, Positive] | None = None
    """Urban residents' values {"YEAR": value}."""
    rural: dict[str, Positive] | None = None
    """Rural residents' values {"YEAR": value}."""

    @field_validator("all", "urban", "rural")
    @classmethod
    def _check_years(cls, v):
        return _years(v)

    @model_validator(mode="after")
    def _one_form(self):
        if (self.all is None) == (self.urban is None and self.rural is None):
            raise ValueError("give either 'all' or both 'urban' and 'rural'")
        if self.all is None and (self.urban is None or self.rural is None):
            raise ValueError("give both 'urban' and 'rural'")
        return self


class IndexFile(Strict):
    """Index series that move a population from its base year to another (docs/years.md)."""

    name: str
    """The file's name."""
    description: str = ""
    """Where the series come from."""
    series: dict[str, Series]
    """The series by name: income, prices, inpatient_cost, outpatient_cost, admissions, visits,
    poverty_line (required), consumption, wage, uebmi_enrolment (optional)."""

    @field_validator("series")
    @classmethod
    def _known(cls, series: dict[str, Series]) -> dict[str, Series]:
        missing = [s for s in REQUIRED if s not in series]
        if missing:
            raise ValueError(f"the index series {', '.join(missing)} are required "
                             f"(required: {', '.join(REQUIRED)})")
        unknown = [s for s in series if s not in REQUIRED + OPTIONAL]
        if unknown:
            raise ValueError(f"unknown series {unknown[0]!r} (series: "
                             f"{', '.join(REQUIRED + OPTIONAL)})")
        for name in BY_RESIDENCE:
            if name in series and series[name].all is not None:
                raise ValueError(f"series {name!r} is given by residence (urban and rural)")
        return series


@dataclass(frozen=True)
class IndexSeries:
    path: Path
    data: IndexFile


def load_index_series(path: str | Path) -> IndexSeries:
    """Load and validate an index-series file."""
    tree = load_tree(path, "index series")
    return IndexSeries(Path(tree.files[-1]), validate_tree(IndexFile, tree, "index series"))


def value_at(values: dict[str, float], year: int, where: str) -> tuple[float, str]:
    """The series' value in `year` and how it was found (listed, or interpolated between the
    nearest listed years at constant growth)."""
    points = sorted((int(k), v) for k, v in values.items())
    if str(year) in values:
        return values[str(year)], f"{year}"
    first, last = points[0][0], points[-1][0]
    if not first <= year <= last:
        raise InputError(where, f"the series has no value for {year} (it runs {first}-{last}); "
                         "add the year, or run within the series' years")
    lo = max(p for p in points if p[0] < year)
    hi = min(p for p in points if p[0] > year)
    t = (year - lo[0]) / (hi[0] - lo[0])
    return math.exp((1 - t) * math.log(lo[1]) + t * math.log(hi[1])), \
        f"{year} interpolated between {lo[0]} and {hi[0]}"


@dataclass(frozen=True)
class Uprating:
    """Factors from the population's base year to `year` ((urban, rural) where by residence);
    `basis` says what each rests on."""

    base: int
    year: int
    income: tuple[float, float] = (1.0, 1.0)
    consumption: tuple[float, float] = (1.0, 1.0)
    wage: tuple[float, float] = (1.0, 1.0)
    prices: float = 1.0
    inpatient_cost: float = 1.0
    outpatient_cost: float = 1.0
    admissions: float = 1.0
    visits: float = 1.0
    poverty_line: tuple[float, float] = (1.0, 1.0)
    uebmi_enrolment: float = 1.0
    basis: dict[str, str] = field(default_factory=dict)
    series: str = ""
    """The series by name: income, prices, inpatient_cost, outpatient_cost, admissions, visits,
    poverty_line (required), consumption, wage, uebmi_enrolment (optional)."""

    @property
    def identity(self) -> bool:
        return self.base == self.year

    def as_dict(self) -> dict:
        """The factors, for the results' provenance."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def identity(year: int) -> Uprating:
    return Uprating(base=year, year=year)


def uprating(index: IndexSeries | None, base: int, year: int, spec_path: str | Path) -> Uprating:
    """The factors from `base` to `year` by the series of `index` (none needed for the base
    year itself; another year without series is refused, naming the spec)."""
    if year == base:
        return identity(year)
    if index is None:
        raise InputError(spec_path, f"the population is of {base} and the run simulates "
                         f"{year}: name the index series that move it ('uprating: "
                         "indices/china.yaml', docs/years.md)", key="uprating")
    where = str(index.path)
    series = index.data.series
    basis: dict[str, str] = {}

    def factor(name: str, part: str = "all") -> float:
        values = getattr(series[name], part)
        now, how_now = value_at(values, year, f"{where} (series '{name}.{part}')")
        then, how_then = value_at(values, base, f"{where} (series '{name}.{part}')")
        label = name if part == "all" else f"{name}.{part}"
        basis[label] = f"{now:,.6g} ({how_now}) / {then:,.6g} ({how_then})"
        return now / then

    def pair(name: str) -> tuple[float, float]:
        return factor(name, "urban"), factor(name, "rural")

    income = pair("income")
    consumption = pair("consumption") if "consumption" in series else income
    wage = (factor("wage"),) * 2 if "wage" in series else income
    if "consumption" not in series:
        basis["consumption"] = "moves with income (the file has no consumption series)"
    if "wage" not in series:
        basis["wage"] = "moves with the income of the household's residence (no wage series)"
    return Uprating(
        base=base, year=year, income=income, consumption=consumption, wage=wage,
        prices=factor("prices"), inpatient_cost=factor("inpatient_cost"),
        outpatient_cost=factor("outpatient_cost"), admissions=factor("admissions"),
        visits=factor("visits"), poverty_line=pair("poverty_line"),
        uebmi_enrolment=factor("uebmi_enrolment") if "uebmi_enrolment" in series else 1.0,
        basis=basis, series=where)


def uprate_chunk(households, persons, up: Uprating) -> None:
    """Move a chunk's money from the base year to `up.year`, in place (nothing for the
    base year itself)."""
    if up.identity:
        return
    res = households.residence.astype(np.int64)
    households.income *= np.asarray(up.income)[res]
    cons = np.asarray(up.consumption)[res]
    households.consumption *= cons
    households.food *= cons
    persons.wage *= np.asarray(up.wage)[res[persons.hh]]


def uprate_synth(params, up: Uprating):
    """The synthesis parameters of `up.year`: the UEBMI shares of every age band moved by
    `uebmi_enrolment` (employed and retired alike, never above the insured), the rest as
    the spec says."""
    f = up.uebmi_enrolment
    if f == 1.0:
        return params
    employed = np.minimum(params.p_employed * f, 1.0)
    retired = np.minimum(params.p_retired * f, 1.0 - employed)
    return params._replace(p_employed=employed, p_retired=retired)
