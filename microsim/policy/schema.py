"""The policy parameter schema: every rule a bureau can set, as strict pydantic models.

Takes: a resolved policy tree. Gives: a validated `PolicyFile`. The schema is
the single definition of what a policy YAML may say; `docs/policy.md` is its
reference. Absent optional sections mean "no such benefit" (rate 0), never a
hidden default generosity. Amounts are yuan per year unless named otherwise.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from microsim.schema import Cap, Money, Rate, Strict

Level = Literal["primary", "secondary", "tertiary"]
LEVELS: tuple[Level, ...] = ("primary", "secondary", "tertiary")
Status = Literal["tekun", "dibao", "dibian", "monitored", "illness_hardship"]
ASSISTED_GROUPS: tuple[str, ...] = ("tekun", "dibao", "dibian", "monitored", "illness_hardship")


class ByLevelMoney(Strict):
    primary: Money
    secondary: Money
    tertiary: Money


class ByLevelRate(Strict):
    primary: Rate
    secondary: Rate
    tertiary: Rate


def by_level(value: float | Strict) -> tuple[float, float, float]:
    """A scalar or a by-level model as (primary, secondary, tertiary)."""
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    return tuple(float(getattr(value, lv)) for lv in LEVELS)  # type: ignore[return-value]


class InpatientBand(Strict):
    """From `above` yuan of an admission's policy-range cost, this rate applies."""

    above: Money
    rate: ByLevelRate | Rate


class OutOfArea(Strict):
    """Admissions outside the insuring region (异地就医): own deductible and a rate cut."""

    deductible: ByLevelMoney | Money
    rate_cut: Rate


class AgeBonus(Strict):
    from_age: Annotated[int, Field(ge=0, le=120)]
    rate: Rate


class TcmTierDown(Strict):
    """TCM hospital admissions settled one level lower (Weihai: 降低一个档次)."""

    deductible: bool = True
    rate: bool = False


class Inpatient(Strict):
    deductible: ByLevelMoney
    repeat_deductible: ByLevelMoney | None = None      # second and later admissions
    rate: ByLevelRate
    bands: Annotated[list[InpatientBand], Field(max_length=5)] = []
    age_bonus: AgeBonus | None = None
    out_of_area: OutOfArea | None = None
    tcm_tier_down: TcmTierDown | None = None
    annual_cap: Cap
    cap_on: Literal["payout", "eligible_cost"] = "payout"

    @model_validator(mode="after")
    def _rules(self):
        aboves = [b.above for b in self.bands]
        if any(b >= c for b, c in zip(aboves, aboves[1:])):
            raise ValueError("bands must be in ascending order of 'above'")
        for lv in LEVELS:
            if self.annual_cap < getattr(self.deductible, lv):
                raise ValueError(f"annual_cap {self.annual_cap} is below the {lv} deductible")
        return self


class Outpatient(Strict):
    """Outpatient pooling (门诊统筹): annual deductible, rate by level, annual cap."""

    deductible: Money = 0.0
    rate: ByLevelRate
    annual_cap: Cap

    @model_validator(mode="after")
    def _cap(self):
        if self.annual_cap < self.deductible:
            raise ValueError("annual_cap is below the deductible")
        return self


class TwoDiseaseCaps(Strict):
    hypertension: Cap
    diabetes: Cap


class TwoDisease(Strict):
    """"两病" outpatient drugs for hypertension and diabetes: rate and a cap per disease."""

    deductible: Money = 0.0
    rate: Rate
    caps: TwoDiseaseCaps


class SpecialChronic(Strict):
    """门诊慢特病: certified chronic and special diseases treated as outpatients."""

    deductible: Money = 0.0
    rate: Rate
    annual_cap: Cap

    @model_validator(mode="after")
    def _cap(self):
        if self.annual_cap < self.deductible:
            raise ValueError("annual_cap is below the deductible")
        return self


class SpecialDrugs(Strict):
    rate: Rate
    annual_cap: Cap


AccountCare = Literal["inpatient", "outpatient", "two_disease", "special_chronic", "special_drugs"]


class SchemeRules(Strict):
    """The basic-insurance benefits of one scheme."""

    inpatient: Inpatient
    outpatient: Outpatient | None = None
    two_disease: TwoDisease | None = None
    special_chronic: SpecialChronic | None = None
    special_drugs: SpecialDrugs | None = None
    account_pays: list[AccountCare] = []   # care whose in-catalogue self-pay the account pays


