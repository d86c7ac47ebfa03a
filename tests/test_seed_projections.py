"""The seed experiments as projections: which policy file each scenario uses in each year, and
what that file sets. Each schedule is read as the engine reads it (Scenario.policy_in)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import microsim

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    return microsim.load_experiment(ROOT / "experiments" / f"{name}.yaml")


def _files(exp, scenario: str) -> list[str]:
    """The policy file of each simulated year, by file name."""
    s = next(s for s in exp.scenarios if s.name == scenario)
    return [s.policy_in(y).files[0].name for y in exp.years]


def _financing(exp, scenario: str) -> list[tuple[float, float]]:
    """(individual contribution, fiscal subsidy) of the residents' scheme in each year."""
    s = next(s for s in exp.scenarios if s.name == scenario)
    out = []
    for y in exp.years:
        res = s.policy_in(y).data.financing.residents
        out.append((float(res.individual), float(res.subsidy)))
    return out


def test_jiaxing_keeps_the_2021_rules_until_the_plan_arrives_in_2025():
    exp = _load("jiaxing_common_prosperity")
    assert exp.years == [2021, 2022, 2023, 2024, 2025]
    between = ["jiaxing_2021.yaml", "jiaxing_2022.yaml", "jiaxing_2023.yaml", "jiaxing_2024.yaml"]
    assert _files(exp, "baseline_2021") == between + ["jiaxing_2025.yaml"]
    assert _files(exp, "plan_2025_poor_only") == between + ["jiaxing_2025_plan_poor_only.yaml"]
    assert _files(exp, "plan_2025") == between + ["jiaxing_2025_plan.yaml"]
    # each year's file is of its year (policies are not uprated)
    for s in exp.scenarios:
        assert [s.policy_in(y).data.year for y in exp.years] == exp.years
    # residents' financing: the national individual standard (320, 350, 380, 400, 400); the
    # subsidy stays at Zhejiang's 641 while the national minimum (580, 610, 640) is below it,
    # and follows the minimum once it passes it (670 in 2024, 700 in 2025)
    assert _financing(exp, "baseline_2021") == [(320, 641), (350, 641), (380, 641),
                                                 (400, 670), (400, 700)]
    assert _financing(exp, "plan_2025") == _financing(exp, "baseline_2021")
    # the two plan scenarios differ only in 2025, in whom the government pays premiums for
    poor, plan = (next(s for s in exp.scenarios if s.name == n)
                  for n in ("plan_2025_poor_only", "plan_2025"))
    paid_poor = poor.policy_in(2025).data.supplementary.government_paid
    paid_plan = plan.policy_in(2025).data.supplementary.government_paid
    assert (paid_plan.from_age, paid_plan.disabled) == (60, True)
    assert (paid_poor.from_age, paid_poor.disabled) == (None, False)
    assert paid_poor.statuses == paid_plan.statuses == ["tekun", "dibao", "dibian"]
    assert plan.policy_in(2024).data.supplementary.government_paid.from_age is None


def test_jiaxing_checks_growth_from_2022_and_its_2025_targets_in_2025():
    exp = _load("jiaxing_common_prosperity")
    years = {(t.indicator, tuple(t.scenarios or ())): t.years for t in exp.file.targets}
    assert years[("fund_expenditure_growth_urrbmi", ())] == [2022, 2023, 2024, 2025]
    assert years[("fund_expenditure_growth_uebmi", ())] == [2022, 2023, 2024, 2025]
    assert years[("assistance_balance_share", ("baseline_2021", "plan_2025"))] is None  # every year
    assert years[("supplementary_payout_share", ("plan_2025",))] == [2025]
    assert years[("inpatient_pr_reimbursement_residents",
                  ("plan_2025_poor_only", "plan_2025"))] == [2025]


def test_lishui_runs_the_2020_rules_to_2024_and_removes_zhelibao_in_every_year():
    exp = _load("lishui_14th_fyp")
    assert exp.years == [2020, 2021, 2022, 2023, 2024, 2025]
    between = [f"lishui_{y}.yaml" for y in range(2020, 2025)]
    assert _files(exp, "actual_2020") == between + ["lishui_2025.yaml"]
    assert _files(exp, "without_zhelibao_2020") == between + ["lishui_2025.yaml"]
    assert _files(exp, "targets_2025") == between + ["lishui_2025_targets.yaml"]
    # 2020 amounts, then the national ones of each year (reference/calibration-inputs.md)
    assert _financing(exp, "actual_2020") == [(280, 550), (320, 580), (350, 610), (380, 640),
                                              (400, 670), (400, 700)]
    with_, without = (next(s for s in exp.scenarios if s.name == n)
                      for n in ("actual_2020", "without_zhelibao_2020"))
    for y in exp.years:          # the overlay applies to every year's file
        assert with_.policy_in(y).data.supplementary is not None
        assert without.policy_in(y).data.supplementary is None
    # the 门诊慢特病 rates move only when the 2025 targets arrive (0.87 -> 0.91 employees)
    targets = next(s for s in exp.scenarios if s.name == "targets_2025")
    rates = [float(targets.policy_in(y).data.basic.uebmi_employed.special_chronic.rate)
             for y in (2024, 2025)]
    assert rates == [0.87, 0.91], rates


