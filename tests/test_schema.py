"""Numbers users write: never a YAML boolean in place of a count, never NaN or an infinity
(except a cap, where `.inf` means no cap), in every model, refused naming the file and key."""

from __future__ import annotations

import pytest

from microsim.errors import InputError
from microsim.experiment import load_experiment
from microsim.policy.load import load_policy
from tests.test_experiment import POLICY, experiment_text, write

TARGET = "targets:\n  - {{indicator: che10, document: d, target: {target}, tolerance: {tolerance}}}\n"


@pytest.mark.parametrize("households, extra, key, got", [
    ("yes", "", "population.households", "not true/false"),
    ("1000", "chunk_size: true\n", "chunk_size", "not true/false"),
    ("1000", TARGET.format(target=".nan", tolerance=1), "targets.0.target", "not nan"),
    ("1000", TARGET.format(target="'nan'", tolerance=1), "targets.0.target", "not nan"),
    ("1000", TARGET.format(target=50, tolerance=".inf"), "targets.0.tolerance", "not inf"),
    ("1000", TARGET.format(target="-.inf", tolerance=1), "targets.0.target", "not -inf"),
    ("1000", "subsistence_line: {yuan: 'infinity'}\n", "subsistence_line.yuan", "finite number"),
])
def test_booleans_and_non_finite_numbers_are_refused_in_an_experiment(tmp_path, households,
                                                                      extra, key, got):
    exp = write(tmp_path, experiment_text(households=households, extra=extra))
    with pytest.raises(InputError, match=rf"exp\.yaml: key '{key}': .*{got}"):
        load_experiment(exp)


@pytest.mark.parametrize("override, key, got", [
    ("basic: {urrbmi: {inpatient: {rate: {primary: .nan}}}}", "basic.urrbmi.inpatient.rate.primary",
     "finite number|nan"),
    ("basic: {urrbmi: {inpatient: {deductible: {primary: .inf}}}}",
     "basic.urrbmi.inpatient.deductible.primary", "finite number|inf"),
    ("basic: {urrbmi: {inpatient: {deductible: {primary: no}}}}",
     "basic.urrbmi.inpatient.deductible.primary", "not true/false"),
])
def test_booleans_and_non_finite_numbers_are_refused_in_a_policy(tmp_path, override, key, got):
    child = write(tmp_path, f"inherits: {POLICY}\nname: child\n{override}\n", "child.yaml")
    with pytest.raises(InputError, match=rf"child\.yaml: key '{key}': .*({got})"):
        load_policy(child)


def test_an_infinite_cap_still_means_no_cap(tmp_path):
    child = write(tmp_path, f"inherits: {POLICY}\nname: child\n"
                            "basic: {urrbmi: {inpatient: {annual_cap: .inf}}}\n", "child.yaml")
    assert load_policy(child).data.basic.urrbmi.inpatient.annual_cap == float("inf")
