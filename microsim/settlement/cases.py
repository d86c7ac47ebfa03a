"""Calculator cases: one person's year of bills, settled under a policy, payer by payer.

Takes: a case YAML (one person: scheme, status, age, residence, optional
household income and wage, admissions with their split and flags,
outpatient spending by kind; optionally the policy it is worked against, with
reform overlays, and what it expects each payer to pay) and a `Policy`.
Gives: a `CaseResult` with what each payer paid for each admission, each
outpatient kind and the year, the parts of those amounts (critical illness's
main base and special-drug track, assistance's stage 1, stage 2 and
out-of-pocket cap, each supplementary liability, own and family-shared
account), the assistance group and supplementary enrolment, and the person's
financing.

The person is settled as a one-person household by the same kernels as a
simulation (`microsim settle [POLICY] CASE.yaml`), so a bureau can check the
engine against its own settlement system bill by bill. The format is in
`docs/calculator.md`; the `expected:` section and its check are in
`microsim.settlement.expected`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from microsim import codes
from microsim.errors import InputError
from microsim.health.events import Events
from microsim.policy.arrays import build_arrays
from microsim.policy.load import InlineOverlay, Policy, load_policy
from microsim.population.tables import Households, Persons
from microsim.schema import Money, Strict, validate_tree
from microsim.settlement.expected import Expected, OutpatientKind
from microsim.settlement.settle import DETAIL, check_conservation, settle
from microsim.yamltree import load_tree

Scheme = Literal["uninsured", "uebmi_employed", "uebmi_retired", "urrbmi"]
StatusName = Literal["general", "tekun", "dibao", "dibian", "monitored"]
GROUP_NAMES = ("none",) + codes.STATUS[1:] + ("illness_hardship",)
SPECIAL_DRUGS = codes.OUTPATIENT_KIND.index("special_drugs")


class Spending(Strict):
    """A bill split into policy-range (合规), class-B self-pay (乙类先自付) and
    out-of-catalogue (目录外) parts, yuan."""

    policy_range: Money = 0.0
    class_b: Money = 0.0
    out_of_catalogue: Money = 0.0

    def parts(self) -> tuple[float, float, float]:
        return (self.policy_range, self.class_b, self.out_of_catalogue)


class Admission(Spending):
    level: Literal["primary", "secondary", "tertiary"]
    out_of_area: bool = False     # 异地就医
    tcm: bool = False             # at a traditional Chinese medicine hospital


class Case(Strict):
    name: str = ""
    scheme: Scheme
    status: StatusName = "general"
    age: Annotated[int, Field(ge=0, le=120)]
    residence: Literal["urban", "rural"] = "urban"
    household_income: Money | None = None   # annual; needed for illness hardship 因病支出型
    wage: Money = 0.0                       # annual; UEBMI employees' contribution base
    disabled: bool = False
    supplementary: bool = False             # enrolled (voluntarily) in 惠民保
    admissions: list[Admission] = []        # in date order
    outpatient: dict[OutpatientKind, Spending | Money] = {}   # a number: all policy-range
    rare_disease_drugs: Money = 0.0         # of the special_drugs spending, rare-disease drugs
    policy: str | None = None               # the policy file, relative to the case file
    reforms: list[str | dict] = []          # overlay files (relative) or overlays written here
    expected: Expected | None = None        # what each payer is expected to pay

    @model_validator(mode="after")
    def _rare_within_special_drugs(self):
        drugs = self.outpatient.get("special_drugs", 0.0)
        total = _spent(drugs)
        if self.rare_disease_drugs > total:
            raise ValueError(f"rare_disease_drugs {self.rare_disease_drugs} exceeds the "
                             f"special_drugs spending {total}")
        return self

    @model_validator(mode="after")
    def _expected_fits_the_bills(self):
        exp = self.expected
        if exp is None:
            return self
        if exp.admissions is not None and len(exp.admissions) != len(self.admissions):
            raise ValueError(f"expected.admissions lists {len(exp.admissions)} admission(s) and "
                             f"the case has {len(self.admissions)}: give one row per admission "
                             "(null for one not checked)")
        for kind in exp.outpatient:
            if _spent(self.outpatient.get(kind, 0.0)) == 0.0:
                raise ValueError(f"expected.outpatient.{kind}: the case has no {kind} spending")
        return self


def _spent(spending: Spending | float) -> float:
    return float(spending) if isinstance(spending, (int, float)) else sum(spending.parts())


def load_case(path: str | Path) -> Case:
    """Read and validate a case file; errors name the file and the key path."""
    return validate_tree(Case, load_tree(path, "calculator case"), "calculator case")


def case_policy(case: Case, case_file: str | Path, policy_file: str | Path | None = None,
                reforms: list | tuple = ()) -> Policy:
    """The policy a case is settled under: `policy_file` if given (the case's own `policy:`
    and `reforms:` are then not used), else the case's `policy:` with its `reforms:` (both
    relative to the case file); `reforms` (overlay files) are applied after either."""
    if policy_file is not None:
        return load_policy(policy_file, list(reforms))
    case_file = Path(case_file)
    if case.policy is None:
        raise InputError(case_file, "the case names no policy: add 'policy:' (a policy file "
                         "relative to the case) or give one (microsim settle POLICY CASE)",
                         key="policy")
    base = case_file.parent
    path = base / case.policy
    if not path.is_file():
        raise InputError(case_file, f"the policy file {path} does not exist", key="policy",
                         value=case.policy, has_value=True)
    overlays: list = []
    for i, r in enumerate(case.reforms):
        if isinstance(r, str):
            if not (base / r).is_file():
                raise InputError(case_file, f"the reform overlay {base / r} does not exist",
                                 key=f"reforms.{i}", value=r, has_value=True)
            overlays.append(base / r)
        else:
            overlays.append(InlineOverlay(f"{case_file}: reforms.{i}", r, base))
    return load_policy(path, overlays + list(reforms))


def case_tables(case: Case) -> tuple[Households, Persons, Events]:
    """The case as a one-household chunk of the data contracts."""
    income = np.inf if case.household_income is None else case.household_income
    households = Households(
        hh_id=np.zeros(1, np.int64), weight=np.ones(1), region=np.zeros(1, np.int32),
        residence=np.array([codes.RESIDENCE.index(case.residence)], np.int8),
        size=np.ones(1, np.int16), income=np.array([income]), consumption=np.array([income]),
        food=np.zeros(1), status=np.array([codes.STATUS.index(case.status)], np.int8),
        first_person=np.array([0, 1], np.int64))
    persons = Persons(
        person_id=np.zeros(1, np.int64), hh=np.zeros(1, np.int64),
        age=np.array([case.age], np.int16), sex=np.zeros(1, np.int8),
        scheme=np.array([codes.SCHEME.index(case.scheme)], np.int8),
        chronic=np.zeros(1, np.uint8), disabled=np.array([case.disabled]),
        supplementary=np.array([case.supplementary]), wage=np.array([case.wage]))
    n = len(case.admissions)
    outpatient = np.zeros((1, len(codes.OUTPATIENT_KIND), 3))
    for kind, spending in case.outpatient.items():
        parts = (float(spending), 0.0, 0.0) if isinstance(spending, (int, float)) else \
            spending.parts()
        outpatient[0, codes.OUTPATIENT_KIND.index(kind)] = parts
    events = Events(
        adm_offsets=np.array([0, n], np.int64),
        adm_level=np.array([codes.LEVEL.index(a.level) for a in case.admissions], np.int8),
        adm_out_of_area=np.array([a.out_of_area for a in case.admissions], np.bool_),
        adm_tcm=np.array([a.tcm for a in case.admissions], np.bool_),
        adm_cost=np.array([a.parts() for a in case.admissions], np.float64).reshape(n, 3),
        outpatient=outpatient, severity=np.zeros(1),
        rare_share=np.array([case.rare_disease_drugs / max(outpatient[0, SPECIAL_DRUGS].sum(), 1e-300)]))
    return households, persons, events


@dataclass
class Row:
    """One bill: its label, total, what each payer paid (codes.PAYER order) and the parts of
    those amounts (settle.DETAIL order); `liabilities` names the policy's supplementary
    liabilities, in order."""

    label: str
    total: float
    paid: np.ndarray
    detail: np.ndarray
    liabilities: tuple[str, ...] = ()

    def parts(self) -> dict[str, dict[str, float]]:
        """The parts of each payer's amount that has parts: critical illness (main base,
        special-drug track), assistance (stage 1, stage 2, out-of-pocket cap), supplementary
        (each liability by name) and account (own, family-shared)."""
        d = dict(zip(DETAIL, (float(x) for x in self.detail)))
        return {
            "critical_illness": {"main": d["critical_illness.main"],
                                 "special_drugs": d["critical_illness.special_drugs"]},
            "assistance": {"stage_1": d["assistance.stage_1"],
                           "stage_2": d["assistance.stage_2"],
                           "oop_cap": d["assistance.oop_cap"]},
            "supplementary": {name: d[f"supplementary.liability_{k + 1}"]
                              for k, name in enumerate(self.liabilities)},
            "account": {"own": d["account.own"], "family": d["account.family"]},
        }

    def as_dict(self) -> dict:
        return {"bill": self.label, "total": round(self.total, 2),
                **{p: round(float(x), 2) for p, x in zip(codes.PAYER, self.paid)},
                "parts": {payer: {k: round(x, 2) for k, x in parts.items()}
                          for payer, parts in self.parts().items()}}


@dataclass
class CaseResult:
    case: Case
    policy: str
    admissions: list[Row]
    outpatient: list[Row]
    year: Row
    group: str
    enrolled: bool
    finance: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"case": self.case.name, "policy": self.policy,
                "admissions": [r.as_dict() for r in self.admissions],
                "outpatient": [r.as_dict() for r in self.outpatient],
                "year": self.year.as_dict(), "assistance_group": self.group,
                "supplementary_enrolled": self.enrolled,
                "financing": {k: round(v, 2) for k, v in self.finance.items()}}


def _admission_label(i: int, a: Admission) -> str:
    flags = [a.level] + (["out of area"] if a.out_of_area else []) + (["TCM"] if a.tcm else [])
    return f"admission {i + 1} ({', '.join(flags)})"


def liability_names(policy: Policy) -> tuple[str, ...]:
    """The policy's supplementary liabilities by name, in order; a repeated name gets its
    position after it ("drugs (2)")."""
    sup = policy.data.supplementary
    names: list[str] = []
    for k, li in enumerate(sup.liabilities if sup is not None else ()):
        names.append(li.name if li.name not in names else f"{li.name} ({k + 1})")
    return tuple(names)


def settle_case(policy: Policy, case: Case) -> CaseResult:
    """Settle one case under a policy. Supplementary enrolment follows the case's
    `supplementary` flag (or a government-paid group), not the policy's uptake share."""
    q = build_arrays(policy)
    q = q._replace(sup=q.sup._replace(enrol_population=True))
    households, persons, events = case_tables(case)
    claims = settle(q, households, persons, events, seed=0, replicate=0, detail=True)
    check_conservation(events, claims)
    names = liability_names(policy)
    adm_detail, op_detail = claims.admission_detail, claims.outpatient_detail
    admissions = [Row(_admission_label(i, a), float(events.adm_cost[i].sum()),
                      claims.admission_paid[i].copy(), adm_detail[i].copy(), names)
                  for i, a in enumerate(case.admissions)]
    outpatient = [Row(kind, float(events.outpatient[0, k].sum()),
                      claims.outpatient_paid[0, k].copy(), op_detail[0, k].copy(), names)
                  for k, kind in enumerate(codes.OUTPATIENT_KIND) if events.outpatient[0, k].any()]
    year = Row("year", float(sum(r.total for r in admissions + outpatient)),
               claims.admission_paid.sum(0) + claims.outpatient_paid[0].sum(0),
               adm_detail.sum(0) + op_detail[0].sum(0), names)
    name = policy.name + "".join(f" + {r}" for r in policy.reform_names)
    return CaseResult(case, name, admissions, outpatient, year, GROUP_NAMES[int(claims.group[0])],
                      bool(claims.enrolled[0]),
                      {f: float(x) for f, x in zip(codes.FINANCE, claims.finance[0])})
