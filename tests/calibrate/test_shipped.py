"""The shipped calibration target sets, checked as the files stand: every fitted target is
calibrated (within its tolerance) and every held-out target is where docs/calibration.md says.

A failure here means a change moved the model away from what was fitted: rerun
`microsim calibrate calibration/NAME.yaml --write` (and regenerate docs/calibration.md), or,
if the change is wrong, undo it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from microsim.calibrate.fit import check
from microsim.calibrate.targets import load_targets

ROOT = Path(__file__).resolve().parents[2]
SETS = sorted((ROOT / "calibration").glob("*.yaml"))
# Held-out targets the model misses, and why (docs/calibration.md): each must stay missed
# until the model gains what it lacks, so a fix shows up here and the list is updated.
MISSED = {
    "national_2023": set(),
    # The 2023 population moved to 2024 by prices and use alone under the 2023 rules: fund
    # spending grew faster than hospital prices and admissions (the pooled funds took over
    # outpatient spending from the accounts, 门诊共济), which the 2023 rules do not have.
    "national_2024_check": {"expenditure_urrbmi_2024", "closing_balance_urrbmi_2024",
                            "expenditure_uebmi_pooled_2024", "expenditure_uebmi_accounts_2024"},
}
# Fitted targets the fit cannot reach within the parameters' bounds (docs/calibration.md):
# Weihai's employees' fund keeps about 35% of its revenue with the employer rate at its floor
# (8%, above the pilot's 7.5%), a rate that includes maternity contributions while the model
# pays no maternity benefits.
MISSED_FITTED = {
    "weihai_2021": {"employees_fund_balance"},
}


def test_every_shipped_calibration_file_is_found():
    assert {p.stem for p in SETS} >= {"national_2023", "jiangsu_2022", "jiaxing_2021",
                                      "lishui_2020", "weihai_2021", "xinjiang_2016"}


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_fitted_targets_are_calibrated_and_held_out_ones_as_documented(path):
    result = check(load_targets(path))
    fitted = result.by_role("fit") + result.by_role("implied")
    assert {r.target.name for r in fitted if not r.within} == MISSED_FITTED.get(path.stem, set())
    missed = {r.target.name for r in result.by_role("holdout") if not r.within}
    assert missed == MISSED.get(path.stem, set())
