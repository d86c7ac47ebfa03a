"""What the shipped files are calibrated to, pinned on small populations (docs/calibration.md).

Each test runs the real flow (synthesis, a year of illness, settlement) for one replicate of
a small population of a shipped experiment and checks a calibrated outcome within a band
that allows for the sampling error at that size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microsim import codes
from microsim.engine.run import build_context
from microsim.experiment import load_experiment
from microsim.health.events import draw_events
from microsim.population.synth import synthesize
from microsim.settlement.settle import settle

ROOT = Path(__file__).resolve().parents[1]
URRBMI = codes.SCHEME.index("urrbmi")
UEBMI = (codes.SCHEME.index("uebmi_employed"), codes.SCHEME.index("uebmi_retired"))
SPECIAL_CHRONIC = codes.OUTPATIENT_KIND.index("special_chronic")
REVENUE = [codes.FINANCE.index(f) for f in ("individual", "subsidy", "assisted", "employer",
                                             "employee")]


def _settled(experiment: str, scenario: int, households: int, replicate: int = 0):
    exp = load_experiment(ROOT / "experiments" / f"{experiment}.yaml")
    ctx, _ = build_context(exp)
    hh, persons = synthesize(ctx.spec, 0, households, households, ctx.seed, replicate, ctx.synth)
    events = draw_events(hh, persons, ctx.spec, ctx.seed, replicate, ctx.health)
    claims = settle(ctx.policies[scenario], hh, persons, events, ctx.seed, replicate)
    return persons, events, claims


def test_national_residents_fund_spends_about_its_revenue():
    # The national policy's residents' (URRBMI) fund: revenue = contributions + subsidies +
    # assisted contributions; expenditure = basic payments + critical-illness payments (the
    # policy's funds.critical_illness_paid_by.residents is basic_fund; residents have no
    # account). calibration/national_2023.yaml fits revenue and expenditure to the 2023
    # bulletin (10,569.71 and 10,457.65 亿: a balance of +1.1% of revenue), each within 3%.
    # Sampling error: on 20,000 households one replicate's balance share has a standard
    # deviation of about 1.1 points, so the band is +1.1 -/+ (3 points of calibration
    # tolerance + 3 standard deviations): -5.2 .. +7.4. Before the calibration the balance
    # was about -25% of revenue, far outside the band.
    persons, events, claims = _settled("quickstart", 0, 20_000)
    residents = persons.scheme == URRBMI
    of_admission = np.repeat(np.arange(len(persons)), np.diff(events.adm_offsets))
    fund_payers = [codes.PAYER.index(p) for p in ("basic", "critical_illness", "account")]
    expenditure = (claims.admission_paid[residents[of_admission]][:, fund_payers].sum()
                   + claims.outpatient_paid[residents][:, :, fund_payers].sum())
    revenue = claims.finance[residents][:, REVENUE].sum()
    # everyone pays 380 + 725 a year (or has it paid for them by assistance)
    assert revenue / residents.sum() == pytest.approx(1105.0, rel=1e-12)
    balance_share = 100 * (revenue - expenditure) / revenue
    assert -5.2 < balance_share < 7.4, balance_share


def test_lishui_2020_reproduces_the_plans_special_chronic_ratios():
    # Lishui's plan (003_aa574bb9555c6b84.txt) reports 门诊慢特病 reimbursement of 86.55%
    # (employees) and 73.83% (residents) in 2020: basic payments for 门诊慢特病 over its
    # policy-range cost (special_chronic_reimbursement_*). The 2020 policy pays 87% and 74%
    # with no deductible and caps at the inpatient caps (300,000 / 200,000) that no one's
    # 门诊慢特病 bill reaches, so the ratios are the rates, 87.0% and 74.0%, up to the few
    # bills a cap would cut: sampling error is nil at any size. Band: the experiment's own
    # tolerance of 1 point around the plan's figures.
    persons, events, claims = _settled("lishui_14th_fyp", 0, 5_000)
    basic = codes.PAYER.index("basic")
    policy_range = codes.PART.index("policy_range")
    for schemes, reported in ((UEBMI, 86.55), ((URRBMI,), 73.83)):
        members = np.isin(persons.scheme, schemes)
        paid = claims.outpatient_paid[members, SPECIAL_CHRONIC, basic].sum()
        cost = events.outpatient[members, SPECIAL_CHRONIC, policy_range].sum()
        assert cost > 0
        assert abs(100 * paid / cost - reported) < 1.0, (schemes, 100 * paid / cost)


def test_xinjiang_dual_track_keeps_about_75_percent_of_policy_range_inpatient_costs():
    # Xinjiang's opinion (002_cbf7479a4f5920d8.txt): 政策范围内住院费用支付比例保持在75%左右 -
    # kept (保持), so the dual track before integration pays about 75% too: basic payments
    # for residents' (URBMI and NCMS) admissions over their policy-range cost
    # (inpatient_pr_basic_residents; 75.2% on the experiment's 5 x 200,000 households).
    # Sampling error: on 10,000 households four replicates gave 75.4, 75.6, 75.0, 76.8 (sd
    # about 0.8), so on 20,000 about 0.6; band: the experiment's 2 points plus 3 sd, 3.8.
    # The earlier rates paid 59.8%, far outside.
    persons, events, claims = _settled("xinjiang_integration", 0, 20_000)
    residents = persons.scheme == URRBMI
    of_admission = np.repeat(np.arange(len(persons)), np.diff(events.adm_offsets))
    mine = residents[of_admission]
    basic = claims.admission_paid[mine, codes.PAYER.index("basic")].sum()
    cost = events.adm_cost[mine, codes.PART.index("policy_range")].sum()
    assert abs(100 * basic / cost - 75) < 3.8, 100 * basic / cost
