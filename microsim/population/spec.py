"""Population specs: one region-year's demography, income, poverty, enrolment and health use.

Takes: a `populations/*.yaml` path (which may `inherits` another spec). Gives:
a validated `PopulationSpec` that keeps its `Tree`, so every number can be
shown beside its source. Cross-field rules (shares summing to 1, one value per
age band or household size, exclusive poverty-status zones, target names that
parse) are checked here, and errors name the file and the key.

The model each section feeds is described in `synth.py` and
`docs/populations.md`; the `targets:` list is what `microsim population
describe` compares a synthetic population against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from microsim import codes
from microsim.population.spec_health import HealthSpec, check_health
from microsim.schema import Money, PositiveMoney, Share, Strict, check, validate_tree
from microsim.yamltree import Tree, load_tree

ShareList = list[Share]
Age = Annotated[int, Field(ge=0, le=120)]
RESIDENCES = ("urban", "rural")


class Region(Strict):
    """The region the spec describes."""

    code: Annotated[int, Field(ge=0)] = 0
    """The region's administrative code (a label)."""
    name: str
    """The region's name."""
    name_zh: str = ""
    """The region's name in Chinese."""


class ResidenceSpec(Strict):
    """How persons split between urban and rural residence."""

    urban_person_share: Share
    """Share of persons who are urban. Households are urban with probability (s / m_u) / (s / m_u
    + (1 - s) / m_r), m the mean sizes, so that persons are urban with share s."""


class ByResidenceShares(Strict):
    """A list of shares for urban and one for rural residents."""

    urban: ShareList
    """Urban residents' shares."""
    rural: ShareList
    """Rural residents' shares."""


class ByResidenceShare(Strict):
    """One share for urban and one for rural residents."""

    urban: Share
    """Urban residents' share."""
    rural: Share
    """Rural residents' share."""


class ByResidenceMoney(Strict):
    """One amount for urban and one for rural residents."""

    urban: Money
    """For urban residents, yuan."""
    rural: Money
    """For rural residents, yuan."""


class ByResidenceCount(Strict):
    """One count of persons for urban and one for rural residents."""

    urban: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    """Urban persons."""
    rural: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    """Rural persons."""


class ByResidenceTable(Strict):
    """One row of shares per group (head-age group), by residence."""

    urban: list[Annotated[list[Share], Field(min_length=3, max_length=3)]]
    """Urban residents' rows."""
    rural: list[Annotated[list[Share], Field(min_length=3, max_length=3)]]
    """Rural residents' rows."""


class AgeSpec(Strict):
    """Age bands, the shares of persons in them by residence, and the oldest age."""

    bands: list[Age]
    """Lower edges of the age bands in years, ascending from 0 (shared with health use)."""
    max_age: Annotated[int, Field(ge=1, le=120)] = 100
    """The oldest age in years; above the last band's edge."""
    urban: ShareList
    """Share of urban persons in each age band (sums to 1)."""
    rural: ShareList
    """Share of rural persons in each age band (sums to 1)."""
    male_share: Share
    """Share of persons who are men."""


class CompositionSpec(Strict):
    """Who lives together: a head aged 18+, a spouse, and other members who are the
    head's parents, children or grandchildren (ages follow the head's age)."""

    head_min_age: Annotated[int, Field(ge=12, le=40)] = 18
    """A household head's youngest age, years."""
    spouse: ByResidenceShares
    """P(spouse) by residence for households of 2, 3, ... members; the last value repeats."""
    head_age_groups: list[Age]
    """Lower edges of the head-age groups in years, ascending from `head_min_age`."""
    member_types: ByResidenceTable
    """(parent, child, grandchild) shares of the members other than head and spouse, one row per
    head-age group, by residence (each row sums to 1)."""
    spouse_age_gap: Annotated[list[Annotated[int, Field(ge=-30, le=30)]],
                              Field(min_length=2, max_length=2)]
    """[smallest, largest] years a spouse is older than the head (uniform; negative: younger)."""
    generation_gap: Annotated[list[Annotated[int, Field(ge=12, le=60)]],
                              Field(min_length=2, max_length=2)]
    """[smallest, largest] years between generations (uniform)."""
    head_age_smoothing: Annotated[float, Field(gt=0.0, le=1e6)] = 30.0
    """How strongly the solved head-age distributions are smoothed towards the adult age
    distribution."""


