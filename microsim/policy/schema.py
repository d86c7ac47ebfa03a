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
    """At primary facilities (township and community health centres)."""
    secondary: Money
    """At secondary hospitals."""
    tertiary: Money
    """At tertiary hospitals."""


class ByLevelRate(Strict):
    primary: Rate
    """At primary facilities (township and community health centres)."""
    secondary: Rate
    """At secondary hospitals."""
    tertiary: Rate
    """At tertiary hospitals."""


class ByResidenceMoney(Strict):
    urban: Money
    """For urban residents, yuan."""
    rural: Money
    """For rural residents, yuan."""


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
    """A level of the admission's policy-range cost, in yuan, from which the band's rate applies."""
    rate: ByLevelRate | Rate
    """The rate from `above` on: one number, or one per facility level."""


class OutOfArea(Strict):
    """Admissions outside the insuring region (异地就医): own deductible and a rate cut."""

    deductible: ByLevelMoney | Money
    """Deductible of an out-of-area admission, yuan: one amount or one per facility level."""
    rate_cut: Rate
    """Points taken off the inpatient rate of an out-of-area admission (0.1: ten points)."""


class AgeBonus(Strict):
    """Extra inpatient rate points from an age on (e.g. +5 points from 70)."""

    from_age: Annotated[int, Field(ge=0, le=120)]
    """Age in years from which the bonus applies."""
    rate: Rate
    """Points added to every inpatient rate from that age (0.05: five points)."""


class TcmTierDown(Strict):
    """TCM hospital admissions settled one level lower (Weihai: 起付标准降低一个档次;
    employees' self-pay share as at a hospital one level lower)."""

    deductible: bool = True
    """Admissions at TCM hospitals use the deductible of one level lower."""
    rate: bool = False
    """Admissions at TCM hospitals also use the rate of one level lower."""


class Inpatient(Strict):
    """Basic-insurance inpatient benefits (住院统筹).

    `annual_cap` caps the year's basic payout (`cap_on: payout`), or (`cap_on:
    eligible_cost`) it is a level of the year's cumulative policy-range cost, deductibles
    included, above which basic insurance pays nothing (起付标准以上、最高支付限额以下的费用由
    统筹基金按比例支付): the cost above it stays with the person and flows on to
    critical-illness insurance."""

    deductible: ByLevelMoney
    """Deductible per admission (起付标准) by facility level, yuan."""
    repeat_deductible: ByLevelMoney | None = None      # second and later admissions
    """Deductible of the second and later admissions of the year by facility level, yuan; absent:
    the same as the first."""
    rate: ByLevelRate
    """Rate by facility level on the policy-range cost above the deductible."""
    bands: Annotated[list[InpatientBand], Field(max_length=5)] = []
    """Up to five `{above, rate}`: from `above` yuan of *the admission's* policy-range cost, this
    rate (a number or by level). Deductible 200, rate 0.8 and `bands: [{above: 10000, rate:
    0.85}]`: 80% of the cost between 200 and 10,000, 85% above 10,000. Bands restart with each
    admission."""
    age_bonus: AgeBonus | None = None
    """`{from_age, rate}`: points added to every inpatient rate from that age (a retirees' bonus:
    give `uebmi_retired` its own rates); absent: none."""
    out_of_area: OutOfArea | None = None
    """`{deductible, rate_cut}`: out-of-area admissions (异地就医) use this deductible and lose
    `rate_cut` points; absent: they are settled as local ones."""
    tcm_tier_down: TcmTierDown | None = None
    """`{deductible: true, rate: false}`: admissions at TCM hospitals use the deductible (and, if
    `rate`, the rate) of one level lower (Weihai 2021: all insured for the deductible, employees
    also for the rate). A primary hospital has no lower tier. Absent: TCM admissions are settled
    as any other."""
    annual_cap: Cap
    """The year's cap, yuan (`none`: no cap); `cap_on` says what it caps."""
    cap_on: Literal["payout", "eligible_cost"] = "payout"
    """`payout`: a cap on the year's basic payout. `eligible_cost`: the cap is a level of the
    year's cumulative policy-range cost, deductibles included, above which basic insurance pays
    nothing (起付标准以上、最高支付限额以下的费用由统筹基金按比例支付); the cost above it flows on to critical-illness
    insurance."""

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
    """One annual deductible, yuan, used up by primary, then secondary, then tertiary spending."""
    rate: ByLevelRate
    """Rate by facility level on the spending above the deductible."""
    annual_cap: Cap
    """The year's cap on the outpatient payout, yuan (`none`: no cap)."""

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        return self


