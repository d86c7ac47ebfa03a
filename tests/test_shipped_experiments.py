"""The shipped experiments: each validates with every file it references, cites its source
document in every target, and has its section in experiments/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import microsim

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
SEED_DOCUMENTS = {"000_55b9bccaf240ac5f.txt", "001_bc36a64e61cd82cf.txt",
                  "002_cbf7479a4f5920d8.txt", "003_aa574bb9555c6b84.txt",
                  "004_3d518ec32958b008.txt"}
SEED_EXPERIMENTS = {"jiaxing_common_prosperity": "000_55b9bccaf240ac5f.txt",
                    "weihai_2021": "001_bc36a64e61cd82cf.txt",
                    "xinjiang_integration": "002_cbf7479a4f5920d8.txt",
                    "lishui_14th_fyp": "003_aa574bb9555c6b84.txt",
                    "jiangsu_2022_financing": "004_3d518ec32958b008.txt"}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_validates(path):
    exp = microsim.validate(path)          # loads, resolves and checks every indicator it names
    assert exp.name == path.stem
    assert {t.document for t in exp.file.targets} <= SEED_DOCUMENTS


@pytest.mark.parametrize("name, document", sorted(SEED_EXPERIMENTS.items()))
def test_each_seed_document_has_its_experiment_with_targets_and_a_readme_section(name, document):
    exp = microsim.load_experiment(ROOT / "experiments" / f"{name}.yaml")
    assert exp.file.targets and all(t.document == document for t in exp.file.targets)
    assert exp.file.report.question and exp.file.report.question_zh
    assert all(s.label and s.label_zh for s in exp.file.scenarios)
    readme = (ROOT / "experiments" / "README.md").read_text(encoding="utf-8")
    assert f"## `{name}.yaml`" in readme and document in readme


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_a_scenario_whose_policy_year_differs_from_the_population_year_says_so(path):
    # A scenario set must not mix years silently: where a scenario's policy is of another year
    # than the population, the experiment's description names both years and the scenario's
    # labels say "(YYYY policy, YYYY population)" (jiaxing: 2025 plan on the 2021 population).
    exp = microsim.load_experiment(path)
    population_year = exp.population.data.year
    for s in exp.scenarios:
        policy_year = s.policy.data.year
        if policy_year == population_year:
            continue
        assert "Years differ" in exp.file.description, (path.name, s.name)
        assert f"{policy_year} policy, {population_year} population" in s.label, s.label
        assert f"{policy_year}年政策，{population_year}年人口" in s.label_zh, s.label_zh
