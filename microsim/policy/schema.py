"""The policy parameter schema: every rule a bureau can set, as strict pydantic models.

Takes: a resolved policy tree. Gives: a validated `PolicyFile`. The schema is
the single definition of what a policy YAML may say; `docs/policy.md` is its
reference. Absent optional sections mean "no such benefit" (rate 0), never a
hidden default generosity. Amounts are yuan per year unless named otherwise.

Every section refuses unknown keys, rates outside [0, 1], bands that do not
ascend, and caps below the deductible (or threshold) they follow; an error
names the file and the key path.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from microsim import codes
from microsim.schema import Cap, Money, Rate, Strict

Level = Literal["primary", "secondary", "tertiary"]
LEVELS: tuple[Level, ...] = ("primary", "secondary", "tertiary")
Status = Literal["tekun", "dibao", "dibian", "monitored", "illness_hardship"]
ASSISTED_GROUPS: tuple[str, ...] = ("tekun", "dibao", "dibian", "monitored", "illness_hardship")
Care = Literal["inpatient", "outpatient", "two_disease", "special_chronic", "special_drugs"]
CARE_KINDS: tuple[str, ...] = codes.CARE


class ByLevelMoney(Strict):
    primary: Money
    secondary: Money
    tertiary: Money


class ByLevelRate(Strict):
    primary: Rate
    secondary: Rate
    tertiary: Rate


class ByResidenceMoney(Strict):
    urban: Money
    rural: Money


def by_level(value: float | Strict) -> tuple[float, float, float]:
    """A scalar or a by-level model as (primary, secondary, tertiary)."""
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    return tuple(float(getattr(value, lv)) for lv in LEVELS)  # type: ignore[return-value]


def _ascending(values: list[float], what: str) -> None:
    if any(b >= c for b, c in zip(values, values[1:])):
        raise ValueError(f"bands must be in ascending order of '{what}' (got {values})")


def _cap_not_below(cap: float, floor: float, what: str, cap_name: str = "annual_cap") -> None:
    if cap < floor:
        raise ValueError(f"{cap_name} {cap} is below the {what} {floor}")


class InpatientBand(Strict):
    """From `above` yuan of an admission's policy-range cost, this rate applies."""

    above: Money
    rate: ByLevelRate | Rate


class OutOfArea(Strict):
    """Admissions outside the insuring region (异地就医): own deductible and a rate cut."""

    deductible: ByLevelMoney | Money
    rate_cut: Rate


class AgeBonus(Strict):
    """Extra inpatient rate points from an age on (e.g. +5 points from 70)."""

    from_age: Annotated[int, Field(ge=0, le=120)]
    rate: Rate


class TcmTierDown(Strict):
    """TCM hospital admissions settled one level lower (Weihai: 起付标准降低一个档次;
    employees' self-pay share as at a hospital one level lower)."""

    deductible: bool = True
    rate: bool = False


class Inpatient(Strict):
    """Basic-insurance inpatient benefits (住院统筹).

    `annual_cap` caps the year's basic payout (`cap_on: payout`), or (`cap_on:
    eligible_cost`) it is a level of the year's cumulative policy-range cost, deductibles
    included, above which basic insurance pays nothing (起付标准以上、最高支付限额以下的费用由
    统筹基金按比例支付): the cost above it stays with the person and flows on to
    critical-illness insurance."""

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
        _ascending([b.above for b in self.bands], "above")
        for lv in LEVELS:
            _cap_not_below(self.annual_cap, getattr(self.deductible, lv), f"{lv} deductible")
            if self.repeat_deductible is not None:
                _cap_not_below(self.annual_cap, getattr(self.repeat_deductible, lv),
                               f"{lv} repeat_deductible")
        if self.out_of_area is not None:
            for lv, ded in zip(LEVELS, by_level(self.out_of_area.deductible)):
                _cap_not_below(self.annual_cap, ded, f"{lv} out_of_area deductible")
        return self


class Outpatient(Strict):
    """Outpatient pooling (门诊统筹): annual deductible, rate by level, annual cap."""

    deductible: Money = 0.0
    rate: ByLevelRate
    annual_cap: Cap

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        return self


