"""`microsim schema`: prints or writes a kind's schema, writes all of them, and refreshes or
checks the docs' generated tables."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from microsim import schemas
from microsim.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_schema_prints_the_kind_s_schema():
    result = runner.invoke(app, ["schema", "policy"])
    assert result.exit_code == 0, result.output
    assert result.stdout == schemas.text("policy")
    assert json.loads(result.stdout)["title"] == "microsim policy file (policies/<region>/*.yaml)"


def test_schema_out_writes_the_file_and_all_writes_one_per_kind(tmp_path):
    result = runner.invoke(app, ["schema", "experiment", "--out", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "e.json").read_text(encoding="utf-8") == schemas.text("experiment")
    result = runner.invoke(app, ["schema", "all", "--out", str(tmp_path / "all")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert written == sorted(p.name for p in (ROOT / "schemas").iterdir())
    for name in schemas.KINDS:
        assert (tmp_path / "all" / f"{name}.json").read_bytes() == (
            ROOT / "schemas" / f"{name}.json").read_bytes()


def test_an_unknown_kind_and_all_without_a_folder_are_refused():
    result = runner.invoke(app, ["schema", "policies"])
    assert result.exit_code == 2
    assert ("no schema for 'policies': the kinds are experiment, policy, population, reform, "
            "calibration, demography, indices, sensitivity") in result.output
    result = runner.invoke(app, ["schema", "all"])
    assert result.exit_code == 2
    assert "'all' writes one file per kind: give the folder with --out" in result.output


def test_schema_docs_checks_and_refreshes_the_generated_tables(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Intro.\n<!-- generated: policy.funds.medical_assistance -->\nold\n"
                    "<!-- end -->\n", encoding="utf-8")
    (tmp_path / "plain.md").write_text("No blocks here.\n", encoding="utf-8")
    check = runner.invoke(app, ["schema", "docs", "--check", "--folder", str(tmp_path)])
    assert check.exit_code == 1
    assert "are out of date; refresh them with: microsim schema docs" in check.output
    assert "page.md" in check.output and "plain.md" not in check.output
    refresh = runner.invoke(app, ["schema", "docs", "--folder", str(tmp_path)])
    assert refresh.exit_code == 0, refresh.output
    assert "| `financing_per_person` | number ≥ 0 | required |" in page.read_text(encoding="utf-8")
    again = runner.invoke(app, ["schema", "docs", "--check", "--folder", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output