class IncomeDistribution(Strict):
    """Per-capita disposable income of a household of n members: Singh-Maddala (Burr XII)
    with shapes a, q and scale b * n**size_elasticity; b is set so that the mean over
    persons equals `mean`."""

    mean: PositiveMoney
    """Per-capita disposable income, mean over persons, yuan a year."""
    shape_a: Annotated[float, Field(gt=0.2, le=50.0)]
    """Singh-Maddala shape a (the upper tail is Pareto with index a q)."""
    shape_q: Annotated[float, Field(gt=0.05, le=200.0)]
    """Singh-Maddala shape q."""
    size_elasticity: Annotated[float, Field(ge=-3.0, le=3.0)] = 0.0
    """e in the scale b * n**e of a household of n members: e < 0 makes larger households poorer
    per head."""

    @model_validator(mode="after")
    def _finite_mean(self):
        if self.shape_a * self.shape_q <= 1.0:
            raise ValueError("the mean is infinite unless shape_a * shape_q > 1")
        return self


class IncomeSpec(Strict):
    """Income distributions by residence."""

    urban: IncomeDistribution
    """Urban households' income."""
    rural: IncomeDistribution
    """Rural households' income."""


class ConsumptionByResidence(Strict):
    """Per-capita consumption = scale * income ** elasticity * lognormal noise, scaled to the
    mean over persons; food share = k * (consumption / mean) ** -engel_elasticity * noise,
    k set so that total food / total consumption equals `food_share`."""

    mean_per_capita: PositiveMoney
    """Per-capita consumption expenditure, mean over persons, yuan a year."""
    elasticity: Annotated[float, Field(ge=0.0, le=1.5)]
    """Elasticity of consumption with respect to income."""
    sigma: Annotated[float, Field(ge=0.0, le=2.0)]
    """Log-scale sd of the lognormal noise of consumption."""
    food_share: Share
    """Total food spending over total consumption."""
    food_sigma: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0
    """Log-scale sd of the lognormal noise of the food share."""
    engel_elasticity: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """How fast the food share falls with consumption (Engel's law); the share is capped at 95%."""


class ConsumptionSpec(Strict):
    """Consumption by residence."""

    urban: ConsumptionByResidence
    """Urban households' consumption."""
    rural: ConsumptionByResidence
    """Rural households' consumption."""


class StatusRule(Strict):
    """Households whose per-capita income lies in [income_from, income_below) x the 低保 line
    (and with at most `max_size` members) get `status` with a probability set so that the
    expected number of persons with the status is `persons` (or `person_share` of the
    residence's persons). Rules whose zones overlap share one draw, so a household gets at
    most one status."""

    status: Literal["tekun", "dibao", "dibian", "monitored"]
    """The status the rule gives."""
    income_from: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0
    """Lower edge of the zone: per-capita income as a multiple of the 低保 line."""
    income_below: Annotated[float, Field(gt=0.0, le=100.0)]
    """Upper edge of the zone (not included): per-capita income as a multiple of the 低保 line."""
    max_size: Annotated[int, Field(ge=1, le=20)] | None = None
    """Only households of at most this many members; absent: any size."""
    persons: ByResidenceCount | None = None
    """Expected persons with the status by residence (give this or `person_share`)."""
    person_share: ByResidenceShare | None = None
    """Expected share of the residence's persons with the status (give this or `persons`)."""

    @model_validator(mode="after")
    def _one_target(self):
        if (self.persons is None) == (self.person_share is None):
            raise ValueError("give exactly one of 'persons' (a count) or 'person_share'")
        if self.income_below <= self.income_from:
            raise ValueError("income_below must exceed income_from")
        return self


class PovertySpec(Strict):
    """The 低保 line and the rules that give households a poverty status."""

    dibao_line: ByResidenceMoney
    """The 低保 line by residence, yuan per person per year."""
    rules: list[StatusRule]
    """One rule per status."""