class TwoDiseaseCaps(Strict):
    """Annual payout caps per disease; `combined` caps the sum for a person with both."""

    hypertension: Cap
    """The year's payout cap for hypertension drugs, yuan (`none`: no cap)."""
    diabetes: Cap
    """The year's payout cap for diabetes drugs, yuan (`none`: no cap)."""
    combined: Cap | None = None
    """A cap on the sum for a person with both diseases, yuan; absent: each disease keeps its own
    cap only."""


class TwoDisease(Strict):
    """"两病" outpatient drugs for hypertension and diabetes: rate and a cap per disease.
    The deductible applies to each disease's annual policy-range spending."""

    deductible: Money = 0.0
    """Deductible on each disease's annual policy-range spending, yuan."""
    rate: Rate
    """Rate on the policy-range spending above the deductible."""
    caps: TwoDiseaseCaps
    """`hypertension` and `diabetes` caps, and optionally `combined` for a person with both."""

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
    """Annual deductible, yuan."""
    rate: Rate
    """Rate on the policy-range spending above the deductible."""
    annual_cap: Cap
    """The year's cap on the payout, yuan (`none`: no cap)."""

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        return self


class SpecialDrugs(Strict):
    """Special drugs (特药, 双通道) paid by basic insurance at their own rate and cap."""

    rate: Rate
    """Rate on the policy-range cost of special drugs."""
    annual_cap: Cap
    """The year's cap on the payout, yuan (`none`: no cap)."""


class SchemeRules(Strict):
    """The basic-insurance benefits of one scheme."""

    inpatient: Inpatient
    """Inpatient benefits (住院统筹)."""
    outpatient: Outpatient | None = None
    """Outpatient pooling (门诊统筹): one annual `deductible`, `rate` by level, `annual_cap`; absent:
    no such benefit."""
    two_disease: TwoDisease | None = None
    """"两病" outpatient drugs: `rate`, a `deductible` per disease, `caps.hypertension`,
    `caps.diabetes`, and optionally `caps.combined` for a person with both; absent: no such
    benefit."""
    special_chronic: SpecialChronic | None = None
    """门诊慢特病: `deductible`, `rate`, `annual_cap`; absent: no such benefit."""
    special_drugs: SpecialDrugs | None = None
    """Special drugs (特药, 双通道): `rate`, `annual_cap`; absent: no such benefit."""
    account_pays: list[Care] = []   # care whose in-catalogue self-pay the account pays
    """The care (`inpatient`, `outpatient`, `two_disease`, `special_chronic`, `special_drugs`)
    whose in-catalogue self-pay (policy-range and class-B) the individual account pays."""


class Basic(Strict):
    """Basic medical insurance. Residents are covered by `urrbmi` after integration, or by
    `urbmi` (urban) and `ncms` (rural) before it."""

    uebmi_employed: SchemeRules
    """Employees' basic insurance (UEBMI): its employed members."""
    uebmi_retired: SchemeRules
    """Employees' basic insurance (UEBMI): its retired members."""
    urrbmi: SchemeRules | None = None
    """Residents' basic insurance after integration (URRBMI); give it, or both `urbmi` and
    `ncms`."""
    urbmi: SchemeRules | None = None
    """Urban residents' basic insurance before integration (URBMI), given with `ncms`."""
    ncms: SchemeRules | None = None
    """The new rural cooperative medical scheme (NCMS) before integration, given with `urbmi`."""

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
    """The threshold's share of per-capita disposable income."""
    income: Money | ByResidenceMoney
    """The prior year's per-capita disposable income, yuan: one number, or `{urban, rural}`
    (before integration: urban residents on urban income, NCMS on rural income)."""

    def amount(self, residence: str) -> float:
        income = self.income if isinstance(self.income, (int, float)) else getattr(
            self.income, residence)
        return float(self.share_of_income * income)


class CiiBand(Strict):
    """From `from_amount` yuan of the base this rate applies (see `bands_on`)."""

    from_amount: Money = Field(alias="from")
    """Where the band starts, yuan (written `from`): above the threshold with `bands_on:
    above_threshold` (the first band starts at 0), a level of the cumulative base with `bands_on:
    cumulative`."""
    rate: Rate
    """The band's rate."""