def test_jiangsu_follows_the_contribution_schedule_against_financing_frozen_before_2022():
    exp = _load("jiangsu_2022_financing")
    assert exp.years == [2022, 2023, 2024, 2025]
    assert _files(exp, "financing_2022") == ["jiangsu_2022_residents.yaml", "jiangsu_2023.yaml",
                                             "jiangsu_2024.yaml", "jiangsu_2025.yaml"]
    # the notice's 350 + 640; then the national individual standard, and the subsidy kept at
    # 640 until the national minimum passes it
    assert _financing(exp, "financing_2022") == [(350, 640), (380, 640), (400, 670), (400, 700)]
    assert _financing(exp, "financing_2021") == [(320, 610)] * 4
    warning = next(t for t in exp.file.targets if t.indicator == "reserve_months_urrbmi")
    assert warning.years is None and warning.target == 3 and warning.comparison == "at_least"


def test_xinjiang_integrates_in_2017_after_a_dual_track_year():
    exp = _load("xinjiang_integration")
    assert exp.years == [2016, 2017, 2018]
    dual, merged = (next(s for s in exp.scenarios if s.name == n)
                    for n in ("dual_track", "integrated"))
    # before integration the residents have URBMI and NCMS and no integrated scheme
    integrated = [merged.policy_in(y).data.basic.urrbmi is not None for y in exp.years]
    assert integrated == [False, True, True]
    assert [dual.policy_in(y).data.basic.urrbmi is not None for y in exp.years] == [False] * 3
    assert _files(exp, "dual_track") == ["xinjiang_2017_pre_integration.yaml",
                                         "xinjiang_2017_pre_integration.yaml",
                                         "xinjiang_2018_pre_integration.yaml"]
    # 2018's national financing, 40 yuan more each (reference/national-aggregates.md)
    f2018 = merged.policy_in(2018).data.financing.residents
    assert (f2018.individual, f2018.subsidy) == (220, 490)
    urbmi = dual.policy_in(2018).data.financing.urbmi
    ncms = dual.policy_in(2018).data.financing.ncms
    assert (urbmi.individual, urbmi.subsidy, ncms.individual, ncms.subsidy) == (220, 490, 190, 490)


@pytest.mark.parametrize("name", ["jiaxing_common_prosperity", "lishui_14th_fyp",
                                  "jiangsu_2022_financing", "xinjiang_integration"])
def test_each_projection_states_its_opening_balances_in_its_first_year(name):
    # the carried fund indicators start from the first year's stated balances
    exp = _load(name)
    for s in exp.scenarios:
        funds = s.policy_in(exp.years[0]).data.funds
        assert funds.opening_balance_per_insured.uebmi > 0
        assert funds.opening_balance_per_insured.urrbmi > 0
        assert funds.medical_assistance.opening_balance_per_person > 0
        assert funds.medical_assistance.financing_per_person > 0


def _small_copy(name: str, tmp_path: Path, households: int) -> Path:
    """The experiment with its paths made absolute, at `households` and one replicate."""
    here = ROOT / "experiments"
    raw = yaml.safe_load((here / f"{name}.yaml").read_text(encoding="utf-8"))
    raw["population"]["spec"] = str((here / raw["population"]["spec"]).resolve())
    raw["population"]["households"] = households
    raw["replicates"], raw["chunk_size"] = 1, households
    for s in raw["scenarios"]:
        policy = s["policy"]
        s["policy"] = ({k: str((here / v).resolve()) for k, v in policy.items()}
                       if isinstance(policy, dict) else str((here / policy).resolve()))
        s["reforms"] = [str((here / r).resolve()) for r in s.get("reforms", [])]
    raw["output"] = str(tmp_path / "out")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_xinjiang_projection_is_paired_in_2016_and_carries_the_merged_fund(tmp_path):
    # 2016 has the same file in both scenarios, the same people and the same illnesses, so
    # every all-group indicator is identical; from 2017 the integrated scheme pays a different
    # share of residents' inpatient costs. The residents' fund of each year opens with the
    # previous year's closing balance.
    ds = microsim.run(_small_copy("xinjiang_integration", tmp_path, 3_000), write=False)
    assert ds["year"].values.tolist() == [2016, 2017, 2018]
    cell = {"residence": "all", "quintile": "all", "status": "all", "replicate": 0}
    for name in ("inpatient_pr_basic_residents", "fund_expenditure_urrbmi", "oop_per_person",
                 "reserve_months_urrbmi"):
        both = ds[name].sel(year=2016, **cell).values
        assert both[0] == both[1], (name, both)
    share = ds["inpatient_pr_basic_residents"].sel(year=2017, **cell).values
    assert share[0] != share[1], share
    for scen in ds["scenario"].values:
        closing = ds["fund_closing_balance_urrbmi"].sel(scenario=scen, **cell).values
        opening = ds["fund_opening_balance_urrbmi"].sel(scenario=scen, **cell).values
        assert opening[1:].tolist() == pytest.approx(closing[:-1].tolist(), rel=1e-12)
