"""The calibration table: the model's key outcomes beside published or document values.

    .venv/bin/python benchmarks/calibration_table.py [--results results]

Reads the results of the shipped experiments (run them first: `microsim run
experiments/X.yaml`), takes each indicator's mean over replicates for the whole
population (residence, quintile and status `all`), and prints one Markdown
table per region: the model's value, the published or document value where
there is one (the experiment's own `targets:` for the seed documents, the
reference file for the nation), its source, the gap (model - published) and
why the gap remains. docs/calibration.md holds its output. Experiments whose
results are missing are listed and skipped.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import xarray as xr

from microsim.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent

# (experiment, scenarios shown)
EXPERIMENTS = [
    ("quickstart", ["baseline"]),
    ("jiaxing_common_prosperity", ["baseline_2021", "plan_2025"]),
    ("lishui_14th_fyp", ["actual_2020", "targets_2025"]),
    ("weihai_2021", ["after_2021"]),
    ("xinjiang_integration", ["dual_track", "integrated"]),
    ("jiangsu_2022_financing", ["financing_2022"]),
]

# the key outcomes, in order
INDICATORS = [
    "revenue_per_insured_urrbmi", "expenditure_per_insured_urrbmi", "fund_balance_share_urrbmi",
    "revenue_per_insured_uebmi", "expenditure_per_insured_uebmi", "fund_balance_share_uebmi",
    "inpatient_pr_reimbursement_employees", "inpatient_pr_reimbursement_residents",
    "inpatient_pr_basic_residents", "special_chronic_reimbursement_employees",
    "special_chronic_reimbursement_residents", "cost_share_out_of_pocket", "che10", "che25",
    "insured_share", "supplementary_payout_share", "admission_rate",
]

# Published values for the nation (not targets of an experiment): indicator -> (value, source).
NATIONAL = {
    "revenue_per_insured_urrbmi": (
        (349.7 + 697.8) * 1e9 / 963e6,
        "reference/calibration-inputs.md (URRBMI revenue 2023: 349.7 + 697.8 bn, grade A) over "
        "about 963 M insured (recalled from the NHSA 2023 bulletin, not in the reference file)"),
    "fund_balance_share_urrbmi": (
        0.0, "calibration aim: the residents' fund spends about its revenue (within 5%)"),
    "admission_rate": (
        13.8, "reference/calibration-inputs.md (12-month hospitalisation rate of persons, NHSS "
              "2018 survey, Wu et al. 2023, grade A)"),
    "cost_share_out_of_pocket": (
        27.3, "reference/calibration-inputs.md (OOP share of total health expenditure 2023, grade B)"),
}

# Why a gap remains: (experiment, indicator, scenario), (experiment, indicator) or
# (None, indicator) for every experiment; a met target without an entry reads "met".
WHY = {
    ("jiaxing_common_prosperity", "inpatient_pr_reimbursement_employees", "baseline_2021"):
        "a 2025 target: the 2021 rules come before the plan",
    ("jiaxing_common_prosperity", "inpatient_pr_reimbursement_residents", "baseline_2021"):
        "a 2025 target: the 2021 rules come before the plan",
    ("jiaxing_common_prosperity", "chronic_outpatient_reimbursement_primary_residents"):
        "the plan sets a minimum rate, which the 2025 policy pays (60%); the indicator is the "
        "ratio actually reimbursed, which the 两病 caps (400 / 500 yuan, the Jiangxi example) "
        "keep far below the rate",
    ("jiangsu_2022_financing", "reserve_months_urrbmi"):
        "the notice's 3 months is a warning threshold, not a reported value; the opening "
        "balance per insured is the national one (recalled), Jiangsu's own is not in the sources",
    ("lishui_14th_fyp", "insured_share"):
        "the spec enrols 99% of residents (an assumption), 98.99% in the draw; the plan's "
        "> 99% is of registered residents (户籍人口), a different base",
    ("weihai_2021", "supplementary_enrolment"):
        "the report's about 1 in 7 is rounded; voluntary uptake is an assumption of the "
        "population spec",
    ("quickstart", "revenue_per_insured_urrbmi"):
        "the model's revenue is the national minimum contribution (380 + 640); provinces add "
        "to the subsidy, so the published revenue per insured is higher",
    ("quickstart", "fund_balance_share_urrbmi"):
        "cited inpatient, 两病 and critical-illness rules alone spend over 90% of the minimum "
        "revenue; the assumed outpatient, 门诊慢特病 and special-drug benefits are set low "
        "enough to keep the balance within 5%",
    (None, "cost_share_out_of_pocket"):
        "the published share is OOP over total health expenditure (public health, "
        "administration, capital included); the model's denominator is medical spending only, "
        "so its share is higher",
    ("quickstart", "admission_rate"):
        "the survey counts persons admitted in 2018; the model is set to the 2023 admission "
        "counts (NHC, NHSA), which rose after 2018",
    (None, "supplementary_payout_share"):
        "the document's share counts all commercial health insurance payouts; the model pays "
        "out only the city supplementary product (惠民保) and divides by medical spending, "
        "not total health expenditure",
    ("xinjiang_integration", "inpatient_pr_basic_residents"):
        "within the experiment's 2-point reading of 左右; the integrated rules are chosen on "
        "the national population because the integration reform overlay shares them",
}


def _target_values(exp) -> dict[tuple[str, str], tuple[float, str, str, float]]:
    """(indicator, scenario) -> (target, comparison, document, tolerance) for whole-population
    targets."""
    out = {}
    for t in exp.file.targets or []:
        cell = (t.select.residence, t.select.quintile, t.select.status)
        if cell != ("all", "all", "all"):
            continue
        for sc in t.scenarios or [s.name for s in exp.scenarios]:
            out[(t.indicator, sc)] = (t.target, t.comparison, t.document, t.tolerance)
    return out


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def table(name: str, scenarios: list[str], results: Path) -> str:
    exp = load_experiment(ROOT / "experiments" / f"{name}.yaml")
    path = results / name / "results.nc"
    if not path.exists():
        return f"### {name}\n\nNo results at {path}: run `microsim run experiments/{name}.yaml`.\n"
    ds = xr.open_dataset(path)
    targets = _target_values(exp)
    lines = [f"### {exp.file.name} ({exp.population.data.name if exp.population else ''})", "",
             "| scenario | indicator | model | published | source | gap | why the gap remains |",
             "|---|---|---|---|---|---|---|"]
    wanted = INDICATORS + [i for i, _ in targets if i not in INDICATORS]
    wanted = list(dict.fromkeys(wanted))
    for sc in scenarios:
        for ind in wanted:
            if ind not in ds:
                continue
            v = float(ds[ind].sel(scenario=sc, residence="all", quintile="all",
                                  status="all").mean("replicate"))
            if math.isnan(v):
                continue
            pub, src, rel, met = None, "", "", False
            if (ind, sc) in targets:
                pub, cmp, src, tol = targets[(ind, sc)]
                rel = {"at_least": "≥ ", "at_most": "≤ ", "about": "≈ "}[cmp]
                met = {"at_least": v >= pub - tol, "at_most": v <= pub + tol,
                       "about": abs(v - pub) <= tol}[cmp]
            elif name == "quickstart" and ind in NATIONAL:
                pub, src = NATIONAL[ind]
                rel = "≈ "
            gap = "—" if pub is None else f"{v - pub:+.1f}" if abs(v - pub) < 100 else f"{v - pub:+,.0f}"
            why = ""
            if pub is not None:
                why = WHY.get((name, ind, sc), WHY.get((name, ind), WHY.get((None, ind), "")))
                why = why or ("met" if met else "")
            lines.append(f"| {sc} | {ind} | {_fmt(v)} | {rel + _fmt(pub) if pub is not None else '—'} "
                         f"| {src} | {gap} | {why} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=ROOT / "results")
    args = ap.parse_args()
    for name, scenarios in EXPERIMENTS:
        print(table(name, scenarios, args.results))


if __name__ == "__main__":
    main()
