"""Showing a resolved policy with sources, and the difference between two policies."""

from __future__ import annotations

import math
from pathlib import Path

from microsim.policy.inspect import DEFAULT, diff, leaves, show_value
from microsim.policy.load import load_policy

ROOT = Path(__file__).resolve().parents[2]
SIMPLE = ROOT / "tests" / "fixtures" / "policy_simple.yaml"


def test_leaves_carry_the_source_and_file_of_each_value_and_mark_defaults(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"inherits: {SIMPLE}\nbasic:\n  urrbmi:\n    inpatient:\n      annual_cap: "
                     "{value: 60000, source: assumption, note: a round number}\n",
                     encoding="utf-8")
    by_key = {leaf.key: leaf for leaf in leaves(load_policy(child))}
    cap = by_key["basic.urrbmi.inpatient.annual_cap"]
    assert (cap.value, cap.source, cap.note, cap.file) == (60000, "assumption", "a round number",
                                                          str(child))
    rate = by_key["basic.urrbmi.inpatient.rate.primary"]
    assert (rate.value, rate.source, rate.file) == (0.9, "", str(SIMPLE))   # no citation given
    band = by_key["critical_illness.residents.bands.1.from"]
    assert band.value == 50_000 and band.file == str(SIMPLE)
    default = by_key["basic.urrbmi.inpatient.cap_on"]
    assert (default.value, default.source, default.file) == ("payout", DEFAULT, "")


def test_diff_lists_changed_added_and_removed_values(tmp_path):
    reform = tmp_path / "reform.yaml"
    reform.write_text("name: r\nremove: [medical_assistance.groups.dibao]\n"
                      "changes: {basic: {urrbmi: {inpatient: {rate: {primary: "
                      "{value: 0.95, source: assumption, note: plus 5 points}}}}}}\n"
                      "add: {medical_assistance: {groups: {tekun: {rate: 1.0, annual_cap: none}}}}\n",
                      encoding="utf-8")
    changes = {c.key: c for c in diff(load_policy(SIMPLE), load_policy(SIMPLE, [reform]))}
    rate = changes["basic.urrbmi.inpatient.rate.primary"]
    assert (rate.before, rate.after, rate.source, rate.note) == (0.9, 0.95, "assumption",
                                                                 "plus 5 points")
    assert changes["medical_assistance.groups.dibao.rate"].after is None
    assert changes["medical_assistance.groups.tekun.annual_cap"].after == math.inf
    # The new group's deductible is the schema default 0.
    assert changes["medical_assistance.groups.tekun.deductible"].source == DEFAULT
    # One rate; 低保's deductible (0 by default), rate and cap gone; 特困's three new values.
    assert len(changes) == 7


def test_show_value_writes_values_as_a_policy_file_would():
    assert [show_value(v) for v in (math.inf, 0.85, 100000.0, True, ["a", 1.5])] == \
        ["none", "0.85", "100000", "true", "[a, 1.5]"]
