"""Settle a chunk under one policy: allocate, call the kernel, return `Claims`.

Takes: `PolicyArrays`, `Households`, `Persons`, `Events`, the seed and the
replicate (for the supplementary-uptake draw), whether to record each bill's
detail (the calculator asks for it; a simulation does not), and optionally the claims of
an earlier settlement of the same chunk to overwrite (`out=`: settling every
scenario of a chunk into one set of arrays saves allocating, and the operating
system zeroing, a few hundred bytes per person each time). Gives: `Claims`.

`Claims` layout (codes.PAYER columns: basic, critical_illness, assistance,
supplementary, account, out_of_pocket):
- `admission_paid` (n_admissions, 6): each admission's payers;
- `outpatient_paid` (n_persons, 7 kinds, 6): each outpatient kind's payers;
- `finance` (n_persons, 8): codes.FINANCE flows (contributions, subsidies,
  assisted contributions, premiums);
- `group` (n_households,): assistance group (0 none, 1-4 status, 5 illness
  hardship); `enrolled` (n_persons,): supplementary enrolment;
- with `detail=True`, `admission_detail` (n_admissions, 13) and `outpatient_detail`
  (n_persons, 7 kinds, 13): the parts of the payers' amounts, columns `DETAIL`
  (critical illness's main base and special-drug track; assistance's stage 1,
  stage 2 and out-of-pocket cap; supplementary liabilities 1-6 in the policy's
  order; the person's own and the family-shared individual accounts). Each
  payer's columns add up to its column of `*_paid`. Recording them changes no
  payment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microsim import codes, rng
from microsim.health.events import Events
from microsim.policy.arrays import PolicyArrays
from microsim.population.tables import Households, Persons
from microsim.settlement.kernels import (D_ACCOUNT_OWN, D_SUP, N_DETAIL,
                                       PURPOSE_SUPPLEMENTARY_UPTAKE, settle_households)

N_PAYERS = len(codes.PAYER)
DETAIL = ("critical_illness.main", "critical_illness.special_drugs", "assistance.stage_1",
          "assistance.stage_2", "assistance.oop_cap",
          *(f"supplementary.liability_{k + 1}" for k in range(D_ACCOUNT_OWN - D_SUP)),
          "account.own", "account.family")
# the codes.PAYER column each detail column is a part of
DETAIL_PAYER = tuple(codes.PAYER.index(d.split(".")[0]) for d in DETAIL)


@dataclass
class Claims:
    admission_paid: np.ndarray
    outpatient_paid: np.ndarray
    finance: np.ndarray
    group: np.ndarray
    enrolled: np.ndarray
    admission_detail: np.ndarray | None = None
    outpatient_detail: np.ndarray | None = None


def new_claims(n_households: int, n_persons: int, n_admissions: int) -> Claims:
    """Uninitialised claims arrays for a chunk of this size."""
    return Claims(
        admission_paid=np.empty((n_admissions, N_PAYERS)),
        outpatient_paid=np.empty((n_persons, len(codes.OUTPATIENT_KIND), N_PAYERS)),
        finance=np.empty((n_persons, len(codes.FINANCE))),
        group=np.empty(n_households, np.int8),
        enrolled=np.empty(n_persons, np.bool_),
    )


def _fits(claims: Claims, n_households: int, n_persons: int, n_admissions: int) -> bool:
    return (claims.admission_paid.shape == (n_admissions, N_PAYERS)
            and claims.outpatient_paid.shape == (n_persons, len(codes.OUTPATIENT_KIND), N_PAYERS)
            and claims.finance.shape == (n_persons, len(codes.FINANCE))
            and claims.group.shape == (n_households,) and claims.enrolled.shape == (n_persons,))


def settle(q: PolicyArrays, households: Households, persons: Persons, events: Events,
           seed: int, replicate: int, out: Claims | None = None,
           detail: bool = False) -> Claims:
    """One-stop settlement of every bill of a chunk under one policy.

    `out`: claims of an earlier settlement of the same chunk, to be overwritten instead of
    allocating new arrays (every value is rewritten); the caller must be done with them.
    `detail`: also record the parts of each payer's amount (`DETAIL`), for the calculator."""
    n_adm = events.n_admissions
    n = len(persons)
    if out is not None and _fits(out, len(households), n, n_adm):
        claims = out
    else:
        claims = new_claims(len(households), n, n_adm)
    # Scratch for one household's bills: its admissions and every outpatient kind.
    first = households.first_person
    members = np.diff(first)
    items = events.adm_offsets[first[1:]] - events.adm_offsets[first[:-1]] + \
        len(codes.OUTPATIENT_KIND) * members
    m = int(items.max(initial=0))
    size = int(members.max(initial=0))
    rare = np.zeros(n) if events.rare_share is None else events.rare_share
    if detail:
        claims.admission_detail = np.empty((n_adm, N_DETAIL))
        claims.outpatient_detail = np.empty((n, len(codes.OUTPATIENT_KIND), N_DETAIL))
    else:
        claims.admission_detail = claims.outpatient_detail = None
    adm_detail = claims.admission_detail if detail else np.empty((0, N_DETAIL))
    op_detail = claims.outpatient_detail if detail else np.empty((0, 0, N_DETAIL))
    settle_households(
        q, rng.seed_key(seed), rng.stream_id(PURPOSE_SUPPLEMENTARY_UPTAKE, replicate),
        households.status, households.income, first, households.residence,
        persons.person_id, persons.scheme, persons.age, persons.disabled, persons.supplementary,
        persons.wage, events.adm_offsets, events.adm_level, events.adm_out_of_area,
        events.adm_tcm, events.adm_cost, events.outpatient,
        claims.admission_paid, claims.outpatient_paid, claims.finance, claims.group,
        claims.enrolled, rare, np.empty((m, 3)), np.empty((m, N_PAYERS)), np.empty(m, np.int64),
        np.empty(m, np.int64), np.empty(size + 1, np.int64), np.empty(size, np.int64),
        np.empty(m), np.empty((m, N_DETAIL)), detail, adm_detail, op_detail)
    return claims


def check_conservation(events: Events, claims: Claims, tolerance: float = 0.01) -> float:
    """Largest gap, in yuan, between a bill and the sum of its payers; raise if above tolerance.

    Also refuses any negative payment. Used by tests and by `microsim settle`."""
    gaps = [np.abs(events.adm_cost.sum(1) - claims.admission_paid.sum(1)),
            np.abs(events.outpatient.sum(2) - claims.outpatient_paid.sum(2)).ravel()]
    worst = max((float(g.max()) for g in gaps if g.size), default=0.0)
    if worst > tolerance:
        raise AssertionError(f"conservation broken: a bill differs from its payers by {worst:.4f} yuan")
    lowest = min(float(claims.admission_paid.min(initial=0.0)),
                 float(claims.outpatient_paid.min(initial=0.0)))
    if lowest < -1e-9:
        raise AssertionError(f"a payer paid a negative amount ({lowest:.6f} yuan)")
    return worst
