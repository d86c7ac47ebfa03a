"""`microsim calibrate` on the command line: a check prints every target with its status, and
options that contradict each other are refused."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from microsim.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_check_prints_each_target_as_calibrated_and_writes_the_page(tmp_path):
    page = tmp_path / "calibration.md"
    result = runner.invoke(app, ["calibrate", str(ROOT / "calibration/weihai_2021_products.yaml"),
                                 "--check", "--markdown", str(page), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "weihai_2021_products:" in result.output
    row = next(x for x in result.output.splitlines() if "supplementary_loss_ratio" in x
               and "85.00" in x)
    assert "calibrated" in row and "met" not in row
    text = page.read_text(encoding="utf-8")
    assert "| weihai_2021_products | 1 of 1 | — | none | none |" in text
    assert "Fitted targets (calibrated, not evidence)" in text


def test_check_and_write_together_are_refused():
    result = runner.invoke(app, ["calibrate", str(ROOT / "calibration/weihai_2021_products.yaml"),
                                 "--check", "--write"])
    assert result.exit_code == 2
    assert "--write needs a fit" in result.output