class WageSpec(Strict):
    """Employees' wages relative to their household's per-capita income."""

    ratio_to_per_capita_income: Annotated[float, Field(gt=0.0, le=20.0)]
    """An employee's wage over the household's per-capita income, before noise."""
    sigma: Annotated[float, Field(ge=0.0, le=2.0)]
    """Log-scale sd of the lognormal noise of the wage."""


class InsuranceSpec(Strict):
    """Enrolment by scheme, residence and age band."""

    uninsured: ByResidenceShares
    """Share of persons uninsured, by residence and age band."""
    uebmi_employed: ByResidenceShares
    """Share of insured persons in UEBMI as employed members, by residence and age band."""
    uebmi_retired: ByResidenceShares
    """Share of insured persons in UEBMI as retired members, by residence and age band (the rest
    of the insured are in URRBMI)."""
    income_link: Share = 0.0
    """Share of the scheme draw that follows the household's income rank instead of a fresh draw,
    so employee insurance is commoner in richer households while each band's shares are
    unchanged."""
    supplementary_uptake: ByResidenceShare
    """Share of insured persons enrolled in supplementary insurance voluntarily, by residence."""
    wage: WageSpec
    """An employee's wage: the household's per-capita income times `ratio_to_per_capita_income`
    times lognormal noise."""


class ChronicSpec(Strict):
    """Prevalence by age band of the conditions that drive chronic outpatient spending."""

    hypertension: ShareList
    """Prevalence of hypertension by age band."""
    diabetes: ShareList
    """Prevalence of diabetes by age band."""
    special_chronic: ShareList
    """Prevalence of certified chronic and special diseases (门诊慢特病) by age band."""
    rare_disease: Share
    """Share of persons with a rare disease."""
    disabled: ShareList
    """Share of persons with a certified severe disability by age band."""


STATISTICS = {
    # name: (kind, what it is)
    "households": ("level", "households represented (sum of weights)"),
    "persons": ("level", "persons represented (weights x members) matching the filters"),
    "person_share": ("share", "share of the group's persons (or of `among`) matching the filters"),
    "urban_share": ("share", "share of persons living in urban households"),
    "mean_household_size": ("level", "persons per household"),
    "income_mean": ("level", "per-capita disposable income, mean over persons (yuan)"),
    "income_median": ("level", "per-capita disposable income of the middle household when "
                               "households are ranked by it (NBS definition, yuan)"),
    "income_quintile_mean": ("level", "per-capita disposable income of a fifth of households "
                                      "ranked by it: group income / group persons (NBS 五等份, yuan)"),
    "consumption_mean": ("level", "per-capita consumption expenditure, mean over persons (yuan)"),
    "engel_coefficient": ("share", "food spending / consumption spending, totals"),
}
AGES = re.compile(r"^(\d{1,3})(?:\+|-(\d{1,3}))$")


def parse_ages(text: str) -> tuple[int, int]:
    """'60+' -> (60, 999); '15-59' -> (15, 60): a half-open age range."""
    m = AGES.match(text.strip())
    if not m:
        raise ValueError(f"ages are written '60+' or '15-59', got {text!r}")
    lo = int(m.group(1))
    hi = int(m.group(2)) + 1 if m.group(2) else 999
    if hi <= lo:
        raise ValueError(f"age range {text!r} is empty")
    return lo, hi


