"""The calibration: a synthetic problem with known parameters is recovered, the fit is
deterministic, cited values are refused, and fitted values are written back with their
provenance while the rest of each file is kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from microsim.calibrate.fit import evaluate, fit
from microsim.calibrate.targets import load_targets
from microsim.calibrate.writeback import write_back
from microsim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
TRUE = {"wage_ratio": 2.2, "retiree_account_credit": 1500.0}
START = {"wage_ratio": 1.8, "retiree_account_credit": 840.0}


def _project(tmp_path: Path, parameters: list[dict], targets: list[dict]) -> Path:
    """A copy of the national spec and policy, a small experiment on them, and a target file."""
    for sub in ("populations", "policies/china", "experiments", "calibration"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "populations/china_2023.yaml", tmp_path / "populations")
    shutil.copy(ROOT / "policies/china/national_2023.yaml", tmp_path / "policies/china")
    (tmp_path / "experiments/small.yaml").write_text(yaml.safe_dump({
        "name": "small", "population": {"spec": "../populations/china_2023.yaml",
                                         "households": 1500},
        "year": 2023, "seed": 7, "replicates": 1, "output": "../results/small",
        "chunk_size": 1000, "compute": "synchronous",
        "scenarios": [{"name": "baseline", "policy": "../policies/china/national_2023.yaml"}]}))
    path = tmp_path / "calibration/small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "experiment": "../experiments/small.yaml",
                                    "parameters": parameters, "targets": targets},
                                   allow_unicode=True))
    return path


PARAMETERS = [
    {"name": "wage_ratio", "input": "population",
     "key": "insurance.wage.ratio_to_per_capita_income", "start": START["wage_ratio"],
     "bounds": [1.0, 3.5], "note": "test"},
    {"name": "retiree_account_credit", "input": "policy",
     "key": "financing.employees.retiree_account_credit",
     "start": START["retiree_account_credit"], "bounds": [0.0, 4000.0], "note": "test"}]


def _targets(values: dict[str, float]) -> list[dict]:
    return [{"name": name, "indicator": name, "grade": "derived", "role": "fit",
             "tolerance": {"relative": 0.001},
             "target": {"value": float(values[name]), "source": "synthetic"}}
            for name in ("fund_revenue_pooled_uebmi", "account_revenue_uebmi")]


def _truth(tmp_path: Path) -> dict[str, float]:
    """The model's pooled and account revenue at the true parameters."""
    path = _project(tmp_path / "truth", PARAMETERS, _targets(
        {"fund_revenue_pooled_uebmi": 1.0, "account_revenue_uebmi": 1.0}))
    ts = load_targets(path)
    values = evaluate(ts, [TRUE[p.name] for p in ts.parameters])
    return dict(zip((t.name for t in ts.targets), values))


def test_a_synthetic_problem_with_known_parameters_is_recovered(tmp_path):
    truth = _truth(tmp_path)
    ts = load_targets(_project(tmp_path / "fit", PARAMETERS, _targets(truth)))
    result = fit(ts)
    found = dict(zip((p.name for p in ts.parameters), result.values))
    # Contributions are continuous in both parameters (the wage base is clipped at its floor
    # and ceiling, the retirees' credit is linear), so the fit must land on the truth.
    assert found["wage_ratio"] == pytest.approx(TRUE["wage_ratio"], rel=1e-3)
    assert found["retiree_account_credit"] == pytest.approx(TRUE["retiree_account_credit"],
                                                            rel=1e-3)
    assert all(r.within for r in result.results)
    # Same targets, same seed, same start: the same values, bit for bit.
    again = fit(load_targets(_project(tmp_path / "again", PARAMETERS, _targets(truth))))
    assert again.values == result.values


def test_fitted_values_are_written_back_with_their_source_and_the_rest_kept(tmp_path):
    truth = _truth(tmp_path)
    path = _project(tmp_path / "fit", PARAMETERS, _targets(truth))
    result = fit(load_targets(path))
    mode = (tmp_path / "fit/policies/china/national_2023.yaml").stat().st_mode & 0o777
    written = write_back(result)
    spec = tmp_path / "fit/populations/china_2023.yaml"
    policy = tmp_path / "fit/policies/china/national_2023.yaml"
    assert sorted(written) == sorted([spec, policy])
    assert oct(policy.stat().st_mode & 0o777) == oct(mode)     # permissions kept
    data = yaml.safe_load(policy.read_text())
    credit = data["financing"]["employees"]["retiree_account_credit"]
    assert credit["value"] == pytest.approx(1500.0, rel=1e-3)
    assert credit["source"] == "calibration small (calibration/small.yaml)"
    assert credit["note"] == ("Fitted by `microsim calibrate calibration/small.yaml` (starting "
                              "from 840, within [0, 4000]). test")
    # comments and other values survive the rewrite
    text = policy.read_text()
    assert text.startswith("# National baseline 2023")
    assert data["financing"]["employees"]["employer_rate"]["value"] == 0.06
    # the rewritten files load, and the model now meets the targets without a fit
    ts = load_targets(path)
    assert ts.experiment.population.data.insurance.wage.ratio_to_per_capita_income == \
        pytest.approx(2.2, rel=1e-3)