class TwoDiseaseCaps(Strict):
    """Annual payout caps per disease; `combined` caps the sum for a person with both."""

    hypertension: Cap
    diabetes: Cap
    combined: Cap | None = None


class TwoDisease(Strict):
    """"两病" outpatient drugs for hypertension and diabetes: rate and a cap per disease.
    The deductible applies to each disease's annual policy-range spending."""

    deductible: Money = 0.0
    rate: Rate
    caps: TwoDiseaseCaps

    @model_validator(mode="after")
    def _cap(self):
        for name in ("hypertension", "diabetes", "combined"):
            cap = getattr(self.caps, name)
            if cap is not None:
                _cap_not_below(cap, self.deductible, "deductible", f"caps.{name}")
        return self


class SpecialChronic(Strict):
    """门诊慢特病: certified chronic and special diseases treated as outpatients."""

    deductible: Money = 0.0
    rate: Rate
    annual_cap: Cap

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        return self


class SpecialDrugs(Strict):
    """Special drugs (特药, 双通道) paid by basic insurance at their own rate and cap."""

    rate: Rate
    annual_cap: Cap


class SchemeRules(Strict):
    """The basic-insurance benefits of one scheme."""

    inpatient: Inpatient
    outpatient: Outpatient | None = None
    two_disease: TwoDisease | None = None
    special_chronic: SpecialChronic | None = None
    special_drugs: SpecialDrugs | None = None
    account_pays: list[Care] = []   # care whose in-catalogue self-pay the account pays


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
    """A threshold as a share of prior-year per-capita disposable income, one income for
    everyone or one per residence (urban residents' and rural residents' income)."""

    share_of_income: Rate
    income: Money | ByResidenceMoney

    def amount(self, residence: str) -> float:
        income = self.income if isinstance(self.income, (int, float)) else getattr(
            self.income, residence)
        return float(self.share_of_income * income)


class CiiBand(Strict):
    """From `from_amount` yuan of the base this rate applies (see `bands_on`)."""

    from_amount: Money = Field(alias="from")
    rate: Rate


class Tilt(Strict):
    """Critical-illness tilt for a status group (倾斜): lower threshold, higher rates, no cap.
    `rate_bonus` is one bonus for every band or a list with one bonus per band."""

    threshold_factor: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    rate_bonus: Rate | Annotated[list[Rate], Field(min_length=1, max_length=8)] = 0.0
    no_cap: bool = False

    def bonuses(self, n_bands: int) -> list[float]:
        if isinstance(self.rate_bonus, list):
            return [float(b) for b in self.rate_bonus]
        return [float(self.rate_bonus)] * n_bands


class CiiSpecialDrugs(Strict):
    """Special drugs (特药) settled by critical-illness insurance with their own rate and cap,
    on their self-pay after basic insurance above an annual deductible. `rare_disease: false`
    leaves the drugs of rare diseases (Gaucher, Pompe, Fabry) out of the track (Weihai before
    2021): they are then not paid by critical-illness insurance at all."""

    deductible: Money = 0.0
    rate: Rate
    annual_cap: Cap
    rare_disease: bool = True

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        return self


class CriticalIllnessRules(Strict):
    """大病保险: a step rate over the year's cumulative self-pay above a threshold.

    `base: above_basic_cap` (employees' large-expense cover 职工大额) counts instead only the
    policy-range cost of admissions above the point where the basic fund's annual inpatient
    cap is reached (the part basic insurance stops paying), so that the cover starts where
    the basic cap ends; the threshold then counts on that base (0: right at the cap)."""

    threshold: Money | Threshold
    base: Literal["self_pay", "above_basic_cap"] = "self_pay"
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
        _ascending(froms, "from")
        if self.bands_on == "above_threshold" and froms[0] != 0:
            raise ValueError("with bands_on: above_threshold the first band starts 'from: 0'")
        for name, tilt in self.tilt.items():
            if isinstance(tilt.rate_bonus, list) and len(tilt.rate_bonus) != len(self.bands):
                raise ValueError(f"tilt.{name}.rate_bonus lists {len(tilt.rate_bonus)} bonuses "
                                 f"for {len(self.bands)} bands; give one per band or a single "
                                 "number")
        for residence in ("urban", "rural"):
            _cap_not_below(self.annual_cap, self.threshold_amount(residence), "threshold")
        if self.base == "above_basic_cap" and (self.include_class_b or self.include_outpatient
                                               or self.special_drugs is not None):
            raise ValueError("with base: above_basic_cap the base is the policy-range cost of "
                             "admissions above the basic cap: include_class_b, "
                             "include_outpatient and special_drugs do not apply")
        return self

    def threshold_amount(self, residence: str = "urban") -> float:
        t = self.threshold
        return float(t) if isinstance(t, (int, float)) else t.amount(residence)


