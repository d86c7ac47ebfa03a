"""`microsim health describe`: tables or JSON of simulated use beside the spec's targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from microsim.cli import app
from microsim.health.events import draw_events
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"


def test_describe_prints_targets_beside_simulated_values():
    result = CliRunner().invoke(app, ["health", "describe", str(SPEC), "--households", "3000"])
    assert result.exit_code == 0, result.output
    text = result.output
    # The cited targets appear with their values (12,175 and 7,674 yuan per admission).
    assert "12,175" in text and "7,674" in text and "0.2186" in text
    assert "cost per admission by level" in text and "top 1% of persons" in text
    assert "targets within tolerance" in text


def test_describe_json_has_every_check_and_statistic():
    result = CliRunner().invoke(app, ["health", "describe", str(SPEC), "--households", "3000",
                                      "--json", "--seed", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["households"] == 3000 and data["seed"] == 2
    checks = {c["key"]: c for c in data["checks"]}
    assert checks["visits_per_person"]["target"] == 6.8
    assert checks["cost_per_admission_by_level.tertiary"]["target"] == 14016.9
    assert set(data["admission_cost_percentiles"]) == {"primary", "secondary", "tertiary"}
    # The statistics printed are the spec's simulated year: the top 1% of the persons of the
    # 3,000 households (seed 2), by their year's total spending, and its share of the total.
    spec = load_population_spec(SPEC)
    hh, ps = synthesize(spec, 0, 3000, 3000, 2, 0)
    ev = draw_events(hh, ps, spec, 2, 0)
    totals = ev.outpatient.sum(axis=(1, 2))
    np.add.at(totals, np.repeat(np.arange(len(ps)), np.diff(ev.adm_offsets)),
              ev.adm_cost.sum(axis=1))
    top = np.sort(totals)[::-1][:round(0.01 * len(ps))]
    assert data["persons"] == len(ps)
    assert data["statistics"]["top1_share"] == pytest.approx(top.sum() / totals.sum(), rel=1e-12)


def test_check_flag_fails_when_a_target_is_missed(tmp_path):
    spec = tmp_path / "far.yaml"
    spec.write_text(f"inherits: {SPEC}\nhealth:\n  targets:\n"
                    "    visits_per_person: {value: 20, source: assumption, note: unreachable}\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["health", "describe", str(spec), "--households", "2000",
                                      "--check"])
    assert result.exit_code == 1
    assert "missed: outpatient visits per person" in result.output


def test_a_missing_spec_is_a_clean_error():
    result = CliRunner().invoke(app, ["health", "describe", "nowhere.yaml"])
    assert result.exit_code == 2
    assert "nowhere.yaml" in result.output and "not found" in result.output
    assert "Traceback" not in result.output


def test_too_few_households_are_refused():
    result = CliRunner().invoke(app, ["health", "describe", str(SPEC), "--households", "5"])
    assert result.exit_code != 0 and "households" in result.output
