"""Extreme but valid experiments through `microsim.run`: one household; households of 20; nobody
ill; bills of 1e8 yuan; policies with every rate 0 or 1 and every cap 0; microdata with zero
incomes and incomes of 1e9 yuan. Results stay finite (or NaN with a reason), every bill of
every chunk is conserved to 0.01 yuan, and no layer pays above its caps.

Populations are made extreme by a spec that inherits a shipped one (written in a temporary
folder); microdata by writing Parquet with `microsim/population/microdata.py`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import microsim
from microsim.errors import InputError, RunError
from microsim.experiment import load_experiment
from microsim.population.microdata import write_population
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize
from microsim.settlement.settle import check_conservation
from tests.extremes import assert_dataset_finite_or_explained, write_extreme_policy
from tests.invariants.experiments import cap_violations, chunks

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"
NATIONAL = ROOT / "policies" / "china" / "national_2023.yaml"
JIAXING = ROOT / "policies" / "zhejiang" / "jiaxing_2025_plan.yaml"
ALL = dict(residence="all", quintile="all", status="all")
N_BANDS = len(load_population_spec(SPEC).data.age.bands)


def experiment(folder: Path, population: dict, scenarios=None, replicates: int = 2,
               chunk_size: int = 100, name: str = "extreme", **extra) -> Path:
    doc = {"name": name, "population": population, "year": 2023,
           "scenarios": scenarios or [{"name": "baseline", "policy": str(NATIONAL)}],
           "replicates": replicates, "seed": 99, "output": str(folder / f"out_{name}"),
           "chunk_size": chunk_size, **extra}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def spec_inheriting(folder: Path, name: str, changes: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"inherits": str(SPEC), **changes}, sort_keys=False),
                    encoding="utf-8")
    return path


def check_chunks(path: Path) -> int:
    """Conservation of every bill and the caps of every layer, chunk by chunk; the bills seen."""
    exp = load_experiment(path)
    bills = 0
    for task, s, hh, ps, ev, claims in chunks(exp):
        assert check_conservation(ev, claims, tolerance=0.01) <= 0.01
        problems = cap_violations(exp.scenarios[s].policy.data, hh, ps, ev, claims)
        assert not problems, problems[:3]
        bills += ev.n_admissions
    return bills


def test_one_household(tmp_path):
    path = experiment(tmp_path, {"spec": str(SPEC), "households": 1})
    ds = microsim.run(path, write=False)
    assert_dataset_finite_or_explained(ds)
    # One household stands for every household of the spec, in each replicate.
    represented = load_population_spec(SPEC).data.households
    np.testing.assert_allclose(ds["households"].sel(**ALL), represented, rtol=1e-12)
    # Groups other than its own are empty: NaN ratios, each with its reason.
    assert np.isnan(ds["oop_per_person"].values).any()
    assert ds["oop_per_person"].attrs["nan_reason"].startswith("NaN where")
    check_chunks(path)


def test_a_population_made_only_of_households_of_twenty_is_refused_with_the_file_named(
        tmp_path):
    twenty = [0.0] * 19 + [1.0]
    spec = spec_inheriting(tmp_path, "twenty", {"household_size": {"urban": twenty,
                                                                   "rural": twenty}})
    path = experiment(tmp_path, {"spec": str(spec), "households": 150})
    # Twenty members in every household cannot reproduce the spec's age structure; the
    # refusal names the inheriting file, which changed household_size last.
    with pytest.raises(InputError, match=r"twenty\.yaml, key 'composition': the household "
                                         r"composition cannot reproduce the rural age structure: "
                                         r"age band 80\+ needs a share of 0\.0240"):
        microsim.validate(path)


def test_households_of_twenty(tmp_path):
    # One household in ten has 20 members (sizes 1-6 as in the national spec, scaled by 0.9).
    base = load_population_spec(SPEC).data.household_size
    sizes = {res: [0.9 * x for x in getattr(base, res)] + [0.0] * 13 + [0.1]
             for res in ("urban", "rural")}
    spec = spec_inheriting(tmp_path, "twenty", {"household_size": sizes})
    path = experiment(tmp_path, {"spec": str(spec), "households": 300})
    exp = load_experiment(path)
    sizes_seen = {int(hh.size.max()) for _, s, hh, _, _, _ in chunks(exp)}
    assert max(sizes_seen) == 20
    ds = microsim.run(path, write=False)
    assert_dataset_finite_or_explained(ds)
    assert check_chunks(path) > 0


def test_nobody_ill(tmp_path):
    zeros = [0.0] * N_BANDS
    spec = spec_inheriting(tmp_path, "healthy", {
        "chronic": {"hypertension": zeros, "diabetes": zeros, "special_chronic": zeros,
                    "rare_disease": 0.0},
        "health": {"inpatient": {"admissions_per_person": zeros},
                   "outpatient": {"visits_per_person": zeros}}})
    path = experiment(tmp_path, {"spec": str(spec), "households": 200})
    ds = microsim.run(path, write=False)
    assert_dataset_finite_or_explained(ds)
    # Nobody spends: costs, out of pocket and catastrophic spending are 0 (not NaN) ...
    for name in ("cost_per_person", "oop_per_person", "che10", "che25", "impoverished_dibao"):
        assert float(ds[name].sel(**ALL).max()) == 0.0, name
    # ... and ratios over costs are NaN in every cell, with the reason in their attributes.
    for name in ("inpatient_pr_reimbursement", "effective_reimbursement",
                 "chronic_outpatient_reimbursement", "ci_oop"):
        assert np.isnan(ds[name].values).all(), name
        assert ds[name].attrs["nan_reason"].startswith("NaN where"), name
    assert check_chunks(path) == 0


COSTLY = {"health": {"inpatient": {"cost": {lv: {"mean": 1e8, "sigma": 0.0}
                                            for lv in ("primary", "secondary", "tertiary")}}}}


def test_bills_of_a_hundred_million_yuan(tmp_path):
    # A population of 200 households (weight 1 each) whose every admission costs about 1e8.
    spec = spec_inheriting(tmp_path, "costly", {"households": 200, **COSTLY})
    path = experiment(tmp_path, {"spec": str(spec), "households": 200},
                      scenarios=[{"name": "baseline", "policy": str(NATIONAL)},
                                 {"name": "jiaxing", "policy": str(JIAXING)}])
    exp = load_experiment(path)
    largest = max(float(ev.adm_cost.sum(1).max(initial=0.0)) for _, s, _, _, ev, _ in chunks(exp)
                  if s == 0)
    assert largest >= 1e7
    assert check_chunks(path) > 0
    ds = microsim.run(path, write=False)
    assert_dataset_finite_or_explained(ds)
    # Such bills make almost everyone admitted catastrophic; the share stays a share.
    assert 0.0 < float(ds["che25"].sel(**ALL).min()) <= 100.0


def test_sums_beyond_the_exact_range_are_refused_cleanly(tmp_path):
    # The same bills for 200 households standing for 494 M: about 2.5e6 x 1e8 yuan per
    # admission, 1e17 in all, far beyond the int64 sums at 1/1024 yuan (4.5e15 yuan-weights).
    spec = spec_inheriting(tmp_path, "costly", COSTLY)
    path = experiment(tmp_path, {"spec": str(spec), "households": 200}, replicates=1)
    with pytest.raises(RunError, match=r"replicate 0 cannot be summed exactly: household "
                                       r"accumulator exceeds 2\*\*62"):
        microsim.run(path, write=False)


@pytest.mark.parametrize("base", [NATIONAL, JIAXING], ids=["national", "jiaxing_2025"])
def test_policies_with_every_rate_0_or_1_and_every_cap_0(tmp_path, base):
    scenarios = [{"name": "baseline", "policy": str(base)}] + [
        {"name": kind, "policy": str(write_extreme_policy(base, kind, tmp_path))}
        for kind in ("rates0", "rates1", "caps0")]
    path = experiment(tmp_path, {"spec": str(ROOT / "populations" /
                                             "zhejiang_jiaxing_2021.yaml"), "households": 300},
                      scenarios=scenarios)
    ds = microsim.run(path, write=False)
    assert_dataset_finite_or_explained(ds)
    share = ds["cost_share_basic"].sel(**ALL)
    # Nothing from basic insurance with every rate 0 or every cap 0; more than the baseline
    # with every rate 1.
    assert float(share.sel(scenario="rates0").max()) == 0.0
    assert float(share.sel(scenario="caps0").max()) == 0.0
    assert (share.sel(scenario="rates1") > share.sel(scenario="baseline")).all()
    assert check_chunks(path) > 0


def _microdata(folder: Path, weight: float) -> Path:
    """300 synthetic households, one in three with no income and no spending, one in three
    with an income of 1e9 yuan, every household of weight `weight`."""
    spec = load_population_spec(SPEC)
    hh, ps = synthesize(spec, 0, 300, 300, 5, 0)
    hh.weight[:] = weight
    hh.income[0::3] = 0.0
    hh.consumption[0::3] = 0.0
    hh.food[0::3] = 0.0
    hh.income[1::3] = 1e9
    hh.consumption[1::3] = 2e8
    out = folder / f"md_{weight:g}"
    write_population(out, [(hh, ps)], spec, {"seed": 5})
    return out


def test_microdata_with_zero_incomes_and_incomes_of_a_billion(tmp_path):
    md = _microdata(tmp_path, 1.0)
    path = experiment(tmp_path, {"microdata": str(md), "spec": str(SPEC)}, replicates=1,
                      societal_poverty_line={"ppp_factor": 4.6})
    ds = microsim.run(path, write=False)
    assert_dataset_finite_or_explained(ds)
    income = ds["income_per_person"].sel(**ALL)
    # A third of the households have 1e9 yuan: income per person is above 1e8.
    assert float(income.min()) > 1e8
    # The top quintile holds the billionaires; the bottom one (a third of the households have
    # no income) has no income at all, so its OOP share of income is NaN, with the reason.
    q = dict(residence="all", status="all")
    assert float(ds["income_per_person"].sel(quintile="Q5", **q).min()) > 1e8
    assert float(ds["income_per_person"].sel(quintile="Q1", **q).max()) == 0.0
    assert np.isnan(ds["oop_share_income"].sel(quintile="Q1", **q)).all()
    assert "NaN where" in ds["oop_share_income"].attrs["nan_reason"]
    assert check_chunks(path) > 0


def test_microdata_whose_weighted_incomes_leave_the_exact_range_are_refused(tmp_path):
    # A household of weight 1e6 with an income of 1e9: 1e15 yuan, far beyond any economy and
    # beyond the 2**53 / 1024 yuan in which the results' fixed-point sums are exact.
    md = _microdata(tmp_path, 1e6)
    with pytest.raises(InputError, match=r"households\.parquet, column 'income', row 1: weight x "
                                         r"income is 1e\+15 yuan; it must stay below 8\.796e\+12"):
        microsim.run(experiment(tmp_path, {"microdata": str(md), "spec": str(SPEC)}), write=False)
