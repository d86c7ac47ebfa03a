"""Calculator cases: one person's year of bills, settled under a policy, payer by payer.

Takes: a case YAML (one person: scheme, status, age, residence, optional
household income and wage, admissions with their split and flags,
outpatient spending by kind) and a `Policy`. Gives: a `CaseResult` with what
each payer paid for each admission, each outpatient kind and the year, the
assistance group and supplementary enrolment, and the person's financing.

The person is settled as a one-person household by the same kernels as a
simulation (`microsim settle POLICY CASE.yaml`), so a bureau can check the
engine against its own settlement system bill by bill. The format is in
`docs/calculator.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from microsim import codes
from microsim.health.events import Events
from microsim.policy.arrays import build_arrays
from microsim.policy.load import Policy
from microsim.population.tables import Households, Persons
from microsim.schema import Money, Strict, validate_tree
from microsim.settlement.settle import check_conservation, settle
from microsim.yamltree import load_tree

Scheme = Literal["uninsured", "uebmi_employed", "uebmi_retired", "urrbmi"]
StatusName = Literal["general", "tekun", "dibao", "dibian", "monitored"]
OutpatientKind = Literal["general_primary", "general_secondary", "general_tertiary",
                         "hypertension", "diabetes", "special_chronic", "special_drugs"]
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

    @model_validator(mode="after")
    def _rare_within_special_drugs(self):
        drugs = self.outpatient.get("special_drugs", 0.0)
        total = float(drugs) if isinstance(drugs, (int, float)) else sum(drugs.parts())
        if self.rare_disease_drugs > total:
            raise ValueError(f"rare_disease_drugs {self.rare_disease_drugs} exceeds the "
                             f"special_drugs spending {total}")
        return self


def load_case(path: str | Path) -> Case:
    """Read and validate a case file; errors name the file and the key path."""
    return validate_tree(Case, load_tree(path, "calculator case"), "calculator case")


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
    """One bill: its label, total and what each payer paid (codes.PAYER order)."""

    label: str
    total: float
    paid: np.ndarray

    def as_dict(self) -> dict:
        return {"bill": self.label, "total": round(self.total, 2),
                **{p: round(float(x), 2) for p, x in zip(codes.PAYER, self.paid)}}


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


def settle_case(policy: Policy, case: Case) -> CaseResult:
    """Settle one case under a policy. Supplementary enrolment follows the case's
    `supplementary` flag (or a government-paid group), not the policy's uptake share."""
    q = build_arrays(policy)
    q = q._replace(sup=q.sup._replace(enrol_population=True))
    households, persons, events = case_tables(case)
    claims = settle(q, households, persons, events, seed=0, replicate=0)
    check_conservation(events, claims)
    admissions = [Row(_admission_label(i, a), float(events.adm_cost[i].sum()),
                      claims.admission_paid[i].copy()) for i, a in enumerate(case.admissions)]
    outpatient = [Row(kind, float(events.outpatient[0, k].sum()), claims.outpatient_paid[0, k].copy())
                  for k, kind in enumerate(codes.OUTPATIENT_KIND) if events.outpatient[0, k].any()]
    year = Row("year", float(sum(r.total for r in admissions + outpatient)),
               claims.admission_paid.sum(0) + claims.outpatient_paid[0].sum(0))
    name = policy.name + "".join(f" + {r}" for r in policy.reform_names)
    return CaseResult(case, name, admissions, outpatient, year, GROUP_NAMES[int(claims.group[0])],
                      bool(claims.enrolled[0]),
                      {f: float(x) for f, x in zip(codes.FINANCE, claims.finance[0])})
