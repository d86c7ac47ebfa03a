"""Properties of the accumulators over random policies and households (hypothesis):
conservation survives accumulation, and splitting a chunk changes no bit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microsim import codes
from microsim.health.events import Events
from microsim.metrics.accumulate import Layout, accumulate, income_bin_edges, new_accumulators
from microsim.metrics.indicators import compute_all, load_catalogue, make_layout
from microsim.policy.arrays import build_arrays
from microsim.population.tables import Households, Persons
from microsim.settlement import settle
from microsim.settlement.settle import Claims
from tests.builders import build
from tests.strategies import as_policy, households, policies

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CATALOGUE = load_catalogue(("line",))


def layout() -> Layout:
    base = make_layout(CATALOGUE, [("line", (7_000.0, 5_000.0))], income_bin_edges())
    return Layout(**{**base.__dict__, "spl": np.array([8_000.0]), "subsistence": np.array([3_000.0])})


def settled(data, hhs):
    hh, ps, ev = build(hhs)
    return hh, ps, ev, settle(build_arrays(as_policy(data)), hh, ps, ev, seed=3, replicate=0)


def part(hh: Households, ps: Persons, ev: Events, c: Claims, a: int, b: int):
    """Households [a, b) of a settled chunk as a chunk of their own."""
    p0, p1 = int(hh.first_person[a]), int(hh.first_person[b])
    i0, i1 = int(ev.adm_offsets[p0]), int(ev.adm_offsets[p1])
    h = Households(**{k: getattr(hh, k)[a:b] for k in ("hh_id", "weight", "region", "residence",
                                                       "size", "income", "consumption", "food",
                                                       "status")},
                   first_person=hh.first_person[a:b + 1] - p0)
    p = Persons(**{k: getattr(ps, k)[p0:p1] for k in ("person_id", "age", "sex", "scheme",
                                                      "chronic", "disabled", "supplementary",
                                                      "wage")}, hh=ps.hh[p0:p1] - a)
    e = Events(adm_offsets=ev.adm_offsets[p0:p1 + 1] - i0, adm_level=ev.adm_level[i0:i1],
               adm_out_of_area=ev.adm_out_of_area[i0:i1], adm_tcm=ev.adm_tcm[i0:i1],
               adm_cost=ev.adm_cost[i0:i1], outpatient=ev.outpatient[p0:p1],
               severity=ev.severity[p0:p1])
    cl = Claims(c.admission_paid[i0:i1], c.outpatient_paid[p0:p1], c.finance[p0:p1],
                c.group[a:b], c.enrolled[p0:p1])
    return h, p, e, cl


@SETTINGS
@given(policies(), households(), st.data())
def test_splitting_a_chunk_changes_no_bit(data, hhs, draw):
    hh, ps, ev, c = settled(data, hhs)
    cut = draw.draw(st.integers(0, len(hh)))
    lay = layout()
    whole = new_accumulators(lay)
    accumulate(whole, lay, hh, ps, ev, c, 0)
    first, second = new_accumulators(lay), new_accumulators(lay)
    accumulate(first, lay, *part(hh, ps, ev, c, 0, cut), 0)
    accumulate(second, lay, *part(hh, ps, ev, c, cut, len(hh)), 0)
    first += second
    assert np.array_equal(whole.hh, first.hh) and np.array_equal(whole.person, first.person)


@SETTINGS
@given(policies(), households())
def test_layer_shares_add_up_to_the_whole_cost_in_every_group(data, hhs):
    hh, ps, ev, c = settled(data, hhs)
    lay = layout()
    acc = new_accumulators(lay)
    accumulate(acc, lay, hh, ps, ev, c, 0)
    got = compute_all(CATALOGUE, lay, acc, 0)
    shares = sum(got.values[f"cost_share_{p}"] for p in codes.PAYER)
    cost = got.values["cost_per_person"] * got.values["population"]
    # Every addend is rounded to 1/1024 yuan: allow that rounding relative to the group's cost.
    addends = len(ps) * len(codes.CARE) * (len(codes.PAYER) + 1)
    ok = cost > 1.0
    tolerance = 100 * addends / 1024 / np.where(ok, cost, 1.0)
    assert (np.abs(shares - 100)[ok] <= tolerance[ok]).all()
    # Empty groups are NaN, never a silent zero.
    assert np.isnan(shares[~ok & (got.values["population"] == 0)]).all()
    # The OOP of households (household table) equals what the payers' table says.
    oop_hh = got.values["oop_per_person"] * got.values["population"]
    oop_person = got.values["cost_share_out_of_pocket"] / 100 * cost
    assert np.allclose(np.nan_to_num(oop_hh)[ok], np.nan_to_num(oop_person)[ok],
                       atol=addends / 1024 + 1e-6)
