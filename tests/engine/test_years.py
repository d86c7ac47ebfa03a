"""Projections: funds carried to the cent, a one-year projection is a plain run, invariance."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import microsim
from microsim.engine.funds import carry_funds
from microsim.errors import InputError
from microsim.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "years"
PROJECTION = str(FIXTURE / "projection.yaml")
ALL = {"residence": "all", "quintile": "all", "status": "all"}


def _run(path=PROJECTION, **changes):
    exp = load_experiment(path)
    if changes:
        exp = dataclasses.replace(exp, file=exp.file.model_copy(update=changes))
    return microsim.run(exp, write=False, scheduler=changes.pop("compute", None) or "threads")


@pytest.fixture(scope="module")
def projection():
    return _run()


def test_a_projection_has_a_year_dimension(projection):
    assert projection["population"].dims[:3] == ("scenario", "year", "replicate")
    assert projection["year"].values.tolist() == [2023, 2024, 2025]


def test_the_fund_identity_holds_to_the_cent_in_every_year(projection):
    for fund in ("uebmi", "urrbmi"):
        opening = projection[f"fund_opening_balance_{fund}"].sel(**ALL)
        closing = projection[f"fund_closing_balance_{fund}"].sel(**ALL)
        revenue = projection[f"fund_revenue_{fund}"].sel(**ALL)
        spending = projection[f"fund_expenditure_{fund}"].sel(**ALL)
        gap_yuan = (closing - opening - revenue + spending) * 1e9
        assert float(abs(gap_yuan).max()) < 0.01
        # each year opens with the previous year's closing balance, exactly
        assert np.array_equal(opening.isel(year=slice(1, None)).values,
                              closing.isel(year=slice(None, -1)).values)
        months = projection[f"reserve_months_{fund}"].sel(**ALL)
        assert np.allclose(months, closing / (spending / 12), rtol=1e-12)
    opening = projection["assistance_opening_balance"].sel(**ALL)
    closing = projection["assistance_closing_balance"].sel(**ALL)
    gap = (closing - opening - projection["assistance_financing"].sel(**ALL)
           + projection["assistance_expenditure"].sel(**ALL)) * 1e9
    assert float(abs(gap).max()) < 0.01
    assert np.array_equal(opening.isel(year=1).values, closing.isel(year=0).values)


def test_growth_is_expenditure_over_the_previous_year(projection):
    growth = projection["fund_expenditure_growth_urrbmi"].sel(**ALL)
    spending = projection["fund_expenditure_urrbmi"].sel(**ALL)
    assert np.isnan(growth.isel(year=0)).all()
    assert np.allclose(growth.isel(year=2),
                       100 * (spending.isel(year=2) / spending.isel(year=1).values - 1))
    # a fund is carried whole: a later year's group cells are NaN
    assert np.isnan(projection["fund_closing_balance_urrbmi"].sel(
        year=2024, residence="urban", quintile="all", status="all")).all()


def test_every_scenario_sees_the_same_people_every_year(projection):
    people = projection["population"].sel(**ALL)
    assert np.array_equal(people.sel(scenario="baseline"), people.sel(scenario="reform"))
    # the population changes from year to year (deaths and births), not by scenario
    assert not np.array_equal(people.isel(year=0), people.isel(year=2))


def test_a_one_year_projection_equals_a_plain_run():
    plain = _run(until=None)
    one = _run(until=2023)
    assert "year" not in plain.dims and one["year"].values.tolist() == [2023]
    for name in plain.data_vars:
        # the paint-drip sample is of the first simulated year only: it has no year dimension
        same = one[name].isel(year=0) if "year" in one[name].dims else one[name]
        assert np.array_equal(plain[name].values, same.values, equal_nan=True), name


def test_chunk_size_and_scheduler_do_not_change_a_projection(projection):
    for other in (_run(chunk_size=1700), _run(chunk_size=6000, compute="synchronous")):
        for name in projection.data_vars:
            assert np.array_equal(projection[name].values, other[name].values,
                                  equal_nan=True), name


def test_carrying_worked_by_hand():
    # one scenario, three years, one replicate; revenue 10.00, 10.50, 11.00 billion, spending
    # 9.00, 11.70, 11.00; opening 2.00. Closing: 3.00, 1.80, 1.80; growth: -, 30%, -5.98%.
    shape = (1, 3, 1, 3, 6, 6)
    values = {name: np.full(shape, np.nan) for name in (
        "fund_revenue_urrbmi", "fund_expenditure_urrbmi", "fund_opening_balance_urrbmi",
        "fund_closing_balance_urrbmi", "reserve_months_urrbmi",
        "fund_expenditure_growth_urrbmi")}
    cell = (0, slice(None), 0, 2, 5, 5)
    values["fund_revenue_urrbmi"][cell] = [10.0, 10.5, 11.0]
    values["fund_expenditure_urrbmi"][cell] = [9.0, 11.7, 11.0]
    values["fund_opening_balance_urrbmi"][cell] = [2.0, 99.0, 99.0]   # later years: carried
    carry_funds(values)
    assert values["fund_opening_balance_urrbmi"][cell].tolist() == [2.0, 3.0, 1.8]
    assert values["fund_closing_balance_urrbmi"][cell] == pytest.approx([3.0, 1.8, 1.8],
                                                                         abs=1e-12)
    assert values["reserve_months_urrbmi"][cell] == pytest.approx([4.0, 1.8 / 11.7 * 12, 1.8 / 11 * 12])
    growth = values["fund_expenditure_growth_urrbmi"][cell]
    assert np.isnan(growth[0]) and growth[1:] == pytest.approx([30.0, (11.0 / 11.7 - 1) * 100])


def _absolute(tmp_path: Path, text: str) -> Path:
    """The fixture experiment's text written elsewhere, its relative paths made absolute."""
    path = tmp_path / "exp.yaml"
    path.write_text(text.replace("spec: spec.yaml", f"spec: {FIXTURE / 'spec.yaml'}")
                    .replace("../../../", f"{ROOT}/"))
    return path