class Tilt(Strict):
    """Critical-illness tilt for a status group (倾斜): lower threshold, higher rates, no cap.
    `rate_bonus` is one bonus for every band or a list with one bonus per band."""

    threshold_factor: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    """Multiplies the threshold (0.5 halves it)."""
    rate_bonus: Rate | Annotated[list[Rate], Field(min_length=1, max_length=8)] = 0.0
    """Points added to the band rates: one number for every band, or a list with one bonus per
    band."""
    no_cap: bool = False
    """true: no annual cap for the group."""

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
    """Annual deductible on the special-drug self-pay after basic insurance, yuan."""
    rate: Rate
    """Rate on the special-drug self-pay above the deductible."""
    annual_cap: Cap
    """The year's cap on the track's payout, yuan (`none`: no cap)."""
    rare_disease: bool = True
    """false: the drugs of rare diseases (Gaucher, Pompe, Fabry; the simulation records their
    share of each person's special drugs) stay out of the track and out of critical-illness
    insurance (Weihai before 2021)."""

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
    """A fixed amount in yuan, or `{share_of_income, income}` with `income` one number or
    `{urban, rural}` (before integration: urban residents on urban income, NCMS on rural income).
    Use the prior year's per-capita disposable income."""
    base: Literal["self_pay", "above_basic_cap"] = "self_pay"
    """`self_pay`: the year's cumulative self-pay after basic insurance: policy-range, plus
    class-B self-pay if `include_class_b`, plus outpatient kinds if `include_outpatient`.
    `above_basic_cap` (employees' large-expense cover 职工大额): only the policy-range cost of
    admissions above the point where the basic fund's annual inpatient cap is reached, so the
    cover starts where the basic cap ends at any mix of levels; the threshold counts on that base
    (0: right at the cap); not with `include_class_b`, `include_outpatient` or `special_drugs`."""
    bands_on: Literal["cumulative", "above_threshold"] = "above_threshold"
    """`above_threshold`: a band's `from` counts yuan above the threshold, and the first band
    starts `from: 0` ("起付线以上0-5万元60%"). `cumulative`: `from` is a level of the cumulative base
    itself ("累计5万元以下60%"), paid only above the threshold."""
    bands: Annotated[list[CiiBand], Field(min_length=1, max_length=8)]
    """A step rate: `{from, rate}` bands, `from` ascending (see `bands_on`). Threshold 18,000,
    bands 60% from 0 and 70% from 50,000, a cumulative base of 101,000: above the threshold, 60%
    x 50,000 + 70% x 33,000 = 53,100; cumulative, 60% x 32,000 + 70% x 51,000 = 54,900."""
    annual_cap: Cap
    """The year's cap on the main track, yuan (`none`: no cap)."""
    include_class_b: bool = False
    """The base counts class-B self-pay (乙类先自付)."""
    include_outpatient: bool = False
    """The base counts the self-pay of outpatient kinds too (Jiangsu 2022: high outpatient
    costs)."""
    special_drugs: CiiSpecialDrugs | None = None
    """`{deductible, rate, annual_cap, rare_disease}`: a track of its own for special drugs, on
    their self-pay after basic insurance (Weihai: 60% / 200,000 -> 80% / 400,000); drugs on it
    stay out of the main base. Absent: no such track."""
    tilt: dict[Status, Tilt] = {}
    """By status group (特困, 低保, 低边, monitored households; 因病支出型): `threshold_factor` (0.5 halves
    the threshold), `rate_bonus` (one number for every band, or a list with one bonus per band),
    `no_cap`."""

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
    """Residents' plan; absent: none."""
    employees: CriticalIllnessRules | None = None
    """Employees' plan (Weihai 2021: employees' inpatient costs, cap 500,000; the national
    baseline's 职工大额); absent: none."""


