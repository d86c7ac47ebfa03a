"""Tiny hand-built households, persons and events for tests whose answers are worked on paper."""

from __future__ import annotations

import numpy as np

from microsim import codes
from microsim.health.events import Events
from microsim.population.tables import Households, Persons


def household(residence="urban", status="general", income=60000.0, consumption=40000.0,
              food=12000.0, weight=1.0, members=()):
    return dict(residence=residence, status=status, income=income, consumption=consumption,
                food=food, weight=weight, members=list(members))


def person(scheme="urrbmi", age=40, sex="male", chronic=0, disabled=False, supplementary=False,
           wage=0.0, admissions=(), outpatient=None):
    """admissions: (level, policy_range, class_b, out_of_catalogue[, out_of_area, tcm]);
    outpatient: {kind: (policy_range, class_b, out_of_catalogue)}."""
    return dict(scheme=scheme, age=age, sex=sex, chronic=chronic, disabled=disabled,
                supplementary=supplementary, wage=wage, admissions=list(admissions),
                outpatient=dict(outpatient or {}))


def build(households: list[dict]) -> tuple[Households, Persons, Events]:
    members = [m for h in households for m in h["members"]]
    n_h, n_p = len(households), len(members)
    sizes = np.array([len(h["members"]) for h in households], np.int16)
    first = np.zeros(n_h + 1, np.int64)
    np.cumsum(sizes, out=first[1:])
    hh = Households(
        hh_id=np.arange(n_h, dtype=np.int64),
        weight=np.array([h["weight"] for h in households], float),
        region=np.zeros(n_h, np.int32),
        residence=np.array([codes.RESIDENCE.index(h["residence"]) for h in households], np.int8),
        size=sizes,
        income=np.array([h["income"] for h in households], float),
        consumption=np.array([h["consumption"] for h in households], float),
        food=np.array([h["food"] for h in households], float),
        status=np.array([codes.STATUS.index(h["status"]) for h in households], np.int8),
        first_person=first)
    ps = Persons(
        person_id=np.arange(n_p, dtype=np.int64),
        hh=np.repeat(np.arange(n_h), sizes).astype(np.int64),
        age=np.array([m["age"] for m in members], np.int16),
        sex=np.array([codes.SEX.index(m["sex"]) for m in members], np.int8),
        scheme=np.array([codes.SCHEME.index(m["scheme"]) for m in members], np.int8),
        chronic=np.array([m["chronic"] for m in members], np.uint8),
        disabled=np.array([m["disabled"] for m in members], np.bool_),
        supplementary=np.array([m["supplementary"] for m in members], np.bool_),
        wage=np.array([m["wage"] for m in members], float))
    counts = [len(m["admissions"]) for m in members]
    offsets = np.zeros(n_p + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    adms = [a for m in members for a in m["admissions"]]
    outpatient = np.zeros((n_p, len(codes.OUTPATIENT_KIND), 3))
    for j, m in enumerate(members):
        for kind, parts in m["outpatient"].items():
            outpatient[j, codes.OUTPATIENT_KIND.index(kind)] = parts
    ev = Events(
        adm_offsets=offsets,
        adm_level=np.array([codes.LEVEL.index(a[0]) for a in adms], np.int8),
        adm_out_of_area=np.array([bool(a[4]) if len(a) > 4 else False for a in adms], np.bool_),
        adm_tcm=np.array([bool(a[5]) if len(a) > 5 else False for a in adms], np.bool_),
        adm_cost=np.array([a[1:4] for a in adms], float).reshape(len(adms), 3),
        outpatient=outpatient,
        severity=np.zeros(n_p))
    return hh, ps, ev