class CriticalIllness(Strict):
    """大病保险 for residents and, where a city has it, for employees."""

    residents: CriticalIllnessRules | None = None
    employees: CriticalIllnessRules | None = None


class AssistanceGroup(Strict):
    """医疗救助 for one group: annual deductible, rate and cap on the year's self-pay."""

    deductible: Money = 0.0
    rate: Rate
    annual_cap: Cap
    outpatient_cap: Cap | None = None   # a separate outpatient cap when caps are not shared

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        if self.outpatient_cap is not None:
            _cap_not_below(self.outpatient_cap, self.deductible, "deductible", "outpatient_cap")
        return self


class TiltedGroup(Strict):
    """倾斜救助: a second stage on what the first leaves, above its own threshold."""

    threshold: Money
    rate: Rate
    annual_cap: Cap

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.threshold, "threshold")
        return self


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
        missing = sorted(set(self.tilted) - set(self.groups))
        if missing:
            raise ValueError(f"tilted assistance for {missing} needs the group's first stage "
                             "under 'groups'")
        return self


class SupBand(Strict):
    from_amount: Money = Field(alias="from")
    rate: Rate


SupBase = Literal["policy_range_residual", "class_b", "in_catalogue_residual",
                  "out_of_catalogue", "special_drugs"]


class Liability(Strict):
    """One liability of a supplementary product: a step rate over its cumulative base above
    a deductible, with an annual cap, for the listed kinds of care."""

    name: str
    base: SupBase
    share_of_base: Rate = 1.0          # e.g. listed out-of-catalogue drugs' share of that spending
    deductible: Money = 0.0
    bands: Annotated[list[SupBand], Field(min_length=1, max_length=8)]
    annual_cap: Cap
    care: Annotated[list[Care], Field(min_length=1)] = list(CARE_KINDS)

    @model_validator(mode="after")
    def _bands(self):
        froms = [b.from_amount for b in self.bands]
        if froms[0] != 0:
            raise ValueError("bands start 'from: 0'; 'from' counts yuan above the deductible")
        _ascending(froms, "from")
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
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
    """资助参保: the part of a resident's individual contribution paid by medical assistance:
    `share` of it plus a fixed `amount`, never more than the contribution."""

    share: Rate = 0.0
    amount: Money = 0.0


class EmployeeFinancing(Strict):
    employer_rate: Rate
    employee_rate: Rate
    wage_floor_monthly: Money
    wage_ceiling_monthly: Cap
    account_share_of_employee: Rate = 1.0      # employee contribution credited to the account
    retiree_account_credit: Money = 0.0        # yuan per retiree per year
    # accumulated individual-account balance at the start of the year, yuan per member: the
    # account spends this year's credit and then this balance (its spending is account
    # expenditure; its revenue is only the year's credit)
    account_balance_per_member: Money = 0.0
    # 家庭共济: the share of what is left in a member's account after their own care that pays
    # the in-catalogue self-pay of the other members of the household (any scheme)
    account_family_share: Rate = 0.0

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
    """Medical-assistance financing in the year and the accumulated balance it starts from,
    yuan per resident (every person, insured or not)."""

    financing_per_person: Money
    opening_balance_per_person: Money | None = None


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
        if self.basic.urrbmi is not None and (f.urbmi is not None or f.ncms is not None):
            raise ValueError("financing.urbmi and financing.ncms belong to residents' schemes "
                             "before integration; an integrated 'urrbmi' is financed by "
                             "financing.residents")
        if self.basic.urrbmi is None and f.residents is not None:
            raise ValueError("financing.residents finances an integrated 'urrbmi'; before "
                             "integration give financing.urbmi and financing.ncms")
        return self