def test_the_policy_schedule_picks_each_years_file(tmp_path):
    text = open(PROJECTION, encoding="utf-8").read().replace(
        "policy: ../../../policies/china/national_2023.yaml}",
        'policy: {"2022": ../../../policies/china/national_2023.yaml, '
        '"2025": ../../../policies/zhejiang/jiaxing_2025_plan.yaml}}', 1)
    exp = load_experiment(_absolute(tmp_path, text))
    baseline = exp.scenarios[0]
    assert [baseline.policy_in(y).data.year for y in (2023, 2024, 2025)] == [2023, 2023, 2025]
    assert baseline.policy.data.year == 2023          # the first simulated year's


@pytest.mark.parametrize("change, message", [
    ("until: 2025", None),
    ("until: 2021", "'until' \\(2021\\) is the last year of a projection and cannot come before"),
    ("until: 2030", "no value for 2026 \\(it runs 2023-2025\\)"),
])
def test_bad_spans_are_refused(tmp_path, change, message):
    text = open(PROJECTION, encoding="utf-8").read().replace("until: 2025", change)
    path = _absolute(tmp_path, text)
    if message is None:
        assert load_experiment(path).years == [2023, 2024, 2025]
    else:
        with pytest.raises(InputError, match=message):
            load_experiment(path)


def test_a_projection_needs_a_demography(tmp_path):
    spec = tmp_path / "nodemography.yaml"
    spec.write_text(f"inherits: {ROOT / 'populations' / 'china_2023.yaml'}\n"
                    f"uprating: {FIXTURE / 'index.yaml'}\ndemography: null\n")
    text = open(PROJECTION, encoding="utf-8").read().replace("spec: spec.yaml", f"spec: {spec}")
    path = _absolute(tmp_path, text)
    with pytest.raises(InputError, match="names no 'demography' file"):
        load_experiment(path)


def test_an_interrupted_projection_resumes_to_identical_results(tmp_path, projection):
    from microsim.engine import checkpoint
    from microsim.errors import Interrupted

    exp = load_experiment(PROJECTION)
    out = tmp_path / "out"
    done = []

    def stop(n, _persons):
        done.append(n)
        if n >= 7:          # 3 chunks x 3 years x 2 replicates = 18 tasks; stop in replicate 1
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="continue with --resume"):
        microsim.run(exp, output=out, progress=stop, checkpoint_seconds=0.0,
                     scheduler="synchronous")
    assert checkpoint.exists(out)
    seen = []
    ds = microsim.run(exp, output=out, resume=True, progress=lambda n, _p: seen.append(n))
    assert seen[0] == 8 and seen[-1] == 18          # only the 11 missing tasks ran
    for name in projection.data_vars:
        assert np.array_equal(ds[name].values, projection[name].values, equal_nan=True), name
