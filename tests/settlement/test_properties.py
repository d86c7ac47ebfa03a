"""Properties of settlement over random policies and bills (hypothesis)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from microsim import codes
from microsim.policy.arrays import build_arrays
from microsim.settlement import settle
from tests.builders import build
from tests.strategies import as_policy, households, policies

# Examples of the monotonicity property drawn, and those where the change lowered some
# household's out of pocket (checked by the test that follows the property).
MONOTONE_EXAMPLES = {"drawn": 0, "lowered": 0}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
B, CII, MA, SUP, ACC, OOP = range(6)
LEVELS = ("primary", "secondary", "tertiary")


def _settle(data, hhs):
    hh, ps, ev = build(hhs)
    return hh, ps, ev, settle(build_arrays(as_policy(data)), hh, ps, ev, seed=7, replicate=0)


@SETTINGS
@given(policies(), households())
def test_conservation_to_the_cent_and_no_layer_pays_more_than_is_left(data, hhs):
    hh, ps, ev, c = _settle(data, hhs)
    # Every bill equals the sum of what its payers paid, to the cent, and no payer pays a
    # negative amount, so no layer (in settlement order) pays more than what is left.
    np.testing.assert_allclose(c.admission_paid.sum(1), ev.adm_cost.sum(1), atol=0.01, rtol=0)
    np.testing.assert_allclose(c.outpatient_paid.sum(2), ev.outpatient.sum(2), atol=0.01, rtol=0)
    assert (c.admission_paid >= -1e-9).all() and (c.outpatient_paid >= -1e-9).all()


def _rules(pol, hh, ps, j):
    sch = codes.SCHEME[ps.scheme[j]]
    res = codes.RESIDENCE[hh.residence[ps.hh[j]]]
    name = sch if sch != "urrbmi" or pol.basic.urrbmi else ("urbmi" if res == "urban" else "ncms")
    return getattr(pol.basic, name)


@SETTINGS
@given(policies(), households())
def test_layers_respect_their_bases_caps_and_deductibles(data, hhs):
    hh, ps, ev, c = _settle(data, hhs)
    pol = as_policy(data).data
    ma = pol.medical_assistance
    for j in range(len(ps)):
        first, last = ev.adm_offsets[j], ev.adm_offsets[j + 1]
        adm, op = c.admission_paid[first:last], c.outpatient_paid[j]
        sch = codes.SCHEME[ps.scheme[j]]
        # Basic, critical illness and assistance never pay out-of-catalogue costs (assistance
        # may, only through an out-of-pocket cap whose base is all spending).
        public = 3 if ma.oop_cap is None or ma.oop_cap.base != "all" else 2
        assert (adm[:, :public].sum(1) <= ev.adm_cost[first:last, :2].sum(1) + 0.01).all()
        assert (op[:, :public].sum(1) <= ev.outpatient[j, :, :2].sum(1) + 0.01).all()
        # Basic insurance pays only policy-range costs, and nothing for the uninsured.
        assert (adm[:, B] <= ev.adm_cost[first:last, 0] + 0.01).all()
        assert (op[:, B] <= ev.outpatient[j, :, 0] + 0.01).all()
        if sch == "uninsured":
            assert adm[:, :2].sum() == 0 and op[:, :2].sum() == 0
            assert adm[:, SUP].sum() == 0 and op[:, SUP].sum() == 0
            continue
        rules = _rules(pol, hh, ps, j)
        ip = rules.inpatient
        if ip.cap_on == "payout":
            assert adm[:, B].sum() <= ip.annual_cap + 0.01
        # A first in-area, non-TCM admission within the deductible gets nothing from basic.
        if last > first and not ev.adm_out_of_area[first] and not ev.adm_tcm[first]:
            lv = codes.LEVEL[ev.adm_level[first]]
            if ev.adm_cost[first, 0] <= getattr(ip.deductible, lv):
                assert adm[0, B] == 0
        # Outpatient pooling: its cap, and nothing from spending within the deductible.
        pr = ev.outpatient[j, :, 0]
        if rules.outpatient is not None:
            assert op[:3, B].sum() <= rules.outpatient.annual_cap + 0.01
            if pr[:3].sum() <= rules.outpatient.deductible:
                assert op[:3, B].sum() == 0
        else:
            assert op[:3, B].sum() == 0
        if rules.two_disease is not None:
            td = rules.two_disease
            for k, cap in ((3, td.caps.hypertension), (4, td.caps.diabetes)):
                assert op[k, B] <= min(cap, td.rate * max(0.0, pr[k] - td.deductible)) + 0.01
            if td.caps.combined is not None:
                assert op[3:5, B].sum() <= td.caps.combined + 0.01
        if rules.special_chronic is not None:
            assert op[5, B] <= rules.special_chronic.annual_cap + 0.01
        # Critical illness: the annual cap (unless tilted away) plus the special-drug cap, and
        # nothing while the year's whole policy-range (and class-B) spending stays below the
        # threshold.
        cii = pol.critical_illness.employees if sch.startswith("uebmi") else \
            pol.critical_illness.residents
        status = codes.STATUS[hh.status[ps.hh[j]]]
        total_cii = adm[:, CII].sum() + op[:, CII].sum()
        if cii is None:
            assert total_cii == 0
        else:
            tilt = cii.tilt.get(status)
            if not (tilt and tilt.no_cap):
                sd = cii.special_drugs.annual_cap if cii.special_drugs else 0.0
                assert total_cii <= cii.annual_cap + sd + 0.01
            parts = 2 if cii.include_class_b else 1
            factor = tilt.threshold_factor if tilt else 1.0
            residence = codes.RESIDENCE[hh.residence[ps.hh[j]]]
            if ev.adm_cost[first:last, :parts].sum() <= factor * cii.threshold_amount(residence):
                assert adm[:, CII].sum() == 0
        # Supplementary: within the sum of its liabilities' caps, nothing if not enrolled.
        if pol.supplementary is None or not c.enrolled[j]:
            assert adm[:, SUP].sum() == 0 and op[:, SUP].sum() == 0
        else:
            caps = sum(li.annual_cap for li in pol.supplementary.liabilities)
            assert adm[:, SUP].sum() + op[:, SUP].sum() <= caps + 0.01
    # Assistance without an out-of-pocket cap stays within its two stages' caps per person.
    if ma.oop_cap is None:
        names = ("none",) + codes.STATUS[1:] + ("illness_hardship",)
        for j in range(len(ps)):
            group = names[c.group[ps.hh[j]]]
            first, last = ev.adm_offsets[j], ev.adm_offsets[j + 1]
            total = c.admission_paid[first:last, MA].sum() + c.outpatient_paid[j, :, MA].sum()
            if group not in ma.groups:
                assert total == 0
                continue
            g = ma.groups[group]
            cap = g.annual_cap + (0 if ma.shared_cap else (
                g.outpatient_cap if g.outpatient_cap is not None else g.annual_cap))
            cap += ma.tilted[group].annual_cap if group in ma.tilted else 0.0
            assert total <= cap + 0.01


def _knobs(data: dict) -> list[tuple[str, tuple]]:
    """Every parameter a generous reform may move: ('rate', path) may rise, ('down', path)
    may fall (deductibles, thresholds, rate cuts, out-of-pocket caps), ('cap', path) may rise."""
    out: list[tuple[str, tuple]] = []

    def add(kind, node, path):
        if isinstance(node, dict):
            for lv in LEVELS:
                out.append((kind, path + (lv,)))
        elif isinstance(node, list):
            out.extend((kind, path + (i,)) for i in range(len(node)))
        else:
            out.append((kind, path))

    for scheme, rules in data["basic"].items():
        base = ("basic", scheme)
        ip = rules["inpatient"]
        add("rate", ip["rate"], base + ("inpatient", "rate"))
        add("down", ip["deductible"], base + ("inpatient", "deductible"))
        add("cap", None, base + ("inpatient", "annual_cap"))
        if "repeat_deductible" in ip:
            add("down", ip["repeat_deductible"], base + ("inpatient", "repeat_deductible"))
        for i, band in enumerate(ip.get("bands", [])):
            add("rate", band["rate"], base + ("inpatient", "bands", i, "rate"))
        if "age_bonus" in ip:
            add("rate", None, base + ("inpatient", "age_bonus", "rate"))
        if "out_of_area" in ip:
            add("down", None, base + ("inpatient", "out_of_area", "rate_cut"))
            add("down", None, base + ("inpatient", "out_of_area", "deductible"))
        for section, fields in (("outpatient", ("rate", "deductible", "annual_cap")),
                                ("two_disease", ("rate", "deductible")),
                                ("special_chronic", ("rate", "deductible", "annual_cap")),
                                ("special_drugs", ("rate", "annual_cap"))):
            if section not in rules:
                continue
            for f in fields:
                kind = {"rate": "rate", "deductible": "down", "annual_cap": "cap"}[f]
                add(kind, rules[section][f], base + (section, f))
        if "two_disease" in rules:
            for name in rules["two_disease"]["caps"]:
                add("cap", None, base + ("two_disease", "caps", name))
    for who, cii in data["critical_illness"].items():
        base = ("critical_illness", who)
        for i in range(len(cii["bands"])):
            add("rate", None, base + ("bands", i, "rate"))
        add("cap", None, base + ("annual_cap",))
        if isinstance(cii["threshold"], dict):
            add("down", None, base + ("threshold", "share_of_income"))
        else:
            add("down", None, base + ("threshold",))
        if "special_drugs" in cii:
            add("rate", None, base + ("special_drugs", "rate"))
            add("down", None, base + ("special_drugs", "deductible"))
            add("cap", None, base + ("special_drugs", "annual_cap"))
        for g, tilt in cii["tilt"].items():
            add("rate", tilt["rate_bonus"], base + ("tilt", g, "rate_bonus"))
            add("down", None, base + ("tilt", g, "threshold_factor"))
    ma = data["medical_assistance"]
    for g, grp in ma["groups"].items():
        base = ("medical_assistance", "groups", g)
        add("rate", None, base + ("rate",))
        add("down", None, base + ("deductible",))
        add("cap", None, base + ("annual_cap",))
        if "outpatient_cap" in grp:
            add("cap", None, base + ("outpatient_cap",))
    for g in ma.get("tilted", {}):
        base = ("medical_assistance", "tilted", g)
        add("rate", None, base + ("rate",))
        add("down", None, base + ("threshold",))
        add("cap", None, base + ("annual_cap",))
    for g in ma.get("oop_cap", {}).get("groups", {}):
        add("down", None, ("medical_assistance", "oop_cap", "groups", g))
    for k, li in enumerate(data.get("supplementary", {}).get("liabilities", [])):
        base = ("supplementary", "liabilities", k)
        for i in range(len(li["bands"])):
            add("rate", None, base + ("bands", i, "rate"))
        add("rate", None, base + ("share_of_base",))
        add("down", None, base + ("deductible",))
        add("cap", None, base + ("annual_cap",))
    return out


def _can_move(kind: str, old: float) -> bool:
    """Whether the knob has room for a strictly more generous value."""
    if kind == "rate":
        return old < 1.0
    if kind == "down":
        return old > 0.0
    return not math.isinf(old)


def _more_generous(data: dict, draw) -> tuple[dict, str]:
    """Strictly raise some rates or caps, or strictly lower some deductibles, thresholds or
    out-of-pocket caps (one or more knobs, each moved; a knob already at its most generous
    value is never drawn). Hypothesis shrinks a failure to the fewest knobs."""
    new = copy.deepcopy(data)

    def node_of(path):
        node = new
        for p in path[:-1]:
            node = node[p]
        return node

    movable = [(kind, path) for kind, path in _knobs(new)
               if _can_move(kind, node_of(path)[path[-1]])]
    assume(movable)
    # Each knob moves with its own coin, at least one: one-knob changes are rare among so
    # many knobs, but a failure shrinks to the fewest knobs that show it.
    coins = draw(st.lists(st.booleans(), min_size=len(movable), max_size=len(movable)))
    chosen = [i for i, c in enumerate(coins) if c] or [draw(st.sampled_from(range(len(movable))))]
    changes = []
    for i in chosen:
        kind, path = movable[i]
        node = node_of(path)
        old = node[path[-1]]
        if kind == "rate":
            node[path[-1]] = draw(st.floats(old, 1.0, exclude_min=True))
        elif kind == "down":
            node[path[-1]] = draw(st.floats(0.0, old, exclude_max=True))
        else:
            node[path[-1]] = draw(st.one_of(st.just(math.inf),
                                            st.floats(old, 10 * old + 1e6, exclude_min=True)))
        assert node[path[-1]] != old
        changes.append(f"{kind} {'.'.join(map(str, path))}: {old} -> {node[path[-1]]}")
    return new, "; ".join(changes)


def _oop(ps, hh, ev, claims):
    per_person = claims.outpatient_paid[:, :, OOP].sum(1)
    owner = np.repeat(np.arange(len(ps)), np.diff(ev.adm_offsets))
    np.add.at(per_person, owner, claims.admission_paid[:, OOP])
    per_household = np.zeros(len(hh))
    np.add.at(per_household, ps.hh, per_person)
    return per_person, per_household


@SETTINGS
@given(policies(illness_hardship=False, one_base=True), households(), st.data())
def test_a_more_generous_policy_never_raises_anyone_out_of_pocket(data, hhs, extra):
    """Raising a rate or a cap, or lowering a deductible, in any layer never raises a
    household's out-of-pocket spending, nor a person's unless a household out-of-pocket cap
    shares the household's capped amount among its members (a member's share can rise when
    another member's bill falls; see test_household_rules).

    Two real features of layered rules are left out, each shown by a worked case in
    test_cases: illness-hardship eligibility is a cliff, and when the layers after basic
    insurance cover different parts of the bill (critical illness counts class-B self-pay,
    assistance does not), a more generous basic policy can move what is left from a part one
    layer covers to a part it does not. So the layers here share one in-catalogue base."""
    generous, change = _more_generous(data, extra.draw)
    hh, ps, ev, before = _settle(data, hhs)
    _, _, _, after = _settle(generous, hhs)
    person_before, household_before = _oop(ps, hh, ev, before)
    person_after, household_after = _oop(ps, hh, ev, after)
    assert (household_after <= household_before + 0.01).all(), change
    oop_cap = data["medical_assistance"].get("oop_cap")
    if oop_cap is None or oop_cap["per"] == "person":
        assert (person_after <= person_before + 0.01).all(), change
    MONOTONE_EXAMPLES["drawn"] += 1
    if (household_after < household_before - 0.01).any():
        MONOTONE_EXAMPLES["lowered"] += 1
        event("the change lowers someone's out of pocket")


def test_the_generous_changes_drawn_above_lower_someone_out_of_pocket():
    """The monotonicity property is not vacuous: a good share of its examples lower some
    household's out of pocket: measured 61, 68 and 76 of 150 in three runs (45%); 25% is
    37.5, more than four binomial standard deviations (sqrt(150 * 0.45 * 0.55) = 6.1)
    below 68. Runs after the property in this module; on its own (the property deselected)
    there is nothing to count."""
    drawn, lowered = MONOTONE_EXAMPLES["drawn"], MONOTONE_EXAMPLES["lowered"]
    if drawn == 0:
        pytest.skip("test_a_more_generous_policy_never_raises_anyone_out_of_pocket did not run")
    assert lowered >= 0.25 * drawn, f"{lowered} of {drawn} examples lower anyone's out of pocket"


@SETTINGS
@given(policies(), households())
def test_households_settle_the_same_alone_or_in_a_chunk(data, hhs):
    q = build_arrays(as_policy(data))
    hh, ps, ev = build(hhs)
    whole = settle(q, hh, ps, ev, seed=7, replicate=0)
    for i, one in enumerate(hhs):
        h1, p1, e1 = build([one])
        # Keep the ids that address the random draws (supplementary uptake).
        p1.person_id = ps.person_id[hh.first_person[i]:hh.first_person[i + 1]]
        alone = settle(q, h1, p1, e1, seed=7, replicate=0)
        first, last = hh.first_person[i], hh.first_person[i + 1]
        a0, a1 = ev.adm_offsets[first], ev.adm_offsets[last]
        assert np.array_equal(alone.admission_paid, whole.admission_paid[a0:a1])
        assert np.array_equal(alone.outpatient_paid, whole.outpatient_paid[first:last])
        assert np.array_equal(alone.finance, whole.finance[first:last])
        assert np.array_equal(alone.enrolled, whole.enrolled[first:last])
        assert alone.group[0] == whole.group[i]


@SETTINGS
@given(policies(), households())
def test_claims_reused_as_output_are_rewritten_in_full(data, hhs):
    q = build_arrays(as_policy(data))
    hh, ps, ev = build(hhs)
    fresh = settle(q, hh, ps, ev, seed=7, replicate=0)
    garbage = settle(q, hh, ps, ev, seed=7, replicate=0)
    for arr in (garbage.admission_paid, garbage.outpatient_paid, garbage.finance):
        arr.fill(-123.0)
    garbage.group.fill(99)
    garbage.enrolled.fill(True)
    again = settle(q, hh, ps, ev, seed=7, replicate=0, out=garbage)
    assert again is garbage
    for name in ("admission_paid", "outpatient_paid", "finance", "group", "enrolled"):
        assert np.array_equal(getattr(again, name), getattr(fresh, name)), name
