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
    """Arithmetic mean, yuan."""
    sigma: Sigma
    """Log-scale standard deviation."""


class ChronicLognormalCost(LognormalCost):
    """An annual lognormal cost, and the outpatient visits it takes a year."""

    visits_per_year: NonNeg = 0.0
    """Chronic-management outpatient visits a year, counted in visits per person."""


class RangeCost(Strict):
    """An annual cost between `low` and `high` yuan: spread evenly (`uniform`) or evenly
    on the log scale (`log_uniform`, median at the geometric mean of the bounds)."""

    low: Money
    """The lowest annual cost, yuan."""
    high: Money
    """The highest annual cost, yuan."""
    distribution: Literal["uniform", "log_uniform"] = "uniform"
    """`uniform` between the bounds, or `log_uniform` (even on the log scale)."""
    visits_per_year: NonNeg = 0.0
    """Chronic-management outpatient visits a year, counted in visits per person."""

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError("high must be at least low")
        if self.distribution == "log_uniform" and self.low <= 0.0:
            raise ValueError("a log_uniform cost needs low above 0")
        return self


class ByLevelCost(Strict):
    """A lognormal cost at each facility level."""

    primary: LognormalCost
    """At primary facilities."""
    secondary: LognormalCost
    """At secondary hospitals."""
    tertiary: LognormalCost
    """At tertiary hospitals."""


class ByLevelShare(Strict):
    """A share at each facility level."""

    primary: Share
    """At primary facilities."""
    secondary: Share
    """At secondary hospitals."""
    tertiary: Share
    """At tertiary hospitals."""


class LevelShares(Strict):
    """Shares of primary, secondary and tertiary care, by residence (each sums to 1)."""

    urban: Annotated[list[Share], Field(min_length=3, max_length=3)]
    """Urban residents' [primary, secondary, tertiary] shares."""
    rural: Annotated[list[Share], Field(min_length=3, max_length=3)]
    """Rural residents' [primary, secondary, tertiary] shares."""

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
    """UEBMI members' (employed and retired) shares."""
    urrbmi: LevelShares
    """Everyone else's shares: URRBMI members and the uninsured."""


class SchemeFactor(Strict):
    """Factors on use by scheme (1: no difference)."""

    uninsured: NonNeg = 1.0
    """Multiplies the use of uninsured persons."""
    uebmi_employed: NonNeg = 1.0
    """Multiplies the use of employed UEBMI members."""
    uebmi_retired: NonNeg = 1.0
    """Multiplies the use of retired UEBMI members."""
    urrbmi: NonNeg = 1.0
    """Multiplies the use of URRBMI members."""


class ResidenceFactor(Strict):
    """Factors on use by residence (1: no difference)."""

    urban: NonNeg = 1.0
    """Multiplies the use of urban residents."""
    rural: NonNeg = 1.0
    """Multiplies the use of rural residents."""


class ConditionFactor(Strict):
    """Use of people with a chronic condition relative to people of the same age without it.

    Factors multiply (a person with two conditions gets both) and are normalised by
    the condition's prevalence in each age band, so the age profile keeps its meaning:
    use per person at that age, whoever has the conditions."""

    hypertension: Positive = 1.0
    """Use of people with hypertension relative to people of the same age without it."""
    diabetes: Positive = 1.0
    """Use of people with diabetes relative to people of the same age without it."""
    special_chronic: Positive = 1.0
    """Use of people with a certified chronic or special disease relative to people of the same
    age without one."""


class BillSplit(Strict):
    """The parts of a bill outside the policy range: class-B self-pay and out-of-catalogue.

    For admissions the out-of-catalogue share grows with severity z: it is
    share * exp(severity_slope * (z - E[z]) - severity_slope**2 / 2) among
    admissions, so `out_of_catalogue_share` is its mean, capped so that the
    policy-range part keeps at least a tenth of the bill.
    """

    class_b_share: Share
    """Class-B self-pay (乙类先自付) as a share of the bill."""
    out_of_catalogue_share: Share
    """Out-of-catalogue (目录外) spending as a share of the bill; for admissions, its mean."""
    severity_slope: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0
    """g: how fast an admission's out-of-catalogue share grows with severity."""

    @model_validator(mode="after")
    def _room(self):
        if self.class_b_share + self.out_of_catalogue_share >= 0.9:
            raise ValueError("class_b_share + out_of_catalogue_share must be below 0.9")
        return self


class InpatientUse(Strict):
    """Admissions: how often, at which level, what they cost and how their bills split."""

    admissions_per_person: list[AdmissionRate]
    """Admissions per person and year by age band, both sexes, all conditions."""
    female_ratio: Optional[list[Positive]] = None
    """Women's admission rate over men's by age band; absent: 1 in every band."""
    scheme_factor: SchemeFactor = SchemeFactor()
    """Admission rate factors by scheme."""
    residence_factor: ResidenceFactor = ResidenceFactor()
    """Admission rate factors by residence."""
    condition_factor: ConditionFactor = ConditionFactor()
    """Admission rate factors by chronic condition (they multiply, normalised by prevalence)."""
    level_shares: SchemeLevelShares
    """Shares of admissions by facility level, for UEBMI members and for everyone else, by
    residence."""
    severity_level_loading: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    """β: how strongly severity moves an admission to a higher level (the shares stay exact)."""
    out_of_area_share: ByLevelShare = ByLevelShare(primary=0.0, secondary=0.0, tertiary=0.0)
    """Share of admissions out of the insuring region (异地就医) by facility level."""
    tcm_share: Share = 0.0
    """Share of admissions in traditional Chinese medicine hospitals."""
    cost: ByLevelCost
    """Lognormal cost of an admission by facility level: its mean (yuan) and sigma."""
    severity_cost_loading: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0
    """λ: how strongly severity raises the cost of an admission (the means stay exact)."""
    split: BillSplit
    """How an admission's bill splits into policy-range, class-B and out-of-catalogue parts."""


