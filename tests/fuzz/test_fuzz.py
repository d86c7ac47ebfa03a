"""Bounded fuzzing of every input loader (longer campaigns: python -m tests.fuzz --attempts N)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microsim.cli import app
from microsim.errors import MicrosimError
from microsim.yamltree import load_tree
from tests.fuzz.fuzzers import attempt, run, targets

ATTEMPTS = 60


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.name)
def test_mutated_inputs_are_accepted_or_refused_with_the_file_named(target):
    out = run(target, ATTEMPTS, seed=0)
    assert out.crashed == 0, out.crashes
    assert out.refused > 0          # the mutations do reach the validation


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


def test_the_cli_never_shows_a_traceback_for_mutated_experiments(tmp_path):
    target = targets()[0]
    rng = random.Random(7)
    runner = CliRunner()
    codes = set()
    for _ in range(15):
        verdict, _, _ = attempt(target, rng, tmp_path)
        result = runner.invoke(app, ["validate", str(tmp_path / target.filename)])
        assert "Traceback" not in result.output and "internal error" not in result.output
        codes.add(result.exit_code)
        assert result.exit_code == (0 if verdict == "accepted" else 2)
    assert 2 in codes