def test_a_cited_value_is_refused_naming_file_and_key(tmp_path):
    cited = [{"name": "employer_rate", "input": "policy",
              "key": "financing.employees.employer_rate", "start": 0.06, "bounds": [0.03, 0.1],
              "note": "test"}]
    path = _project(tmp_path, cited, _targets({"fund_revenue_pooled_uebmi": 1.0,
                                               "account_revenue_uebmi": 1.0}))
    with pytest.raises(InputError) as exc:
        load_targets(path)
    text = str(exc.value)
    assert "national_2023.yaml" in text and "financing.employees.employer_rate" in text
    assert "it is cited" in text


@pytest.mark.parametrize("change, message", [
    ({"start": 9.0}, "outside the bounds"),
    ({"bounds": [2.0, 1.0]}, "lower < upper"),
    ({"mode": "scale", "start": None}, "must be recorded under 'base'"),
])
def test_bad_parameters_are_refused(tmp_path, change, message):
    param = dict(PARAMETERS[0], **change)
    if param.get("start") is None:
        param.pop("start")
    path = _project(tmp_path, [param], _targets({"fund_revenue_pooled_uebmi": 1.0,
                                                 "account_revenue_uebmi": 1.0}))
    with pytest.raises(InputError, match=message):
        load_targets(path)


def test_a_fitted_value_inside_a_list_is_written_back(tmp_path):
    # The population spec's `targets` is a list: the households target sits at
    # targets.0.target, written together with the households key when that is fitted.
    from microsim.calibrate.writeback import _leaf, _yaml
    path = tmp_path / "spec.yaml"
    path.write_text("households: {value: 10, source: assumption}\n"
                    "targets:\n  - name: households\n    target: {value: 10, source: assumption}\n")
    doc = _yaml().load(path.read_text())
    leaf = _leaf(doc, ("targets", "0", "target"), path)
    leaf["value"] = 12
    assert doc["targets"][0]["target"]["value"] == 12


def test_a_write_that_would_move_another_value_through_a_merge_is_refused(tmp_path):
    # In the national policy the retirees' inpatient rules are merged from the employees'
    # (`<<: *employee_rules`): writing a retirees' rate alone would change the employees' too.
    param = [{"name": "retired_tertiary", "input": "policy",
              "key": "basic.uebmi_retired.inpatient.rate.tertiary", "start": 0.6,
              "bounds": [0.5, 0.99], "note": "test"}]
    targets = [{"name": "ratio", "indicator": "inpatient_catalogue_fund_ratio_uebmi",
                "grade": "derived", "role": "fit", "tolerance": {"absolute": 50.0},
                "target": {"value": 80.0, "source": "synthetic"}}]
    path = _project(tmp_path, param, targets)
    policy = tmp_path / "policies/china/national_2023.yaml"
    before = policy.read_bytes()
    ts = load_targets(path)
    from microsim.calibrate.fit import Fit
    with pytest.raises(InputError, match="would also change a value the fit did not move"):
        write_back(Fit(ts, (0.7,), (), 1, 0.0))     # the employees keep their own rate
    assert policy.read_bytes() == before


def test_a_parameters_value_in_the_files_is_read_back_in_its_own_mode():
    # calibration/national_2023.yaml: a shift whose first base is 0 (特困's assistance
    # deductible) reads as the deductible itself; a scale reads as number / base on the
    # first non-zero base (the employed-membership profile starts with zeros).
    from microsim.calibrate.params import current
    ts = load_targets(ROOT / "calibration/national_2023.yaml")
    exp = ts.experiment
    by_name = {p.name: p for p in ts.parameters}
    tekun = exp.scenarios[0].policy.data.medical_assistance.groups["tekun"].deductible
    assert current(exp, by_name["assistance_deductibles"]) == pytest.approx(tekun)
    urban = exp.population.data.insurance.uebmi_employed.urban
    assert current(exp, by_name["uebmi_employed_level"]) == pytest.approx(urban[2] / 0.06)
    households = exp.population.data.households
    assert current(exp, by_name["households"]) == households