class AssistanceGroup(Strict):
    """医疗救助 for one group: annual deductible, rate and cap on the year's self-pay."""

    deductible: Money = 0.0
    """Annual deductible on the year's self-pay, yuan."""
    rate: Rate
    """Share of the self-pay above the deductible that assistance pays."""
    annual_cap: Cap
    """The year's cap, yuan (`none`: no cap): one for outpatient and inpatient care with
    `shared_cap: true`, inpatient only otherwise."""
    outpatient_cap: Cap | None = None   # a separate outpatient cap when caps are not shared
    """The cap of outpatient assistance when `shared_cap: false`, yuan."""

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.deductible, "deductible")
        if self.outpatient_cap is not None:
            _cap_not_below(self.outpatient_cap, self.deductible, "deductible", "outpatient_cap")
        return self


class TiltedGroup(Strict):
    """倾斜救助: a second stage on what the first leaves, above its own threshold."""

    threshold: Money
    """Yuan of the self-pay left by the first stage above which the second stage pays."""
    rate: Rate
    """Share of the self-pay above the threshold that the second stage pays."""
    annual_cap: Cap
    """The year's cap on the second stage, yuan (`none`: no cap)."""

    @model_validator(mode="after")
    def _cap(self):
        _cap_not_below(self.annual_cap, self.threshold, "threshold")
        return self


class OopCap(Strict):
    """支付封顶: an annual out-of-pocket cap for poor families (Jiaxing)."""

    base: Literal["in_catalogue", "all"] = "in_catalogue"
    """What the cap counts: `in_catalogue` self-pay, or `all` spending."""
    per: Literal["household", "person"] = "household"
    """Whose out of pocket is capped: the `household` (one cap shared by its members) or each
    `person`."""
    groups: dict[Status, Money]
    """The year's out-of-pocket cap by assistance group, yuan; a group not listed has none."""


class IllnessHardship(Strict):
    """因病支出型: general households whose in-catalogue self-pay after basic and critical-illness
    insurance exceeds this share of household income become eligible for the group's assistance."""

    share_of_income: Annotated[float, Field(gt=0.0, le=10.0)]
    """Share of household income (1: all of it) that the household's in-catalogue self-pay after
    basic and critical-illness insurance must exceed."""


class MedicalAssistance(Strict):
    """医疗救助 by assistance group, per person and year, on the self-pay left by insurance."""

    include_class_b: bool = False
    """The base counts class-B self-pay (default: policy-range self-pay only)."""
    shared_cap: bool = True
    """true (Jiangsu 2022): one cap for outpatient and inpatient assistance; false: two, each
    group's `annual_cap` and `outpatient_cap`."""
    groups: dict[Status, AssistanceGroup] = {}
    """Stage one by group, `tekun` 特困, `dibao` 低保, `dibian` 低边, `monitored` 防返贫监测 (the
    household's status) and `illness_hardship` 因病支出型: `deductible`, `rate`, `annual_cap`, and
    `outpatient_cap` for outpatient care when `shared_cap: false`. A group not listed gets no
    assistance."""
    tilted: dict[Status, TiltedGroup] = {}
    """倾斜救助, a second stage on what the first leaves, by group (which needs its first stage under
    `groups`): `threshold`, `rate`, `annual_cap`."""
    oop_cap: OopCap | None = None
    """支付封顶 (Jiaxing): `groups.<g>` caps, `per: household` or `person`, `base: in_catalogue` or
    `all` spending; assistance pays the excess, settled after every other layer. Absent: no such
    cap."""
    illness_hardship: IllnessHardship | None = None
    """`share_of_income` (needs a group `illness_hardship`); absent: no household qualifies by
    its burden."""

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
    """From `from_amount` yuan above the liability's deductible this rate applies."""

    from_amount: Money = Field(alias="from")
    """Where the band starts, yuan above the liability's deductible (written `from`); the first
    band starts at 0."""
    rate: Rate
    """The band's rate."""


SupBase = Literal["policy_range_residual", "class_b", "in_catalogue_residual",
                  "out_of_catalogue", "special_drugs"]