class OutpatientUse(Strict):
    """General outpatient visits: how often, at which level, what they cost and how their bills
    split."""

    visits_per_person: list[VisitRate]
    """General outpatient visits per person and year by age band."""
    female_ratio: Optional[list[Positive]] = None
    """Women's visit rate over men's by age band; absent: 1 in every band."""
    scheme_factor: SchemeFactor = SchemeFactor()
    """Visit rate factors by scheme."""
    residence_factor: ResidenceFactor = ResidenceFactor()
    """Visit rate factors by residence."""
    condition_factor: ConditionFactor = ConditionFactor()
    """Visit rate factors by chronic condition."""
    intensity_sigma: Sigma = 0.0
    """σ_v: log-scale standard deviation of a person's visit intensity."""
    severity_correlation: Correlation = 0.0
    """ρ: correlation of the visit intensity with severity."""
    level_shares: LevelShares
    """Shares of visits by facility level, by residence."""
    cost_per_visit: ByLevelCost
    """Lognormal cost of a visit by facility level: its mean (yuan) and sigma."""
    split: BillSplit
    """How a visit's bill splits into policy-range, class-B and out-of-catalogue parts."""


class ChronicUse(Strict):
    """Annual outpatient spending of people with chronic conditions."""

    hypertension: RangeCost
    """Annual outpatient spending of a person with hypertension (两病), yuan."""
    diabetes: RangeCost
    """Annual outpatient spending of a person with diabetes (两病), yuan."""
    special_chronic: ChronicLognormalCost
    """Annual outpatient spending of a 门诊慢特病 patient: lognormal, yuan."""
    special_drugs_share: Share = 0.0
    """Share of special-chronic patients who also take special drugs (特药)."""
    special_drugs: LognormalCost
    """Annual cost of special drugs: lognormal, yuan."""
    rare_disease: LognormalCost
    """Annual cost of a rare-disease patient's enzyme-replacement drugs: lognormal, yuan."""
    severity_correlation: Correlation = 0.0
    """ρ_c: correlation of two-disease and special-chronic costs with severity."""
    split: BillSplit
    """How chronic outpatient bills split into policy-range, class-B and out-of-catalogue parts."""


class SchemeTarget(Strict):
    """A target for each scheme."""

    uebmi: Optional[Positive] = None
    """For UEBMI members."""
    urrbmi: Optional[Positive] = None
    """For URRBMI members."""


class LevelTarget(Strict):
    """A target for each facility level."""

    primary: Optional[Positive] = None
    """At primary facilities, yuan."""
    secondary: Optional[Positive] = None
    """At secondary hospitals, yuan."""
    tertiary: Optional[Positive] = None
    """At tertiary hospitals, yuan."""


class Tolerance(Strict):
    """How close a simulated value must come to its target: `relative` for counts and
    money, `absolute` for rates and shares (0.005 is half a percentage point)."""

    relative: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03
    """For counts and money: a share of the target."""
    absolute: Annotated[float, Field(gt=0.0, le=1.0)] = 0.005
    """For rates and shares: an absolute difference (0.005: half a percentage point)."""


class HealthTargets(Strict):
    """Published statistics the simulated year should reproduce (see docs/health.md)."""

    visits_per_person: Optional[Positive] = None
    """Outpatient visits per person and year (general and chronic-management)."""
    hospital_cost_per_visit: Optional[Positive] = None
    """Hospital cost per outpatient visit, yuan."""
    admissions_per_enrollee: SchemeTarget = SchemeTarget()
    """Admissions per member and year, by scheme."""
    cost_per_admission: SchemeTarget = SchemeTarget()
    """Cost per admission by scheme, yuan."""
    cost_per_admission_by_level: LevelTarget = LevelTarget()
    """Cost per admission by facility level, yuan."""
    top1_share: Optional[Share] = None
    """Share of spending of the top 1% of persons."""
    tolerance: Tolerance = Tolerance()
    """How close a simulated value must come to its target."""


class HealthLevel(Strict):
    """Use and unit costs of a region-year relative to the levels the rest of the `health:`
    section is calibrated to (the national 2023 ones): factors that multiply the admission
    rates, the general-visit rates, the cost of every admission, and the cost of every
    outpatient bill (general visits, 两病, 门诊慢特病, special and rare-disease drugs).
    A spec for another year or place sets them from that year's (and place's) published
    levels, so that its incomes do not meet another year's prices and use."""

    admissions: Positive = 1.0
    """Multiplies every admission rate."""
    visits: Positive = 1.0
    """Multiplies every general-visit rate."""
    inpatient_cost: Positive = 1.0
    """Multiplies the cost of every admission."""
    outpatient_cost: Positive = 1.0
    """Multiplies the cost of every outpatient bill."""


class HealthSpec(Strict):
    """Health use: severity, use and unit-cost levels, admissions, visits, chronic spending and
    targets."""

    severity_sigma: Sigma
    """s: how much the latent severity spreads admissions (a Poisson-lognormal mixture with
    log-scale sd s)."""
    level: HealthLevel = HealthLevel()
    """Use and unit costs of the region-year relative to the national 2023 levels (default: 1,
    those levels)."""
    inpatient: InpatientUse
    """Admissions: rates, facility level, cost and bill split."""
    outpatient: OutpatientUse
    """General outpatient visits: rates, intensity, facility level, cost and bill split."""
    chronic: ChronicUse
    """Annual outpatient spending of people with chronic conditions."""
    targets: HealthTargets = HealthTargets()
    """Published statistics the simulated year should reproduce (`microsim health describe`)."""


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
