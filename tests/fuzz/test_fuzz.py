"""Bounded fuzzing of every entry point (longer campaigns: python -m tests.fuzz --attempts N).

Every target of tests/fuzz/fuzzers.py runs CI_ATTEMPTS damaged inputs (slow
targets a stated share of them): none may crash. The whole module is meant
to stay under two minutes on two cores (docs/reliability.md gives the
measured time)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microsim.errors import MicrosimError
from microsim.population.microdata import HOUSEHOLDS_FILE, PERSONS_FILE, check_microdata
from microsim.yamltree import load_tree
from tests.fuzz.__main__ import table
from tests.fuzz.fuzzers import Outcome, mutate_bytes, run, targets
from tests.fuzz.parquet import write_base

CI_ATTEMPTS = 30


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.name)
def test_damaged_inputs_are_accepted_or_refused_with_the_input_named(target):
    out = run(target, target.attempts(CI_ATTEMPTS), seed=0)
    assert out.crashed == 0, "\n".join(f"{error}\n  input: {data!r}" for data, error in out.crashes)
    assert out.accepted + out.refused == out.tried == target.attempts(CI_ATTEMPTS)
    assert out.refused > 0          # the damage does reach the validation


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_raw_bytes_never_crash_the_yaml_reader(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.yaml"
        path.write_bytes(data)
        try:
            load_tree(path)
        except MicrosimError as exc:
            assert "raw.yaml" in str(exc)


@pytest.fixture(scope="module")
def microdata_base(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parquet")
    return write_base(folder)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([HOUSEHOLDS_FILE, PERSONS_FILE]), st.integers(0, 2**32), st.binary(max_size=64))
def test_damaged_parquet_bytes_never_crash_the_microdata_check(microdata_base, name, seed, junk):
    """A valid file with bytes flipped, cut, or random bytes spliced in at a random place."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "md"
        folder.mkdir()
        for f in (HOUSEHOLDS_FILE, PERSONS_FILE):
            (folder / f).write_bytes((microdata_base / f).read_bytes())
        data = (folder / name).read_bytes()
        rng = random.Random(seed)
        at = rng.randrange(len(data))
        damaged = rng.choice([data[:at] + junk + data[at + len(junk):], mutate_bytes(data, rng),
                              data[:at], junk])
        (folder / name).write_bytes(damaged)
        try:
            problems = check_microdata(folder)
        except MicrosimError as exc:
            assert name in str(exc)
        else:
            # Damage that Parquet's checks cannot see (in a value) leaves a readable file;
            # any problem found names its file.
            assert all(p.file.endswith((HOUSEHOLDS_FILE, PERSONS_FILE)) for p in problems)


def test_the_campaign_table_adds_up_its_rows():
    rows = [("a", "load_a", Outcome(10, 3, 7, 0), 1.2), ("b", "load_b", Outcome(5, 0, 5, 0), 0.4)]
    text = table(rows).splitlines()
    assert text[0].startswith("| target | entry point | tried | accepted | refused cleanly | crashed")
    assert text[2] == "| a | load_a | 10 | 3 | 7 | 0 | 1 |"
    # 10 + 5 tried, 3 + 0 accepted, 7 + 5 refused, 0 crashed, 1.2 + 0.4 = 1.6 s -> 2
    assert text[-1] == "| **all** | | **15** | **3** | **12** | **0** | **2** |"
