"""What a calculator case expects: the `expected:` section of a case file, and its check.

Takes: the `expected:` mapping of a case (validated here, key by key) and the `CaseResult`
the case settled to. Gives: `Expected` (the schema) and `check_expected`, a list of `Check`
(what, expected, computed, whether they agree), one per amount, group or flag the section
names. Amounts agree when both, rounded to the fen (0.01 yuan), are equal.

A payments row (`year`, an admission, an outpatient kind) is complete: a payer it leaves
out is expected to pay nothing. So are `assistance_stages` (stage 1, stage 2, the
out-of-pocket cap) and `supplementary_liabilities` (every liability of the policy, by
name). `financing` lists only the flows it checks. The format is in `docs/calculator.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from microsim import codes
from microsim.errors import InputError
from microsim.schema import Money, Strict

if TYPE_CHECKING:
    from microsim.settlement.cases import CaseResult

OutpatientKind = Literal["general_primary", "general_secondary", "general_tertiary",
                         "hypertension", "diabetes", "special_chronic", "special_drugs"]
GroupName = Literal["none", "tekun", "dibao", "dibian", "monitored", "illness_hardship"]
FinanceFlow = Literal["individual", "subsidy", "assisted", "employer", "employee",
                      "premium_household", "premium_government", "account_credit"]
STAGES = ("stage_1", "stage_2", "oop_cap")


class Payments(Strict):
    """What each payer paid for a bill or the year, yuan; a payer left out paid nothing."""

    basic: Money = 0.0
    critical_illness: Money = 0.0
    assistance: Money = 0.0
    supplementary: Money = 0.0
    account: Money = 0.0
    out_of_pocket: Money = 0.0

    @model_validator(mode="before")
    @classmethod
    def _known_payers(cls, data):
        if isinstance(data, dict):
            unknown = [k for k in data if k not in codes.PAYER]
            if unknown:
                raise ValueError(f"unknown payer {unknown[0]!r} (the payers: "
                                 f"{', '.join(codes.PAYER)})")
        return data

    def amounts(self) -> tuple[float, ...]:
        return tuple(getattr(self, p) for p in codes.PAYER)


class AssistanceStages(Strict):
    """Medical assistance for the year by stage: stage 1 (deductible, rate, cap), the
    tilted stage 2 (倾斜救助) and the out-of-pocket cap (支付封顶); a stage left out paid
    nothing."""

    stage_1: Money = 0.0
    stage_2: Money = 0.0
    oop_cap: Money = 0.0


class Expected(Strict):
    year: Payments | None = None
    admissions: list[Payments | None] | None = None    # one per admission; null: not checked
    outpatient: dict[OutpatientKind, Payments] = {}
    assistance_stages: AssistanceStages | None = None
    supplementary_liabilities: dict[str, Money] | None = None   # by the policy's names
    assistance_group: GroupName | None = None
    supplementary_enrolled: bool | None = None
    financing: dict[FinanceFlow, Money] = {}

    @model_validator(mode="after")
    def _names_something(self):
        if (self.year is None and self.admissions is None and not self.outpatient
                and self.assistance_stages is None and self.supplementary_liabilities is None
                and self.assistance_group is None and self.supplementary_enrolled is None
                and not self.financing):
            raise ValueError("names nothing to check: give year, admissions, outpatient, "
                             "assistance_stages, supplementary_liabilities, assistance_group, "
                             "supplementary_enrolled or financing")
        return self


@dataclass
class Check:
    """One expected value against the computed one."""

    what: str
    expected: float | str | bool
    computed: float | str | bool

    @property
    def ok(self) -> bool:
        if isinstance(self.expected, float):
            return round(self.expected, 2) == round(float(self.computed), 2)
        return self.expected == self.computed

    def as_dict(self) -> dict:
        def shown(x):
            return round(x, 2) if isinstance(x, float) else x
        return {"what": self.what, "expected": shown(self.expected),
                "computed": shown(self.computed), "ok": self.ok}


def _row_checks(label: str, expected: Payments, paid) -> list[Check]:
    return [Check(f"{label}: {payer}", float(e), float(c))
            for payer, e, c in zip(codes.PAYER, expected.amounts(), paid)]


def check_expected(result: CaseResult, case_file: str | Path | None = None) -> list[Check]:
    """Every value the case's `expected:` names, against what the case settled to. A
    liability name the policy does not have is refused, naming the file and the key."""
    exp = result.case.expected
    if exp is None:
        raise InputError(case_file, "the case has no 'expected:' section to check",
                         key="expected")
    checks: list[Check] = []
    for i, row in enumerate(exp.admissions or []):
        if row is not None:
            checks += _row_checks(result.admissions[i].label, row, result.admissions[i].paid)
    outpatient = {r.label: r for r in result.outpatient}
    for kind, row in exp.outpatient.items():
        checks += _row_checks(kind, row, outpatient[kind].paid)
    if exp.year is not None:
        checks += _row_checks("year", exp.year, result.year.paid)
    if exp.assistance_stages is not None:
        stages = result.year.parts()["assistance"]
        checks += [Check(f"assistance {s.replace('_', ' ')}", getattr(exp.assistance_stages, s),
                         stages[s]) for s in STAGES]
    if exp.supplementary_liabilities is not None:
        computed = result.year.parts()["supplementary"]
        for name in exp.supplementary_liabilities:
            if name not in computed:
                have = ", ".join(repr(n) for n in computed) or "none"
                raise InputError(case_file, f"the policy '{result.policy}' has no supplementary "
                                 f"liability named {name!r} (its liabilities: {have})",
                                 key=f"expected.supplementary_liabilities.{name}")
        checks += [Check(f"supplementary liability '{name}'",
                         float(exp.supplementary_liabilities.get(name, 0.0)), x)
                   for name, x in computed.items()]
    if exp.assistance_group is not None:
        checks.append(Check("assistance group", exp.assistance_group, result.group))
    if exp.supplementary_enrolled is not None:
        checks.append(Check("supplementary enrolled", exp.supplementary_enrolled,
                            result.enrolled))
    checks += [Check(f"financing: {flow}", float(x), result.finance[flow])
               for flow, x in exp.financing.items()]
    return checks
