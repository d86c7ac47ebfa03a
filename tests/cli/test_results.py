"""`microsim summary` and `microsim compare` on results: a projection shows its last year by
default and any year asked with --year, naming it in the title; a year the results do not hold
is refused, naming the years they hold; a one-year run names its year and refuses another."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from microsim.cli import app
from tests.report.test_projection import one_year, projection

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    proj = tmp_path / "projection"
    proj.mkdir()
    projection().to_netcdf(proj / "results.nc")
    single = tmp_path / "one_year"
    single.mkdir()
    one_year().to_netcdf(single / "results.nc")
    return proj, single


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def row_of(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.strip("│ ").startswith(name))


def test_summary_shows_the_last_year_by_default_and_the_year_asked(files):
    proj, _ = files
    last = invoke("summary", str(proj), "-i", "che10")
    assert last.exit_code == 0, last.output
    assert "year 2023 (the last simulated year of 2021-2023)" in last.output
    # che10 in 2023: 19 (baseline), 18 (reform); replicates equal, so the interval is the mean
    assert "19.000 [19.000, 19.000]" in row_of(last.output, "che10")
    asked = invoke("summary", str(proj), "-i", "che10", "--year", "2022")
    assert asked.exit_code == 0, asked.output
    assert "year 2022 (years simulated: 2021-2023)" in asked.output
    row = row_of(asked.output, "che10")
    assert "22.000 [22.000, 22.000]" in row and "21.000 [21.000, 21.000]" in row


def test_summary_refuses_a_year_the_projection_does_not_hold(files):
    proj, _ = files
    result = invoke("summary", str(proj), "--year", "2030")
    assert result.exit_code == 2
    assert "no year 2030 in the results (years: 2021-2023)" in result.output


def test_compare_takes_the_year_too(files):
    proj, _ = files
    result = invoke("compare", str(proj), "-i", "reserve_months_urrbmi", "--year", "2021")
    assert result.exit_code == 0, result.output
    assert "year 2021 (years simulated: 2021-2023)" in result.output
    # reserve months in 2021: 6 (baseline), 7 (reform): effect +1
    assert "1.0000" in row_of(result.output, "reserve_months_urrbmi")
    assert invoke("compare", str(proj), "--year", "2020").exit_code == 2


def test_a_one_year_run_names_its_year_and_refuses_another(files):
    _, single = files
    result = invoke("summary", str(single), "-i", "che10")
    assert result.exit_code == 0, result.output
    assert "projection, year 2023:" in result.output
    assert invoke("summary", str(single), "-i", "che10", "--year", "2023").exit_code == 0
    other = invoke("summary", str(single), "--year", "2021")
    assert other.exit_code == 2 and "no year 2021 in the results (years: 2023)" in other.output

