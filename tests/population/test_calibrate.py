"""Calibration: the income fit recovers shapes whose statistics were made the targets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from microsim.population.calibrate import fit_income
from microsim.population.income import income_model
from microsim.population.spec import load_population_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"
QUINTILES = ("9215", "20442", "32195", "50220", "95055")


def test_fit_recovers_the_shapes_that_made_the_targets(tmp_path):
    spec = load_population_spec(SPEC)
    model = income_model(spec)
    q = model.quintile_means()
    text = SPEC.read_text(encoding="utf-8")
    # Targets = the exact statistics of the spec's own shapes; start the fit 5-40% away.
    for k, old in enumerate(QUINTILES):
        text = text.replace(f"quintile: Q{k + 1}, target: {{value: {old},",
                            f"quintile: Q{k + 1}, target: {{value: {q[k]:.4f},")
    for old, residence in (("33036", "all"), ("47447", "urban"), ("19106", "rural")):
        text = text.replace(f"target: {{value: {old},",
                            f"target: {{value: {model.median(residence):.4f},")
    text = text.replace("value: 1.9201", "value: 2.05").replace("value: 3.1367", "value: 2.9")
    text = text.replace("value: -0.2409", "value: -0.15")
    path = tmp_path / "perturbed.yaml"
    path.write_text(text, encoding="utf-8")
    start = load_population_spec(path)
    assert start.data.income.urban.shape_a == 2.05
    fit = fit_income(start, max_iter=600)
    assert max(abs(r[3]) for r in fit.rows) < 1e-5
    assert fit.shapes["urban"][0] == pytest.approx(1.9201, rel=1e-3)
    assert fit.shapes["urban"][2] == pytest.approx(-0.2409, rel=1e-3)
    # The fragment is YAML whose leaves carry value, source and note.
    fragment = yaml.safe_load(fit.yaml(start, [r[0] for r in fit.rows]))
    leaf = fragment["income"]["urban"]["shape_a"]
    assert leaf["value"] == pytest.approx(1.9201, rel=1e-3)
    assert "calibration-inputs.md" in leaf["source"] and "income_q3" in leaf["note"]