class TargetSpec(Strict):
    """A published (or assumed) statistic that the synthetic population should reproduce."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    """The target's name (lower-case letters, digits and '_'), unique in the spec."""
    statistic: Literal[tuple(STATISTICS)]  # type: ignore[valid-type]
    """The statistic: households, persons, person_share, urban_share, mean_household_size,
    income_mean, income_median, income_quintile_mean, consumption_mean or engel_coefficient
    (docs/populations.md)."""
    residence: Literal["all", "urban", "rural"] = "all"
    """The residence the statistic is computed in."""
    ages: str | None = None
    """Persons of these ages only, written '60+' or '15-59' (persons and person_share only)."""
    sex: Literal["male", "female"] | None = None
    """Persons of this sex only (persons and person_share only)."""
    status: Literal[codes.STATUS] | None = None  # type: ignore[valid-type]
    """Persons of households with this status only (persons and person_share only)."""
    scheme: Literal[codes.SCHEME + ("insured",)] | None = None  # type: ignore[valid-type]
    """Persons in this scheme only, or `insured` (persons and person_share only)."""
    condition: Literal[codes.CHRONIC + ("disabled",)] | None = None  # type: ignore[valid-type]
    """Persons with this condition only (persons and person_share only)."""
    supplementary: bool | None = None
    """Persons enrolled (true) or not (false) in supplementary insurance only."""
    among: Literal["all", "insured"] = "all"
    """What a person_share is a share of: all persons of the group, or the insured."""
    quintile: Literal["Q1", "Q2", "Q3", "Q4", "Q5"] | None = None
    """The fifth of households of income_quintile_mean (and only of it)."""
    target: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    """The published (or assumed) value, in the statistic's unit (yuan, persons, or a share in
    [0, 1])."""

    @model_validator(mode="after")
    def _consistent(self):
        if self.ages is not None:
            parse_ages(self.ages)
        if (self.statistic == "income_quintile_mean") != (self.quintile is not None):
            raise ValueError("'quintile' goes with (and only with) statistic income_quintile_mean")
        person_filters = (self.ages, self.sex, self.status, self.scheme, self.condition,
                          self.supplementary)
        if self.statistic not in ("persons", "person_share") and any(
                f is not None for f in person_filters):
            raise ValueError(f"statistic {self.statistic} takes no person filters "
                             "(ages, sex, status, scheme, condition, supplementary)")
        if self.statistic == "person_share" and self.target > 1.0:
            raise ValueError("a person_share target is a share in [0, 1]")
        return self

    @property
    def kind(self) -> str:
        return STATISTICS[self.statistic][0]


class ToleranceSpec(Strict):
    """How close `describe` wants each statistic: relative for levels, absolute for shares."""

    relative: Annotated[float, Field(gt=0.0, le=1.0)] = 0.02
    """How close a level must come, as a share of its target."""
    share_points: Annotated[float, Field(gt=0.0, le=1.0)] = 0.005
    """How close a share must come, absolute (0.005: half a percentage point)."""


class PopulationFile(Strict):
    """A population spec: one region-year's demography, income, poverty, enrolment and health
    use."""

    name: str
    """The spec's name."""
    year: Annotated[int, Field(ge=2000, le=2100)]
    """The base year: every amount and rate is of this year."""
    uprating: str | None = None
    """The index series that move the population to another year: a file relative to the spec
    (populations/indices/, docs/years.md); absent: the base year only."""
    demography: str | None = None
    """The life table and fertility that age the population in a projection: a file relative to
    the spec (populations/demography/, docs/years.md); absent: no projection."""
    region: Region
    """The region: code, name and Chinese name."""
    households: Annotated[int, Field(gt=0, le=2_000_000_000)]
    """The real number of households; weights are `households / N` for N synthetic households."""
    residence: ResidenceSpec
    """Urban and rural persons."""
    household_size: ByResidenceShares
    """Shares of households with 1, 2, ... members (up to 20) by residence (each sums to 1)."""
    composition: CompositionSpec
    """Who lives together: a head, a spouse, and the head's parents, children or grandchildren."""
    age: AgeSpec
    """Age bands and the shares of persons in them."""
    income: IncomeSpec
    """Per-capita disposable income by residence (Singh-Maddala)."""
    consumption: ConsumptionSpec
    """Per-capita consumption and food share by residence."""
    poverty: PovertySpec
    """The 低保 line and the rules that give households a poverty status."""
    insurance: InsuranceSpec
    """Who is insured in which scheme, supplementary uptake and wages."""
    chronic: ChronicSpec
    """Prevalence of chronic conditions and disability by age band."""
    targets: list[TargetSpec] = []
    """Statistics the synthetic population should reproduce, checked by `microsim population
    describe`."""
    tolerance: ToleranceSpec = ToleranceSpec()
    """How close `describe` wants each statistic (default: 2% for levels, 0.5 points for shares)."""
    health: HealthSpec
    """How often people fall ill and what it costs (microsim/population/spec_health.py)."""


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


