"""Hypothesis strategies: random but valid policies and random households with bills."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from microsim.policy.load import Policy
from microsim.policy.schema import PolicyFile
from microsim.yamltree import Tree
from tests.builders import household, person

rates = st.floats(0.0, 1.0, allow_nan=False)
money = st.one_of(st.just(0.0), st.floats(0.0, 50_000.0, allow_nan=False))
caps = st.one_of(st.just(math.inf), st.just(0.0), st.floats(0.0, 500_000.0, allow_nan=False))
levels = st.sampled_from(["primary", "secondary", "tertiary"])
CARE = ["inpatient", "outpatient", "two_disease", "special_chronic", "special_drugs"]


def cap_from(draw, floor: float) -> float:
    """A cap that is not below `floor` (a deductible or threshold), as the schema requires."""
    return max(draw(caps), floor)


@st.composite
def by_level(draw, values):
    return {lv: draw(values) for lv in ("primary", "secondary", "tertiary")}


@st.composite
def ascending(draw, n_max, start=None):
    n = draw(st.integers(1, n_max))
    xs = sorted(set(draw(st.lists(st.floats(1.0, 200_000.0), min_size=n, max_size=n))))
    if start is not None:
        xs = [start] + [x for x in xs if x > start]
    return xs


@st.composite
def scheme_rules(draw):
    ded = draw(by_level(money))
    inpatient = {"deductible": ded, "rate": draw(by_level(rates)),
                 "cap_on": draw(st.sampled_from(["payout", "eligible_cost"]))}
    floor = max(ded.values())
    if draw(st.booleans()):
        inpatient["repeat_deductible"] = draw(by_level(money))
        floor = max(floor, *inpatient["repeat_deductible"].values())
    if draw(st.booleans()):
        aboves = draw(ascending(4))
        inpatient["bands"] = [{"above": a, "rate": draw(by_level(rates))} for a in aboves]
    if draw(st.booleans()):
        inpatient["age_bonus"] = {"from_age": draw(st.integers(0, 100)), "rate": draw(rates)}
    if draw(st.booleans()):
        inpatient["out_of_area"] = {"deductible": draw(money), "rate_cut": draw(rates)}
        floor = max(floor, inpatient["out_of_area"]["deductible"])
    if draw(st.booleans()):
        inpatient["tcm_tier_down"] = {"deductible": draw(st.booleans()), "rate": draw(st.booleans())}
    inpatient["annual_cap"] = cap_from(draw, floor)
    rules = {"inpatient": inpatient}
    if draw(st.booleans()):
        d = draw(money)
        rules["outpatient"] = {"deductible": d, "rate": draw(by_level(rates)),
                               "annual_cap": cap_from(draw, d)}
    if draw(st.booleans()):
        d = draw(money)
        td_caps = {"hypertension": cap_from(draw, d), "diabetes": cap_from(draw, d)}
        if draw(st.booleans()):
            td_caps["combined"] = cap_from(draw, d)
        rules["two_disease"] = {"deductible": d, "rate": draw(rates), "caps": td_caps}
    if draw(st.booleans()):
        d = draw(money)
        rules["special_chronic"] = {"deductible": d, "rate": draw(rates),
                                    "annual_cap": cap_from(draw, d)}
    if draw(st.booleans()):
        rules["special_drugs"] = {"rate": draw(rates), "annual_cap": draw(caps)}
    rules["account_pays"] = draw(st.lists(st.sampled_from(CARE), unique=True))
    return rules


@st.composite
def cii_rules(draw):
    rel = draw(st.booleans())
    froms = draw(ascending(5, start=0.0)) if rel else draw(ascending(5))
    if draw(st.booleans()):
        threshold = draw(money)
        floor = threshold
    else:
        incomes = {"urban": draw(money), "rural": draw(money)}
        share = draw(rates)
        threshold = {"share_of_income": share,
                     "income": incomes if draw(st.booleans()) else incomes["urban"]}
        floor = share * max(incomes.values())
    rules = {"threshold": threshold, "bands_on": "above_threshold" if rel else "cumulative",
             "bands": [{"from": f, "rate": draw(rates)} for f in froms],
             "annual_cap": cap_from(draw, floor), "include_class_b": draw(st.booleans()),
             "include_outpatient": draw(st.booleans())}
    if draw(st.booleans()):
        d = draw(money)
        rules["special_drugs"] = {"deductible": d, "rate": draw(rates),
                                  "annual_cap": cap_from(draw, d)}
    tilt = {}
    for g in draw(st.lists(st.sampled_from(["tekun", "dibao", "dibian", "monitored"]), unique=True)):
        bonus = draw(st.one_of(rates, st.lists(rates, min_size=len(froms), max_size=len(froms))))
        tilt[g] = {"threshold_factor": draw(rates), "rate_bonus": bonus,
                   "no_cap": draw(st.booleans())}
    rules["tilt"] = tilt
    return rules


@st.composite
def policies(draw, illness_hardship=True, one_base=False):
    """Random valid policies. With `one_base`, critical illness, assistance and supplementary
    insurance all work on one in-catalogue base: either policy-range self-pay alone or with
    class-B self-pay (the condition under which a more generous policy is monotone)."""
    class_b = draw(st.booleans()) if one_base else None
    employed = draw(scheme_rules())
    data = {"name": "random", "year": 2023, "region": "test",
            "basic": {"uebmi_employed": employed, "uebmi_retired": draw(scheme_rules())},
            "financing": {"employees": {"employer_rate": draw(rates), "employee_rate": draw(rates),
                                        "wage_floor_monthly": 1000, "wage_ceiling_monthly": 30000,
                                        "retiree_account_credit": draw(money)}}}
    if draw(st.booleans()):
        data["basic"]["urrbmi"] = draw(scheme_rules())
        data["financing"]["residents"] = {"individual": draw(money), "subsidy": draw(money)}
    else:
        data["basic"]["urbmi"] = draw(scheme_rules())
        data["basic"]["ncms"] = draw(scheme_rules())
        data["financing"]["urbmi"] = {"individual": draw(money), "subsidy": draw(money)}
        data["financing"]["ncms"] = {"individual": draw(money), "subsidy": draw(money)}
    data["financing"]["assisted"] = {
        g: {"share": draw(rates), "amount": draw(money)}
        for g in draw(st.lists(st.sampled_from(["tekun", "dibao", "dibian", "monitored"]),
                               unique=True))}
    data["critical_illness"] = {}
    for who in ("residents", "employees"):
        if draw(st.booleans()):
            data["critical_illness"][who] = draw(cii_rules())
            if one_base:
                data["critical_illness"][who]["include_class_b"] = class_b
    groups = {}
    statuses = ["tekun", "dibao", "dibian", "monitored"] + (["illness_hardship"] if illness_hardship else [])
    for g in draw(st.lists(st.sampled_from(statuses), unique=True)):
        d = draw(money)
        groups[g] = {"deductible": d, "rate": draw(rates), "annual_cap": cap_from(draw, d)}
        if draw(st.booleans()):
            groups[g]["outpatient_cap"] = cap_from(draw, d)
    ma = {"include_class_b": draw(st.booleans()) if class_b is None else class_b,
          "shared_cap": draw(st.booleans()), "groups": groups}
    if "illness_hardship" in groups:
        ma["illness_hardship"] = {"share_of_income": draw(st.floats(0.01, 2.0))}
    if groups and draw(st.booleans()):
        tilted = {}
        for g in groups:
            thr = draw(money)
            tilted[g] = {"threshold": thr, "rate": draw(rates), "annual_cap": cap_from(draw, thr)}
        ma["tilted"] = tilted
    if draw(st.booleans()):
        ma["oop_cap"] = {"base": draw(st.sampled_from(["in_catalogue", "all"])),
                         "per": draw(st.sampled_from(["household", "person"])),
                         "groups": {g: draw(money) for g in
                                    draw(st.lists(st.sampled_from(statuses), unique=True, min_size=1))}}
    data["medical_assistance"] = ma
    if draw(st.booleans()):
        liabilities = []
        for _ in range(draw(st.integers(1, 3))):
            froms = draw(ascending(3, start=0.0))
            d = draw(money)
            bases = ["policy_range_residual", "class_b", "in_catalogue_residual",
                     "out_of_catalogue", "special_drugs"]
            if one_base:
                bases = ["in_catalogue_residual" if class_b else "policy_range_residual",
                         "out_of_catalogue"]
            liability = {
                "name": "l", "base": draw(st.sampled_from(bases)),
                "share_of_base": draw(rates), "deductible": d,
                "bands": [{"from": f, "rate": draw(rates)} for f in froms],
                "annual_cap": cap_from(draw, d)}
            if draw(st.booleans()):
                liability["care"] = draw(st.lists(st.sampled_from(CARE), unique=True, min_size=1))
            liabilities.append(liability)
        data["supplementary"] = {
            "name": "s", "premium": draw(money),
            "enrolment": draw(st.one_of(st.just("population"), rates)),
            "government_paid": {"statuses": draw(st.lists(st.sampled_from(["tekun", "dibao"]), unique=True)),
                                "from_age": draw(st.one_of(st.none(), st.integers(0, 100))),
                                "disabled": draw(st.booleans())},
            "liabilities": liabilities}
    return data


def as_policy(data: dict) -> Policy:
    return Policy(PolicyFile.model_validate(data), Tree(data), (), ())


bill = st.floats(0.0, 300_000.0, allow_nan=False)
small = st.floats(0.0, 20_000.0, allow_nan=False)


@st.composite
def people(draw):
    adms = draw(st.lists(st.tuples(levels, bill, small, small, st.booleans(), st.booleans()), max_size=4))
    kinds = ["general_primary", "general_secondary", "general_tertiary", "hypertension",
             "diabetes", "special_chronic", "special_drugs"]
    outpatient = {k: (draw(small), draw(small), draw(small))
                  for k in draw(st.lists(st.sampled_from(kinds), unique=True))}
    return person(draw(st.sampled_from(["uninsured", "uebmi_employed", "uebmi_retired", "urrbmi"])),
                  draw(st.integers(0, 100)), disabled=draw(st.booleans()),
                  supplementary=draw(st.booleans()), wage=draw(st.floats(0, 400_000)),
                  admissions=adms, outpatient=outpatient)


@st.composite
def households(draw):
    return [household(draw(st.sampled_from(["urban", "rural"])),
                      draw(st.sampled_from(["general", "tekun", "dibao", "dibian", "monitored"])),
                      income=draw(st.floats(0, 500_000)), members=draw(st.lists(people(), min_size=1, max_size=4)))
            for _ in range(draw(st.integers(1, 3)))]
