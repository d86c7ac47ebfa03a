"""Population specs: one region-year's demography, income, poverty, enrolment and health use.

Takes: a `populations/*.yaml` path (which may `inherits` another spec). Gives:
a validated `PopulationSpec` that keeps its `Tree`, so every number can be
shown beside its source. Cross-field rules (shares summing to 1, one value per
age band, mean above median) are checked here, and errors name file and key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from microsim.population.spec_health import HealthSpec, check_health
from microsim.schema import Money, PositiveMoney, Share, Strict, check, validate_tree
from microsim.yamltree import Tree, load_tree

ShareList = list[Share]


class Region(Strict):
    code: Annotated[int, Field(ge=0)] = 0
    name: str
    name_zh: str = ""


class ResidenceSpec(Strict):
    urban_person_share: Share


class ByResidenceShares(Strict):
    urban: ShareList
    rural: ShareList


class ByResidenceShare(Strict):
    urban: Share
    rural: Share


class ByResidenceMoney(Strict):
    urban: Money
    rural: Money


class AgeSpec(Strict):
    bands: list[Annotated[int, Field(ge=0, le=120)]]   # lower edges, first is 0
    max_age: Annotated[int, Field(ge=1, le=120)] = 100
    urban: ShareList
    rural: ShareList
    male_share: Share


class IncomeDistribution(Strict):
    """Per-capita disposable income of persons: lognormal with this mean and median (yuan)."""

    mean: PositiveMoney
    median: PositiveMoney

    @model_validator(mode="after")
    def _skew(self):
        if self.mean <= self.median:
            raise ValueError("a lognormal income needs mean above median")
        return self


class IncomeSpec(Strict):
    urban: IncomeDistribution
    rural: IncomeDistribution


class ConsumptionByResidence(Strict):
    """Per-capita consumption = scale * income ** elasticity * lognormal noise, scaled to the mean."""

    mean_per_capita: PositiveMoney
    elasticity: Annotated[float, Field(ge=0.0, le=1.5)]
    sigma: Annotated[float, Field(ge=0.0, le=2.0)]
    food_share: Share
    food_sigma: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0


class ConsumptionSpec(Strict):
    urban: ConsumptionByResidence
    rural: ConsumptionByResidence


class StatusRule(Strict):
    """Households with per-capita income below `below_line` x the 低保 line get `status`
    with this probability (rules are exclusive: probabilities of rules that apply add up)."""

    status: Literal["tekun", "dibao", "dibian", "monitored"]
    below_line: Annotated[float, Field(gt=0.0, le=100.0)]
    probability: ByResidenceShare


class PovertySpec(Strict):
    dibao_line: ByResidenceMoney      # yuan per person per year
    rules: list[StatusRule]


class WageSpec(Strict):
    ratio_to_per_capita_income: Annotated[float, Field(gt=0.0, le=20.0)]
    sigma: Annotated[float, Field(ge=0.0, le=2.0)]


class InsuranceSpec(Strict):
    uninsured: ByResidenceShare
    working_age: Annotated[list[Annotated[int, Field(ge=0, le=120)]], Field(min_length=2, max_length=2)]
    uebmi_employed: ByResidenceShare   # of insured working-age persons
    uebmi_retired: ByResidenceShare    # of insured persons above working age
    supplementary_uptake: ByResidenceShare
    wage: WageSpec


class ChronicSpec(Strict):
    """Prevalence by age band of the conditions that drive chronic outpatient spending."""

    hypertension: ShareList
    diabetes: ShareList
    special_chronic: ShareList
    rare_disease: Share
    disabled: ShareList


class PopulationFile(Strict):
    name: str
    year: Annotated[int, Field(ge=2000, le=2100)]
    region: Region
    households: Annotated[int, Field(gt=0, le=2_000_000_000)]
    residence: ResidenceSpec
    household_size: ByResidenceShares
    age: AgeSpec
    income: IncomeSpec
    consumption: ConsumptionSpec
    poverty: PovertySpec
    insurance: InsuranceSpec
    chronic: ChronicSpec
    health: HealthSpec


@dataclass(frozen=True)
class PopulationSpec:
    """A validated population spec with the provenance of each value."""

    path: Path
    data: PopulationFile
    tree: Tree

    @property
    def name(self) -> str:
        return self.data.name


def _check_shares(tree: Tree, path: tuple[str, ...], values: list[float], n: int | None,
                  must_sum: bool) -> None:
    if n is not None:
        check(len(values) == n, tree, path, f"needs one value per age band ({n}), got {len(values)}")
    if must_sum:
        check(abs(sum(values) - 1.0) <= 1e-6, tree, path,
              f"shares must sum to 1, they sum to {sum(values):.6f}")


def load_population_spec(path: str | Path) -> PopulationSpec:
    """Load, validate and cross-check a population spec."""
    path = Path(path).resolve()
    tree = load_tree(path, "population spec")
    data = validate_tree(PopulationFile, tree, "population spec")
    bands = data.age.bands
    check(bands[0] == 0 and all(b < c for b, c in zip(bands, bands[1:])), tree, ("age", "bands"),
          "age bands are ascending lower edges starting at 0")
    check(bands[-1] < data.age.max_age, tree, ("age", "max_age"), "max_age must exceed the last band")
    nb = len(bands)
    for res in ("urban", "rural"):
        _check_shares(tree, ("age", res), getattr(data.age, res), nb, True)
        sizes = getattr(data.household_size, res)
        _check_shares(tree, ("household_size", res), sizes, None, True)
        check(1 <= len(sizes) <= 20, tree, ("household_size", res), "sizes run from 1 to at most 20")
    for name in ("hypertension", "diabetes", "special_chronic", "disabled"):
        _check_shares(tree, ("chronic", name), getattr(data.chronic, name), nb, False)
    check_health(tree, data.health, nb)
    lo, hi = data.insurance.working_age
    check(lo < hi, tree, ("insurance", "working_age"), "working_age is [first, last+1) with first < last")
    for res in ("urban", "rural"):
        for line in sorted({r.below_line for r in data.poverty.rules}):
            total = sum(getattr(r.probability, res) for r in data.poverty.rules if r.below_line >= line)
            check(total <= 1.0 + 1e-9, tree, ("poverty", "rules"),
                  f"{res} households below {line} x the line would get a status with total "
                  f"probability {total:.3f} > 1")
    return PopulationSpec(path, data, tree)
