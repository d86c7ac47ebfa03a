"""Properties of settlement over random policies and bills (hypothesis)."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microsim import codes
from microsim.policy.arrays import build_arrays
from microsim.settlement import settle
from tests.builders import build
from tests.strategies import as_policy, households, policies

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _settle(data, hhs):
    hh, ps, ev = build(hhs)
    return hh, ps, ev, settle(build_arrays(as_policy(data)), hh, ps, ev, seed=7, replicate=0)


@SETTINGS
@given(policies(), households())
def test_conservation_to_the_cent(data, hhs):
    hh, ps, ev, c = _settle(data, hhs)
    # Every bill equals the sum of what its payers paid, to the cent; no payer pays a negative amount.
    np.testing.assert_allclose(c.admission_paid.sum(1), ev.adm_cost.sum(1), atol=0.01, rtol=0)
    np.testing.assert_allclose(c.outpatient_paid.sum(2), ev.outpatient.sum(2), atol=0.01, rtol=0)
    assert (c.admission_paid >= -1e-9).all() and (c.outpatient_paid >= -1e-9).all()


@SETTINGS
@given(policies(), households())
def test_layers_respect_their_bases_caps_and_deductibles(data, hhs):
    hh, ps, ev, c = _settle(data, hhs)
    pol = as_policy(data).data
    for j in range(len(ps)):
        first, last = ev.adm_offsets[j], ev.adm_offsets[j + 1]
        sch = codes.SCHEME[ps.scheme[j]]
        # Basic, critical-illness and assistance never pay out-of-catalogue costs (assistance
        # may, only through an out-of-pocket cap whose base is all spending).
        in_catalogue = ev.adm_cost[first:last, :2].sum(1)
        public = 3 if pol.medical_assistance.oop_cap is None or \
            pol.medical_assistance.oop_cap.base != "all" else 2
        assert (c.admission_paid[first:last, :public].sum(1) <= in_catalogue + 0.01).all()
        # Basic insurance never pays beyond the policy range, and nothing for the uninsured.
        assert (c.admission_paid[first:last, 0] <= ev.adm_cost[first:last, 0] + 0.01).all()
        if sch == "uninsured":
            assert c.admission_paid[first:last, :2].sum() == 0
            assert c.outpatient_paid[j, :, :2].sum() == 0
            continue
        res = codes.RESIDENCE[hh.residence[ps.hh[j]]]
        rules = getattr(pol.basic, sch if sch != "urrbmi" or pol.basic.urrbmi else
                        ("urbmi" if res == "urban" else "ncms"))
        ip = rules.inpatient
        if ip.cap_on == "payout":
            assert c.admission_paid[first:last, 0].sum() <= ip.annual_cap + 0.01
        # A first in-area, non-TCM admission whose policy-range cost is within the
        # deductible gets nothing from basic insurance.
        if last > first and not ev.adm_out_of_area[first] and not ev.adm_tcm[first]:
            lv = codes.LEVEL[ev.adm_level[first]]
            if ev.adm_cost[first, 0] <= getattr(ip.deductible, lv):
                assert c.admission_paid[first, 0] == 0
        cii = pol.critical_illness.employees if sch.startswith("uebmi") else pol.critical_illness.residents
        status = codes.STATUS[hh.status[ps.hh[j]]]
        if cii is not None and not (status in cii.tilt and cii.tilt[status].no_cap):
            sd = cii.special_drugs.annual_cap if cii.special_drugs else 0.0
            total_cii = c.admission_paid[first:last, 1].sum() + c.outpatient_paid[j, :, 1].sum()
            assert total_cii <= cii.annual_cap + sd + 0.01
        # Outpatient pooling cap.
        if rules.outpatient is not None:
            assert c.outpatient_paid[j, :3, 0].sum() <= rules.outpatient.annual_cap + 0.01


def _more_generous(data, draw):
    """Raise one rate, lower one deductible or raise one cap of basic insurance."""
    new = copy.deepcopy(data)
    scheme = draw(st.sampled_from(sorted(new["basic"])))
    ip = new["basic"][scheme]["inpatient"]
    what = draw(st.sampled_from(["rate", "deductible", "cap"]))
    lv = draw(st.sampled_from(["primary", "secondary", "tertiary"]))
    if what == "rate":
        ip["rate"][lv] = draw(st.floats(ip["rate"][lv], 1.0))
    elif what == "deductible":
        ip["deductible"][lv] = draw(st.floats(0.0, ip["deductible"][lv]))
    else:
        ip["annual_cap"] = draw(st.floats(ip["annual_cap"], float("inf")))
    return new


@SETTINGS
@given(policies(illness_hardship=False), households(), st.data())
def test_a_more_generous_basic_policy_never_raises_anyone_out_of_pocket(data, hhs, extra):
    generous = _more_generous(data, extra.draw)
    hh, ps, ev, before = _settle(data, hhs)
    _, _, _, after = _settle(generous, hhs)
    oop_before = np.zeros(len(ps))
    oop_after = np.zeros(len(ps))
    owner = np.repeat(np.arange(len(ps)), np.diff(ev.adm_offsets))
    np.add.at(oop_before, owner, before.admission_paid[:, 5])
    np.add.at(oop_after, owner, after.admission_paid[:, 5])
    oop_before += before.outpatient_paid[:, :, 5].sum(1)
    oop_after += after.outpatient_paid[:, :, 5].sum(1)
    # No household pays more.
    assert (np.bincount(ps.hh, oop_after) <= np.bincount(ps.hh, oop_before) + 0.01).all()
    # No person pays more, unless a household out-of-pocket cap binds: the household then
    # pays exactly the cap whatever the reform, and how the cap's relief is shared among
    # members moves with their bills (a member can pay more while another pays less).
    cap = data["medical_assistance"].get("oop_cap")
    if cap is None or cap.get("per", "household") == "person":
        assert (oop_after <= oop_before + 0.01).all()
