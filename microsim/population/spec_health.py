"""The health-use part of a population spec: how often people fall ill and what it costs.

Takes: the `health:` mapping of a population spec. Gives: validated parameters
for `microsim.health` (admission and visit rates by age band and sex, factors
by scheme, residence and chronic condition, facility-level choice, lognormal
costs by level, the three-way split of each bill, chronic outpatient spending,
the latent severity that ties them together), the level factors of a
region-year's use and unit costs, and the calibration targets that
`microsim health describe` shows beside the simulated values.

Cross-field rules that need the rest of the spec (one value per age band) are
checked by `check_health`, called when the spec is loaded.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from microsim.schema import Money, PositiveMoney, Share, Strict, check
from microsim.yamltree import Tree

NonNeg = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Sigma = Annotated[float, Field(ge=0.0, le=4.0)]
Correlation = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
# Mean rates of an age band. The limits are not parameters but the edge of meaning: a band
# admitted more than weekly, or seen more than daily, on average is not a population's rate
# (and would take the results' sums out of their exact range).
AdmissionRate = Annotated[float, Field(ge=0.0, le=52.0)]
VisitRate = Annotated[float, Field(ge=0.0, le=365.0)]


class LognormalCost(Strict):
    """A lognormal cost with the given arithmetic mean (yuan) and log-scale sigma."""

    mean: PositiveMoney
    sigma: Sigma


class ChronicLognormalCost(LognormalCost):
    """An annual lognormal cost, and the outpatient visits it takes a year."""

    visits_per_year: NonNeg = 0.0


class RangeCost(Strict):
    """An annual cost between `low` and `high` yuan: spread evenly (`uniform`) or evenly
    on the log scale (`log_uniform`, median at the geometric mean of the bounds)."""

    low: Money
    high: Money
    distribution: Literal["uniform", "log_uniform"] = "uniform"
    visits_per_year: NonNeg = 0.0

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError("high must be at least low")
        if self.distribution == "log_uniform" and self.low <= 0.0:
            raise ValueError("a log_uniform cost needs low above 0")
        return self


class ByLevelCost(Strict):
    primary: LognormalCost
    secondary: LognormalCost
    tertiary: LognormalCost


class ByLevelShare(Strict):
    primary: Share
    secondary: Share
    tertiary: Share


class LevelShares(Strict):
    """Shares of primary, secondary and tertiary care, by residence (each sums to 1)."""

    urban: Annotated[list[Share], Field(min_length=3, max_length=3)]
    rural: Annotated[list[Share], Field(min_length=3, max_length=3)]

    @model_validator(mode="after")
    def _sum(self):
        for name in ("urban", "rural"):
            if abs(sum(getattr(self, name)) - 1.0) > 1e-6:
                raise ValueError(f"{name} level shares must sum to 1")
        return self


class SchemeLevelShares(Strict):
    """Admission shares by level for UEBMI members (employed and retired) and for everyone
    else (URRBMI members and the uninsured), each by residence."""

    uebmi: LevelShares
    urrbmi: LevelShares


class SchemeFactor(Strict):
    uninsured: NonNeg = 1.0
    uebmi_employed: NonNeg = 1.0
    uebmi_retired: NonNeg = 1.0
    urrbmi: NonNeg = 1.0


class ResidenceFactor(Strict):
    urban: NonNeg = 1.0
    rural: NonNeg = 1.0


class ConditionFactor(Strict):
    """Use of people with a chronic condition relative to people of the same age without it.

    Factors multiply (a person with two conditions gets both) and are normalised by
    the condition's prevalence in each age band, so the age profile keeps its meaning:
    use per person at that age, whoever has the conditions."""

    hypertension: Positive = 1.0
    diabetes: Positive = 1.0
    special_chronic: Positive = 1.0


class BillSplit(Strict):
    """The parts of a bill outside the policy range: class-B self-pay and out-of-catalogue.

    For admissions the out-of-catalogue share grows with severity z: it is
    share * exp(severity_slope * (z - E[z]) - severity_slope**2 / 2) among
    admissions, so `out_of_catalogue_share` is its mean, capped so that the
    policy-range part keeps at least a tenth of the bill.
    """

    class_b_share: Share
    out_of_catalogue_share: Share
    severity_slope: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0

    @model_validator(mode="after")
    def _room(self):
        if self.class_b_share + self.out_of_catalogue_share >= 0.9:
            raise ValueError("class_b_share + out_of_catalogue_share must be below 0.9")
        return self


class InpatientUse(Strict):
    admissions_per_person: list[AdmissionRate]   # by age band, both sexes, all conditions
    female_ratio: Optional[list[Positive]] = None  # by age band, women's rate / men's rate
    scheme_factor: SchemeFactor = SchemeFactor()
    residence_factor: ResidenceFactor = ResidenceFactor()
    condition_factor: ConditionFactor = ConditionFactor()
    level_shares: SchemeLevelShares
    severity_level_loading: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    out_of_area_share: ByLevelShare = ByLevelShare(primary=0.0, secondary=0.0, tertiary=0.0)
    tcm_share: Share = 0.0          # share of admissions in traditional Chinese medicine hospitals
    cost: ByLevelCost
    severity_cost_loading: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0
    split: BillSplit


class OutpatientUse(Strict):
    visits_per_person: list[VisitRate]           # general visits by age band
    female_ratio: Optional[list[Positive]] = None
    scheme_factor: SchemeFactor = SchemeFactor()
    residence_factor: ResidenceFactor = ResidenceFactor()
    condition_factor: ConditionFactor = ConditionFactor()
    intensity_sigma: Sigma = 0.0    # log-scale sd of a person's visit intensity
    severity_correlation: Correlation = 0.0   # of the visit intensity with severity
    level_shares: LevelShares
    cost_per_visit: ByLevelCost
    split: BillSplit


class ChronicUse(Strict):
    """Annual outpatient spending of people with chronic conditions."""

    hypertension: RangeCost
    diabetes: RangeCost
    special_chronic: ChronicLognormalCost
    special_drugs_share: Share = 0.0   # share of special-chronic patients on special drugs (特药)
    special_drugs: LognormalCost
    rare_disease: LognormalCost
    severity_correlation: Correlation = 0.0   # of two-disease and special-chronic costs with severity
    split: BillSplit


class SchemeTarget(Strict):
    uebmi: Optional[Positive] = None
    urrbmi: Optional[Positive] = None


class LevelTarget(Strict):
    primary: Optional[Positive] = None
    secondary: Optional[Positive] = None
    tertiary: Optional[Positive] = None


class Tolerance(Strict):
    """How close a simulated value must come to its target: `relative` for counts and
    money, `absolute` for rates and shares (0.005 is half a percentage point)."""

    relative: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03
    absolute: Annotated[float, Field(gt=0.0, le=1.0)] = 0.005


class HealthTargets(Strict):
    """Published statistics the simulated year should reproduce (see docs/health.md)."""

    visits_per_person: Optional[Positive] = None
    hospital_cost_per_visit: Optional[Positive] = None
    admissions_per_enrollee: SchemeTarget = SchemeTarget()
    cost_per_admission: SchemeTarget = SchemeTarget()
    cost_per_admission_by_level: LevelTarget = LevelTarget()
    top1_share: Optional[Share] = None
    tolerance: Tolerance = Tolerance()


class HealthLevel(Strict):
    """Use and unit costs of a region-year relative to the levels the rest of the `health:`
    section is calibrated to (the national 2023 ones): factors that multiply the admission
    rates, the general-visit rates, the cost of every admission, and the cost of every
    outpatient bill (general visits, 两病, 门诊慢特病, special and rare-disease drugs).
    A spec for another year or place sets them from that year's (and place's) published
    levels, so that its incomes do not meet another year's prices and use."""

    admissions: Positive = 1.0
    visits: Positive = 1.0
    inpatient_cost: Positive = 1.0
    outpatient_cost: Positive = 1.0


class HealthSpec(Strict):
    severity_sigma: Sigma
    level: HealthLevel = HealthLevel()
    inpatient: InpatientUse
    outpatient: OutpatientUse
    chronic: ChronicUse
    targets: HealthTargets = HealthTargets()


def check_health(tree: Tree, health: HealthSpec, n_bands: int) -> None:
    """Rules that need the rest of the spec: one value per age band in every profile."""
    lists = (
        (("health", "inpatient", "admissions_per_person"), health.inpatient.admissions_per_person),
        (("health", "inpatient", "female_ratio"), health.inpatient.female_ratio),
        (("health", "outpatient", "visits_per_person"), health.outpatient.visits_per_person),
        (("health", "outpatient", "female_ratio"), health.outpatient.female_ratio),
    )
    for path, values in lists:
        if values is not None:
            check(len(values) == n_bands, tree, path,
                  f"needs one value per age band ({n_bands}), got {len(values)}")
