"""The health-use part of a population spec: how often people fall ill and what it costs.

Takes: the `health:` mapping of a population spec. Gives: validated parameters
for `microsim.health` (admission and visit rates by age band, facility-level
choice, lognormal costs by level, the three-way split of each bill, chronic
outpatient spending, and the latent severity that ties them together).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from microsim.schema import Money, PositiveMoney, Share, Strict

NonNeg = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Sigma = Annotated[float, Field(ge=0.0, le=4.0)]


class LognormalCost(Strict):
    """A lognormal cost with the given arithmetic mean (yuan) and log-scale sigma."""

    mean: PositiveMoney
    sigma: Sigma


class UniformCost(Strict):
    """An annual cost spread evenly between `low` and `high` yuan."""

    low: Money
    high: Money

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class ByLevelCost(Strict):
    primary: LognormalCost
    secondary: LognormalCost
    tertiary: LognormalCost


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


class SchemeFactor(Strict):
    uninsured: NonNeg = 1.0
    uebmi_employed: NonNeg = 1.0
    uebmi_retired: NonNeg = 1.0
    urrbmi: NonNeg = 1.0


class ResidenceFactor(Strict):
    urban: NonNeg = 1.0
    rural: NonNeg = 1.0


class BillSplit(Strict):
    """The parts of a bill outside the policy range: class-B self-pay and out-of-catalogue.

    The out-of-catalogue share grows with severity z: share * exp(severity_slope * z),
    capped so that the policy-range part is never negative.
    """

    class_b_share: Share
    out_of_catalogue_share: Share
    severity_slope: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0

    @model_validator(mode="after")
    def _room(self):
        if self.class_b_share + self.out_of_catalogue_share >= 1.0:
            raise ValueError("class_b_share + out_of_catalogue_share must be below 1")
        return self


class InpatientUse(Strict):
    admissions_per_person: list[NonNeg]
    scheme_factor: SchemeFactor = SchemeFactor()
    residence_factor: ResidenceFactor = ResidenceFactor()
    level_shares: LevelShares
    severity_level_shift: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    out_of_area_share: Share = 0.0
    tcm_share: Share = 0.0          # share of admissions in traditional Chinese medicine hospitals
    cost: ByLevelCost
    severity_cost_loading: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0
    split: BillSplit


class OutpatientUse(Strict):
    visits_per_person: list[NonNeg]
    severity_weight: Annotated[float, Field(ge=0.0, le=2.0)] = 0.5  # of the inpatient severity sigma
    scheme_factor: SchemeFactor = SchemeFactor()
    level_shares: LevelShares
    cost_per_visit: ByLevelCost
    split: BillSplit


class ChronicUse(Strict):
    """Annual outpatient spending of people with chronic conditions."""

    hypertension: UniformCost
    diabetes: UniformCost
    special_chronic: LognormalCost
    special_drugs_share: Share = 0.0   # share of special-chronic patients on special drugs (特药)
    special_drugs: LognormalCost
    rare_disease: LognormalCost
    split: BillSplit


class HealthSpec(Strict):
    severity_sigma: Sigma
    inpatient: InpatientUse
    outpatient: OutpatientUse
    chronic: ChronicUse