class Basic(Strict):
    """Basic medical insurance. Residents are covered by `urrbmi` after integration, or by
    `urbmi` (urban) and `ncms` (rural) before it."""

    uebmi_employed: SchemeRules
    uebmi_retired: SchemeRules
    urrbmi: SchemeRules | None = None
    urbmi: SchemeRules | None = None
    ncms: SchemeRules | None = None

    @model_validator(mode="after")
    def _residents(self):
        integrated = self.urrbmi is not None
        split = self.urbmi is not None or self.ncms is not None
        if integrated == split:
            raise ValueError("give residents' rules either as 'urrbmi' (integrated) or as both "
                             "'urbmi' and 'ncms' (before integration), not both or neither")
        if split and (self.urbmi is None or self.ncms is None):
            raise ValueError("before integration both 'urbmi' and 'ncms' are needed")
        return self


class Threshold(Strict):
    """A threshold as a share of prior-year per-capita disposable income."""

    share_of_income: Rate
    income: Money


class CiiBand(Strict):
    """From `from_amount` yuan of the base this rate applies (see `bands_on`)."""

    from_amount: Money = Field(alias="from")
    rate: Rate


class Tilt(Strict):
    """Critical-illness tilt for a status group (倾斜): lower threshold, higher rates, no cap."""

    threshold_factor: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    rate_bonus: Rate = 0.0
    no_cap: bool = False


class CiiSpecialDrugs(Strict):
    """Special drugs (特药) settled by critical-illness insurance with their own rate and cap."""

    rate: Rate
    annual_cap: Cap


class CriticalIllnessRules(Strict):
    threshold: Money | Threshold
    bands_on: Literal["cumulative", "above_threshold"] = "above_threshold"
    bands: Annotated[list[CiiBand], Field(min_length=1, max_length=8)]
    annual_cap: Cap
    include_class_b: bool = False
    include_outpatient: bool = False
    special_drugs: CiiSpecialDrugs | None = None
    tilt: dict[Status, Tilt] = {}

    @model_validator(mode="after")
    def _bands(self):
        froms = [b.from_amount for b in self.bands]
        if any(b >= c for b, c in zip(froms, froms[1:])):
            raise ValueError("bands must be in ascending order of 'from'")
        if self.bands_on == "above_threshold" and froms[0] != 0:
            raise ValueError("with bands_on: above_threshold the first band starts 'from: 0'")
        return self

    def threshold_amount(self) -> float:
        t = self.threshold
        return float(t) if isinstance(t, (int, float)) else t.share_of_income * t.income


class CriticalIllness(Strict):
    """大病保险 for residents and, where a city has it, for employees."""

    residents: CriticalIllnessRules | None = None
    employees: CriticalIllnessRules | None = None


class AssistanceGroup(Strict):
    deductible: Money = 0.0
    rate: Rate
    annual_cap: Cap
    outpatient_cap: Cap | None = None   # a separate outpatient cap when caps are not shared


class TiltedGroup(Strict):
    """倾斜救助: a second stage on what the first leaves, above its own threshold."""

    threshold: Money
    rate: Rate
    annual_cap: Cap


class OopCap(Strict):
    """支付封顶: an annual out-of-pocket cap for poor families (Jiaxing)."""

    base: Literal["in_catalogue", "all"] = "in_catalogue"
    per: Literal["household", "person"] = "household"
    groups: dict[Status, Money]


class IllnessHardship(Strict):
    """因病支出型: general households whose in-catalogue self-pay after basic and critical-illness
    insurance exceeds this share of household income become eligible for the group's assistance."""

    share_of_income: Annotated[float, Field(gt=0.0, le=10.0)]


class MedicalAssistance(Strict):
    include_class_b: bool = False
    shared_cap: bool = True
    groups: dict[Status, AssistanceGroup] = {}
    tilted: dict[Status, TiltedGroup] = {}
    oop_cap: OopCap | None = None
    illness_hardship: IllnessHardship | None = None

    @model_validator(mode="after")
    def _hardship(self):
        if self.illness_hardship is not None and "illness_hardship" not in self.groups:
            raise ValueError("illness_hardship needs a group 'illness_hardship' with its terms")
        return self