class Liability(Strict):
    """One liability of a supplementary product: a step rate over its cumulative base above
    a deductible, with an annual cap, for the listed kinds of care."""

    name: str
    """The liability's name."""
    base: SupBase
    """What it pays on: `policy_range_residual`, `class_b`, `in_catalogue_residual` (both),
    `out_of_catalogue`, or `special_drugs` (the special-drug spending left, in and out of the
    catalogue)."""
    share_of_base: Rate = 1.0          # e.g. listed out-of-catalogue drugs' share of that spending
    """Share of the base counted (e.g. the listed share of out-of-catalogue drugs)."""
    deductible: Money = 0.0
    """Annual deductible on the cumulative base, yuan."""
    bands: Annotated[list[SupBand], Field(min_length=1, max_length=8)]
    """A step rate over the cumulative base above the deductible: `{from, rate}`, `from` in yuan
    above the deductible, the first from 0."""
    annual_cap: Cap
    """The year's cap on the liability's payout, yuan (`none`: no cap)."""
    care: Annotated[list[Care], Field(min_length=1)] = list(CARE_KINDS)
    """The kinds of care whose spending counts (default: all)."""

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
    """Statuses (特困, 低保, 低边, monitored) whose premium the government pays."""
    from_age: Annotated[int, Field(ge=0, le=120)] | None = None
    """Age in years from which the government pays the premium; absent: no one by age."""
    disabled: bool = False
    """true: the government pays disabled people's premium."""


class Supplementary(Strict):
    """City supplementary insurance (惠民保: 浙丽保, 威你保, 大病无忧)."""

    name: str
    """The product's name."""
    premium: Money
    """Yearly premium per enrolled person, yuan."""
    enrolment: Literal["population"] | Rate = "population"   # population flag or an uptake share
    """`population` (the population's enrolment flag) or an uptake share (each insured person
    buys with that probability, the same people in every scenario). Only insured persons enrol."""
    government_paid: GovernmentPaid = GovernmentPaid()
    """`statuses` (特困, 低保, 低边, monitored), `from_age`, `disabled`: premiums paid by the
    government, so all of them are enrolled (Jiaxing 大病无忧; Lishui 浙丽保)."""
    liabilities: Annotated[list[Liability], Field(min_length=1, max_length=6)]
    """Up to six, settled in order, each a step rate over its own cumulative base above its
    `deductible` (`bands` `from` counts yuan above the deductible), with an `annual_cap`, for the
    kinds of `care` listed (default: all). `base`: `policy_range_residual`, `class_b`,
    `in_catalogue_residual` (both), `out_of_catalogue`, or `special_drugs` (the special-drug
    spending left, in and out of the catalogue), times `share_of_base` (e.g. the listed share of
    out-of-catalogue drugs)."""


class ResidentFinancing(Strict):
    """A residents' scheme's contributions per insured person and year."""

    individual: Money
    """Individual contribution per insured person and year, yuan."""
    subsidy: Money
    """Fiscal subsidy per insured person and year, yuan."""


class AssistedContribution(Strict):
    """资助参保: the part of a resident's individual contribution paid by medical assistance:
    `share` of it plus a fixed `amount`, never more than the contribution."""

    share: Rate = 0.0
    """Share of the individual contribution that medical assistance pays."""
    amount: Money = 0.0
    """Yuan medical assistance pays on top of the share."""


class EmployeeFinancing(Strict):
    """Employees' contributions on a floored and capped wage base, and their individual accounts."""

    employer_rate: Rate
    """The employer's contribution rate on the wage base."""
    employee_rate: Rate
    """The employee's contribution rate on the wage base."""
    wage_floor_monthly: Money
    """The wage base's floor, yuan a month (times 12 a year)."""
    wage_ceiling_monthly: Cap
    """The wage base's ceiling, yuan a month (times 12 a year; `none`: no ceiling). Weihai 2021:
    3,746-18,726 a month."""
    account_share_of_employee: Rate = 1.0      # employee contribution credited to the account
    """Share of the employee's contribution credited to the individual account."""
    retiree_account_credit: Money = 0.0        # yuan per retiree per year
    """Yuan a year credited to each retiree's account (the pooled fund transfers it, so fund
    statistics count it as account revenue, not pooled revenue)."""
    # accumulated individual-account balance at the start of the year, yuan per member: the
    # account spends this year's credit and then this balance (its spending is account
    # expenditure; its revenue is only the year's credit)
    account_balance_per_member: Money = 0.0
    """The account's balance at the start of the year, yuan per member: a member spends the
    year's credit, then this balance (its spending is account expenditure; the year's revenue is
    only the credit)."""
    # 家庭共济: the share of what is left in a member's account after their own care that pays
    # the in-catalogue self-pay of the other members of the household (any scheme)
    account_family_share: Rate = 0.0
    """家庭共济: the share of what each member leaves in the account after their own care that pays
    the in-catalogue self-pay of the household's other members, whatever their scheme; the fund
    indicators count it as UEBMI account expenditure (docs/indicators.md)."""

    @model_validator(mode="after")
    def _base(self):
        if self.wage_ceiling_monthly < self.wage_floor_monthly:
            raise ValueError("wage_ceiling_monthly is below wage_floor_monthly")
        return self


