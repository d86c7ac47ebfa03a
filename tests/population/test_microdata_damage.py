"""Damaged microdata found by the fuzzers: every problem named by file, column and row.

Pages that do not decompress, a column written twice, metadata that is not JSON, an embedded
spec that is not one, and weights (or weight x amount) beyond the range in which the results'
fixed-point sums are exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from microsim.cli import app
from microsim.errors import InputError
from microsim.population.microdata import (HOUSEHOLDS_FILE, MAX_WEIGHTED_AMOUNT, PERSONS_FILE,
                                           check_microdata, open_microdata, write_population)
from microsim.population.spec import load_population_spec
from tests.population.microdata_files import copy_microdata, with_value
from microsim.population.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    spec = load_population_spec(SPEC)
    out = tmp_path_factory.mktemp("md") / "pop"
    write_population(out, [synthesize(spec, 0, 40, 40, 1, 0)], spec, {"seed": 1})
    return out


def test_a_page_that_does_not_decompress_is_named(base, tmp_path):
    bad = copy_microdata(base, tmp_path)
    data = bytearray((bad / PERSONS_FILE).read_bytes())
    for i in range(200, 400):          # inside the first data page, not the footer
        data[i] ^= 0xFF
    (bad / PERSONS_FILE).write_bytes(bytes(data))
    problems = [str(p) for p in check_microdata(bad)]
    assert len(problems) == 1
    assert problems[0].startswith(f"{bad / PERSONS_FILE}: cannot be read after row 0: the file "
                                  "is damaged (")


def test_a_column_written_twice_is_named(base, tmp_path):
    bad = copy_microdata(base, tmp_path, households=lambda t: t.append_column("income", t.column("income")))
    assert [str(p) for p in check_microdata(bad)] == [
        f"{bad / HOUSEHOLDS_FILE}, column 'income': the column appears 2 times; keep one"]


@pytest.mark.parametrize("meta, message", [
    (b"{not json", "metadata entry 'microsim.spec' is not valid JSON (Expecting property name "
                   "enclosed in double quotes: line 1 column 2 (char 1)); remove it or write the "
                   "file again"),
    (b"[1, 2]", "metadata entry 'microsim.spec' must be a JSON object (got 'list')"),
])
def test_metadata_that_is_not_json_is_named(base, tmp_path, meta, message):
    bad = copy_microdata(base, tmp_path, households=lambda t: t.replace_schema_metadata(
        {**(t.schema.metadata or {}), b"microsim.spec": meta}))
    assert [str(p) for p in check_microdata(bad)] == [f"{bad / HOUSEHOLDS_FILE}: {message}"]


def test_an_embedded_spec_that_is_not_a_spec_is_named(base, tmp_path):
    damaged = json.dumps({"values": {}, "sources": {"a": 1}}).encode()
    bad = copy_microdata(base, tmp_path, households=lambda t: t.replace_schema_metadata(
        {**(t.schema.metadata or {}), b"microsim.spec": damaged}))
    md = open_microdata(bad)
    with pytest.raises(InputError, match=r"households\.parquet \(embedded spec\): the embedded "
                                         r"spec is damaged \(TypeError: .*\); give the spec "
                                         r"explicitly"):
        md.embedded_spec()
    result = CliRunner().invoke(app, ["population", "describe", str(bad)])
    assert result.exit_code == 2 and "the embedded spec is damaged" in result.output


def test_a_weight_above_two_billion_households_is_refused(base, tmp_path):
    bad = copy_microdata(base, tmp_path, households=lambda t: with_value(t, "weight", 3, 5e9))
    problems = [str(p) for p in check_microdata(bad)]
    assert problems[0] == (f"{bad / HOUSEHOLDS_FILE}, column 'weight', row 3: a household stands "
                           "for at most 2e+09 households (got 5000000000.0)")


def test_weight_times_an_amount_beyond_the_exact_range_is_refused(base, tmp_path):
    # Weight 1,000 x consumption 1e10 = 1e13 yuan > 2**53 / 1024 = 8.796e12.
    def change(t):
        return with_value(with_value(t, "weight", 7, 1_000.0), "consumption", 7, 1e10)
    bad = copy_microdata(base, tmp_path, households=change)
    assert MAX_WEIGHTED_AMOUNT == 2.0 ** 53 / 1024
    assert [str(p) for p in check_microdata(bad)] == [
        f"{bad / HOUSEHOLDS_FILE}, column 'consumption', row 7: weight x consumption is 1e+13 "
        "yuan; it must stay below 8.796e+12 (2**53 / 1024, the range in which the results' sums "
        "are exact): check the weight and the amount (got 10000000000.0)"]
    # An income of 1e9 with weight 1 is valid.
    ok = tmp_path / "ok"
    ok.mkdir()
    h = pq.read_table(base / HOUSEHOLDS_FILE)
    h = with_value(with_value(h, "weight", 0, 1.0), "income", 0, 1e9)
    pq.write_table(h, ok / HOUSEHOLDS_FILE)
    pq.write_table(pq.read_table(base / PERSONS_FILE), ok / PERSONS_FILE)
    assert check_microdata(ok) == []


def test_population_check_prints_the_damage_and_exits_2(base, tmp_path):
    bad = copy_microdata(base, tmp_path, households=lambda t: with_value(t, "weight", 2, np.inf))
    result = CliRunner().invoke(app, ["population", "check", str(bad)])
    assert result.exit_code == 2
    assert "column 'weight', row 2: weight must be a finite number > 0 (got inf)" in result.output
    assert "internal error" not in result.output