def _check_composition(tree: Tree, data: PopulationFile) -> None:
    c = data.composition
    groups = c.head_age_groups
    check(len(groups) >= 1 and groups[0] == c.head_min_age
          and all(a < b for a, b in zip(groups, groups[1:])), tree,
          ("composition", "head_age_groups"),
          f"head-age groups are ascending lower edges starting at head_min_age ({c.head_min_age})")
    check(groups[-1] <= data.age.max_age, tree, ("composition", "head_age_groups"),
          "head-age groups must start below max_age")
    lo, hi = c.spouse_age_gap
    check(lo <= hi, tree, ("composition", "spouse_age_gap"), "give [smallest, largest] gap")
    lo, hi = c.generation_gap
    check(lo <= hi, tree, ("composition", "generation_gap"), "give [smallest, largest] gap")
    for res in RESIDENCES:
        rows = getattr(c.member_types, res)
        check(len(rows) == len(groups), tree, ("composition", "member_types", res),
              f"needs one row (parent, child, grandchild) per head-age group ({len(groups)}), "
              f"got {len(rows)}")
        for i, row in enumerate(rows):
            check(abs(sum(row) - 1.0) <= 1e-6, tree, ("composition", "member_types", res, str(i)),
                  f"shares must sum to 1, they sum to {sum(row):.6f}")
        check(len(getattr(c.spouse, res)) >= 1, tree, ("composition", "spouse", res),
              "give P(spouse) for households of 2, 3, ... members")


def _check_poverty(tree: Tree, data: PopulationFile) -> None:
    rules = data.poverty.rules
    statuses = [r.status for r in rules]
    dupes = sorted({s for s in statuses if statuses.count(s) > 1})
    check(not dupes, tree, ("poverty", "rules"), f"one rule per status; repeated: {dupes}")


def _check_targets(tree: Tree, data: PopulationFile) -> None:
    names = [t.name for t in data.targets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    check(not dupes, tree, ("targets",), f"target names must be unique; repeated: {dupes}")


def load_population_spec(path: str | Path) -> PopulationSpec:
    """Load, validate and cross-check a population spec."""
    path = Path(path).resolve()
    tree = load_tree(path, "population spec")
    return spec_from_tree(path, tree)


def spec_from_tree(path: Path, tree: Tree) -> PopulationSpec:
    """Validate and cross-check an already resolved spec tree (from a file or microdata)."""
    data = validate_tree(PopulationFile, tree, "population spec")
    bands = data.age.bands
    check(bands[0] == 0 and all(b < c for b, c in zip(bands, bands[1:])), tree, ("age", "bands"),
          "age bands are ascending lower edges starting at 0")
    check(bands[-1] < data.age.max_age, tree, ("age", "max_age"), "max_age must exceed the last band")
    nb = len(bands)
    for res in RESIDENCES:
        _check_shares(tree, ("age", res), getattr(data.age, res), nb, True)
        sizes = getattr(data.household_size, res)
        _check_shares(tree, ("household_size", res), sizes, None, True)
        check(1 <= len(sizes) <= 20, tree, ("household_size", res), "sizes run from 1 to at most 20")
        for name in ("uninsured", "uebmi_employed", "uebmi_retired"):
            _check_shares(tree, ("insurance", name, res), getattr(getattr(data.insurance, name), res),
                          nb, False)
        both = [e + r for e, r in zip(data.insurance.uebmi_employed.urban if res == "urban"
                                      else data.insurance.uebmi_employed.rural,
                                      getattr(data.insurance.uebmi_retired, res))]
        check(max(both) <= 1.0 + 1e-9, tree, ("insurance", "uebmi_retired", res),
              "uebmi_employed + uebmi_retired must not exceed 1 in any age band")
    for name in ("hypertension", "diabetes", "special_chronic", "disabled"):
        _check_shares(tree, ("chronic", name), getattr(data.chronic, name), nb, False)
    check_health(tree, data.health, nb)
    _check_composition(tree, data)
    _check_poverty(tree, data)
    _check_targets(tree, data)
    return PopulationSpec(path, data, tree)