class Financing(Strict):
    """Contributions and subsidies of each scheme, and the contributions medical assistance pays."""

    residents: ResidentFinancing | None = None
    """Residents' `individual` contribution and fiscal `subsidy` per person, with an integrated
    `urrbmi`."""
    urbmi: ResidentFinancing | None = None
    """URBMI's `individual` contribution and fiscal `subsidy` per person, before integration."""
    ncms: ResidentFinancing | None = None
    """NCMS's `individual` contribution and fiscal `subsidy` per person, before integration."""
    assisted: dict[Literal["tekun", "dibao", "dibian", "monitored"], AssistedContribution] = {}
    """资助参保 by status (`tekun`, `dibao`, `dibian`, `monitored`): the part of a resident's
    contribution paid by medical assistance, `share` of it plus a fixed `amount`, never more than
    the contribution."""
    employees: EmployeeFinancing
    """Employees' contributions on the wage base and their individual accounts."""


class CriticalIllnessFunding(Strict):
    """Which fund pays each scheme's critical-illness insurance: the scheme's basic fund (as
    residents' 大病保险 is usually bought from the URRBMI fund) or a separate arrangement."""

    residents: Literal["basic_fund", "separate"]
    """Who pays residents' critical-illness insurance: `basic_fund` (the residents' basic fund)
    or `separate`."""
    employees: Literal["basic_fund", "separate"]
    """Who pays employees' critical-illness insurance: `basic_fund` (the employees' basic fund)
    or `separate`."""


class OpeningBalance(Strict):
    """Accumulated fund balance at the start of the year, yuan per insured person."""

    uebmi: Money | None = None
    """The UEBMI fund's accumulated balance at the start of the year, yuan per member; absent:
    not stated."""
    urrbmi: Money | None = None
    """The residents' fund's accumulated balance at the start of the year, yuan per member;
    absent: not stated."""


class AssistanceFinancing(Strict):
    """Medical-assistance financing in the year and the accumulated balance it starts from,
    yuan per resident (every person, insured or not)."""

    financing_per_person: Money
    """Medical-assistance financing in the year, yuan per resident."""
    opening_balance_per_person: Money | None = None
    """The assistance fund's accumulated balance at the start of the year, yuan per resident;
    absent: not stated."""


class Funds(Strict):
    """How payments map onto funds, and the balances they start from (fund indicators only;
    settlement does not read it)."""

    critical_illness_paid_by: CriticalIllnessFunding
    """Which fund pays each scheme's critical-illness insurance."""
    opening_balance_per_insured: OpeningBalance | None = None
    """Accumulated balances at the start of the year, yuan per insured person; absent: not
    stated."""
    medical_assistance: AssistanceFinancing | None = None
    """Medical-assistance financing and its opening balance, yuan per resident; absent: not
    stated."""


class PolicyFile(Strict):
    """A policy file: one region-year's rules of basic, critical-illness, assistance and
    supplementary cover and their financing."""

    name: str
    """The policy's name, as results and reports show it."""
    name_zh: str = ""
    """The policy's name in Chinese."""
    year: Annotated[int, Field(ge=2000, le=2100)]
    """The year of the rules: amounts are yuan of this year."""
    region: str
    """The region whose rules these are."""
    description: str = ""
    """What the file encodes and from which documents."""
    basic: Basic
    """Basic medical insurance, by scheme."""
    critical_illness: CriticalIllness = CriticalIllness()
    """Critical-illness insurance (大病保险); absent: none."""
    medical_assistance: MedicalAssistance = MedicalAssistance()
    """Medical assistance (医疗救助); absent: none."""
    supplementary: Supplementary | None = None
    """City supplementary insurance (惠民保); absent or null: none."""
    financing: Financing
    """Contributions, subsidies and individual accounts."""
    funds: Funds | None = None
    """Which fund pays what and the balances the funds start from (fund indicators only;
    settlement does not read it). Absent: critical-illness payouts are counted apart from every
    basic fund, and the indicators that need an opening balance or assistance financing are NaN
    with that reason."""

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
