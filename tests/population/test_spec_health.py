"""The health part of a population spec: bad values are refused with the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from microsim.errors import InputError
from microsim.population.spec import load_population_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"


def child(tmp_path, body: str) -> Path:
    path = tmp_path / "child.yaml"
    path.write_text(f"inherits: {SPEC}\nhealth:\n{body}", encoding="utf-8")
    return path


@pytest.mark.parametrize("body, key, words", [
    ("  inpatient:\n    level_shares:\n      uebmi:\n"
     "        urban: {value: [0.2, 0.2, 0.2], source: assumption}\n",
     "health.inpatient.level_shares.uebmi", "must sum to 1"),
    ("  inpatient:\n    female_ratio: {value: [1.0, 2.0], source: assumption}\n",
     "health.inpatient.female_ratio", "one value per age band (12), got 2"),
    ("  outpatient:\n    visits_per_person: {value: [1, 2, 3], source: assumption}\n",
     "health.outpatient.visits_per_person", "one value per age band (12), got 3"),
    ("  chronic:\n    hypertension:\n      low: {value: 0, source: assumption}\n",
     "health.chronic.hypertension", "log_uniform cost needs low above 0"),
    ("  chronic:\n    diabetes:\n      high: {value: 100, source: assumption}\n",
     "health.chronic.diabetes", "high must be at least low"),
    ("  inpatient:\n    split:\n      out_of_catalogue_share: {value: 0.85, source: assumption}\n",
     "health.inpatient.split", "below 0.9"),
    # More than a visit a day, or an admission a week, on average in an age band is not a rate.
    ("  outpatient:\n    visits_per_person: {value: [5, 5, 5, 5, 5, 1.0e8, 5, 5, 5, 5, 5, 5], "
     "source: assumption}\n", "health.outpatient.visits_per_person", "less than or equal to 365"),
    ("  inpatient:\n    admissions_per_person: {value: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, "
     "0.1, 0.1, 0.1, 60], source: assumption}\n", "health.inpatient.admissions_per_person",
     "less than or equal to 52"),
    ("  outpatient:\n    severity_correlation: {value: 1.5, source: assumption}\n",
     "health.outpatient.severity_correlation", "less than or equal to 1"),
    ("  targets:\n    visits_per_persons: {value: 6.8, source: assumption}\n",
     "health.targets.visits_per_persons", "unknown key"),
    ("  chronic:\n    hypertension:\n      distribution: {value: normal, source: assumption}\n",
     "health.chronic.hypertension.distribution", "'uniform' or 'log_uniform'"),
])
def test_bad_health_values_name_the_file_and_key(tmp_path, body, key, words):
    path = child(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_population_spec(path)
    text = str(info.value)
    assert str(path) in text and key in text and words in text, text


def test_the_national_spec_is_valid_and_cites_every_health_number():
    spec = load_population_spec(SPEC)
    health_leaves = [k for k in spec.tree.origins if k[:1] == ("health",)]
    assert health_leaves
    cited = {k for k in spec.tree.sources if k[:1] == ("health",)}
    # Every value under health: carries a source (lists are cited as a whole).
    from microsim.yamltree import leaf_paths
    for path in leaf_paths(spec.tree.values["health"], ("health",)):
        assert any(path[:n] in cited for n in range(len(path), 1, -1)), path