class SupBand(Strict):
    from_amount: Money = Field(alias="from")
    rate: Rate


SupBase = Literal["policy_range_residual", "class_b", "in_catalogue_residual",
                  "out_of_catalogue", "special_drugs"]


class Liability(Strict):
    name: str
    base: SupBase
    share_of_base: Rate = 1.0          # e.g. listed out-of-catalogue drugs' share of that spending
    deductible: Money = 0.0
    bands: Annotated[list[SupBand], Field(min_length=1, max_length=8)]
    annual_cap: Cap

    @model_validator(mode="after")
    def _bands(self):
        froms = [b.from_amount for b in self.bands]
        if froms[0] != 0 or any(b >= c for b, c in zip(froms, froms[1:])):
            raise ValueError("bands start 'from: 0' and ascend; 'from' counts yuan above the "
                             "deductible")
        return self


class GovernmentPaid(Strict):
    """Groups whose premium the government pays (and who are therefore all enrolled)."""

    statuses: list[Literal["tekun", "dibao", "dibian", "monitored"]] = []
    from_age: Annotated[int, Field(ge=0, le=120)] | None = None
    disabled: bool = False


class Supplementary(Strict):
    """City supplementary insurance (惠民保: 浙丽保, 威你保, 大病无忧)."""

    name: str
    premium: Money
    enrolment: Literal["population"] | Rate = "population"   # population flag or an uptake share
    government_paid: GovernmentPaid = GovernmentPaid()
    liabilities: Annotated[list[Liability], Field(min_length=1, max_length=6)]


class ResidentFinancing(Strict):
    individual: Money
    subsidy: Money


class AssistedContribution(Strict):
    """资助参保: the part of a resident's individual contribution paid by medical assistance."""

    share: Rate = 0.0
    amount: Money = 0.0


class EmployeeFinancing(Strict):
    employer_rate: Rate
    employee_rate: Rate
    wage_floor_monthly: Money
    wage_ceiling_monthly: Cap
    account_share_of_employee: Rate = 1.0      # employee contribution credited to the account
    retiree_account_credit: Money = 0.0        # yuan per retiree per year

    @model_validator(mode="after")
    def _base(self):
        if self.wage_ceiling_monthly < self.wage_floor_monthly:
            raise ValueError("wage_ceiling_monthly is below wage_floor_monthly")
        return self


class Financing(Strict):
    residents: ResidentFinancing | None = None
    urbmi: ResidentFinancing | None = None
    ncms: ResidentFinancing | None = None
    assisted: dict[Literal["tekun", "dibao", "dibian", "monitored"], AssistedContribution] = {}
    employees: EmployeeFinancing


class CriticalIllnessFunding(Strict):
    """Which fund pays each scheme's critical-illness insurance: the scheme's basic fund (as
    residents' 大病保险 is usually bought from the URRBMI fund) or a separate arrangement."""

    residents: Literal["basic_fund", "separate"]
    employees: Literal["basic_fund", "separate"]


class OpeningBalance(Strict):
    """Accumulated fund balance at the start of the year, yuan per insured person."""

    uebmi: Money | None = None
    urrbmi: Money | None = None


class AssistanceFinancing(Strict):
    financing_per_person: Money      # medical-assistance financing, yuan per resident per year


class Funds(Strict):
    """How payments map onto funds, and the balances they start from (fund indicators only;
    settlement does not read it)."""

    critical_illness_paid_by: CriticalIllnessFunding
    opening_balance_per_insured: OpeningBalance | None = None
    medical_assistance: AssistanceFinancing | None = None


class PolicyFile(Strict):
    name: str
    name_zh: str = ""
    year: Annotated[int, Field(ge=2000, le=2100)]
    region: str
    description: str = ""
    basic: Basic
    critical_illness: CriticalIllness = CriticalIllness()
    medical_assistance: MedicalAssistance = MedicalAssistance()
    supplementary: Supplementary | None = None
    financing: Financing
    funds: Funds | None = None

    @model_validator(mode="after")
    def _financing_matches(self):
        f = self.financing
        if self.basic.urrbmi is not None and f.residents is None:
            raise ValueError("financing.residents is needed for an integrated 'urrbmi'")
        if self.basic.urrbmi is None and (f.urbmi is None or f.ncms is None):
            raise ValueError("financing.urbmi and financing.ncms are needed before integration")
        return self
