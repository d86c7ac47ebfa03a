"""Microdata: synth writes Parquet that reads back bit for bit, `check` names every kind of bad
value by file, column, row and value, and a run on the Parquet equals a run on the spec."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.errors import InputError
from microsim.experiment import load_experiment
from microsim.population.microdata import (HOUSEHOLDS_FILE, PERSONS_FILE, check_microdata,
                                           open_microdata, read_households, read_metadata)
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize
from tests.population.microdata_files import copy_microdata, with_value

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "populations" / "china_2023.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("md") / "pop"
    result = runner.invoke(app, ["population", "synth", str(SPEC), "--households", "3000",
                                 "--out", str(out), "--seed", "20231", "--row-group", "700"])
    assert result.exit_code == 0, result.output
    assert "3,000 households" in result.output
    return out


def test_synth_writes_row_groups_of_whole_households_with_metadata(written):
    hpf = pq.ParquetFile(written / HOUSEHOLDS_FILE)
    ppf = pq.ParquetFile(written / PERSONS_FILE)
    # 3000 households in row groups of 700: 700, 700, 700, 700, 200.
    assert [hpf.metadata.row_group(i).num_rows for i in range(hpf.num_row_groups)] == \
        [700, 700, 700, 700, 200]
    assert ppf.num_row_groups == 5
    meta = read_metadata(written)
    assert meta["draw"]["seed"] == 20231 and meta["draw"]["replicate"] == 0
    assert meta["schema"]["persons"]["age"] == "int16"
    assert meta["schema"]["codes"]["status"][2] == "dibao"
    assert meta["spec"]["name"] == "China 2023"
    assert meta["spec"]["sources"]["residence.urban_person_share"]["source"].startswith(
        "reference/calibration-inputs.md")
    embedded = open_microdata(written).embedded_spec()
    assert embedded.data == load_population_spec(SPEC).data
    # A fitted value's Chinese note travels with the spec, for the Chinese report.
    key = ("health", "inpatient", "scheme_factor", "urrbmi")
    assert embedded.tree.sources[key].note_zh == load_population_spec(SPEC).tree.sources[key].note_zh
    assert embedded.tree.sources[key].note_zh.endswith("相对于假设的住院年龄分布。")


def test_reading_any_range_gives_the_synthesised_arrays(written):
    spec = load_population_spec(SPEC)
    md = open_microdata(written)
    for start, stop in ((0, 3000), (650, 1450), (2999, 3000), (1400, 1400)):
        h, p = read_households(md, start, stop)
        sh, sp = synthesize(spec, start, stop, 3000, seed=20231, replicate=0)
        for col in ("hh_id", "weight", "region", "residence", "size", "income", "consumption",
                    "food", "status", "first_person"):
            a, b = getattr(h, col), getattr(sh, col)
            assert a.dtype == b.dtype and np.array_equal(a, b), col
        for col in ("person_id", "hh", "age", "sex", "scheme", "chronic", "disabled",
                    "supplementary", "wage"):
            a, b = getattr(p, col), getattr(sp, col)
            assert a.dtype == b.dtype and np.array_equal(a, b), col


def _experiment(tmp_path: Path, name: str, population: str, chunk: int) -> Path:
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("replicates: 5", "replicates: 1")
    text = text.replace(f"  spec: {ROOT}/populations/china_2023.yaml\n  households: 100000\n",
                        population)
    text = text.replace("chunk_size: 25000", f"chunk_size: {chunk}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_run_on_the_parquet_equals_a_run_on_the_spec(tmp_path, written):
    on_spec = _experiment(tmp_path, "spec", f"  spec: {SPEC}\n  households: 3000\n", 1000)
    on_parquet = _experiment(tmp_path, "parquet",
                             f"  microdata: {written}\n  spec: {SPEC}\n", 1300)
    a = microsim.run(on_spec, write=False)
    b = microsim.run(on_parquet, write=False)
    assert load_experiment(on_parquet).households == 3000
    for var in a.data_vars:
        assert np.array_equal(a[var].values, b[var].values, equal_nan=True), var
    assert float(a["che10"].sel(residence="all", quintile="all", status="all")[0, 0]) > 0


def test_experiments_refuse_households_with_microdata(tmp_path, written):
    path = _experiment(tmp_path, "both", f"  microdata: {written}\n  spec: {SPEC}\n"
                                         "  households: 10\n", 1000)
    with pytest.raises(InputError, match="'households' goes with a spec only"):
        load_experiment(path)


# --- check ----------------------------------------------------------------------------------

def _cast(table: pa.Table, column: str, type_: pa.DataType) -> pa.Table:
    i = table.schema.get_field_index(column)
    return table.set_column(i, pa.field(column, type_), table.column(column).cast(type_))


CASES = [
    ("missing column", dict(households=lambda t: t.drop_columns(["income"])),
     r"households\.parquet, column 'income': missing column"),
    ("wrong dtype", dict(persons=lambda t: _cast(t, "age", pa.int32())),
     r"persons\.parquet, column 'age': has type int32, expected int16"),
    ("unknown code", dict(households=lambda t: with_value(t, "residence", 5, 7)),
     r"households\.parquet, column 'residence', row 5: unknown code; codes are "
     r"\{0: 'urban', 1: 'rural'\} \(got 7\)"),
    ("negative income", dict(households=lambda t: with_value(t, "income", 3, -50.0)),
     r"households\.parquet, column 'income', row 3: negative value; income must be a finite "
     r"number >= 0 \(got -50\.0\)"),
    ("NaN income", dict(households=lambda t: with_value(t, "income", 4, np.nan)),
     r"households\.parquet, column 'income', row 4: NaN value; income must be a finite number "
     r">= 0 \(got nan\)"),
    ("missing household", dict(persons=lambda t: with_value(t, "hh_id", 10, 999_999)),
     r"persons\.parquet, column 'hh_id', row 10: person points at a missing household \(no such "
     r"hh_id in households\.parquet\) \(got 999999\)"),
    ("zero weight", dict(households=lambda t: with_value(t, "weight", 2, 0.0)),
     r"households\.parquet, column 'weight', row 2: weight must be a finite number > 0 \(got 0\.0\)"),
    ("duplicate id", dict(households=lambda t: with_value(t, "hh_id", 6, 1)),
     r"households\.parquet, column 'hh_id', row 6: duplicate household id \(got 1\)"),
    ("unknown scheme", dict(persons=lambda t: with_value(t, "scheme", 8, 4)),
     r"persons\.parquet, column 'scheme', row 8: unknown code; codes are \{0: 'uninsured', "
     r"1: 'uebmi_employed', 2: 'uebmi_retired', 3: 'urrbmi'\} \(got 4\)"),
    ("persons out of order", dict(persons=lambda t: t.take(np.r_[np.arange(3, t.num_rows), 0, 1, 2])),
     r"persons\.parquet, column 'hh_id', row 0: persons must be grouped by household in the order "
     r"of households\.parquet"),
]


@pytest.mark.parametrize("name,change,pattern", CASES, ids=[c[0] for c in CASES])
def test_check_names_file_column_row_and_value(tmp_path, written, name, change, pattern):
    bad = copy_microdata(written, tmp_path, **change)
    problems = check_microdata(bad)
    assert problems, name
    assert any(__import__("re").search(pattern, str(p)) for p in problems), \
        [str(p) for p in problems]
    # The CLI prints the problems and exits non-zero; nothing runs on invalid data.
    result = runner.invoke(app, ["population", "check", str(bad)])
    assert result.exit_code == 2
    with pytest.raises(InputError):
        open_microdata(bad)


def test_check_accepts_what_synth_writes(written):
    assert check_microdata(written) == []
    result = runner.invoke(app, ["population", "check", str(written)])
    assert result.exit_code == 0, result.output
    assert "3,000 households" in result.output and "538,490,000" in result.output


def test_a_run_refuses_invalid_microdata(tmp_path, written):
    bad = copy_microdata(written, tmp_path, households=lambda t: with_value(t, "weight", 2, -1.0))
    path = _experiment(tmp_path, "bad", f"  microdata: {bad}\n  spec: {SPEC}\n", 1000)
    result = runner.invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 2
    assert "column 'weight', row 2" in result.output
    assert not (tmp_path / "out").exists()


def test_describe_json_rows(written):
    result = runner.invoke(app, ["population", "describe", str(written), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by = {r["name"]: r for r in rows}
    assert set(rows[0]) >= {"name", "target", "simulated", "relative_error"}
    # The microdata's weights stand for the spec's households exactly.
    assert by["households"]["simulated"] == pytest.approx(538_490_000)
    assert by["households"]["relative_error"] == pytest.approx(0.0, abs=1e-12)
    assert by["income_q5"]["target"] == 95_055


def test_describe_strict_exits_non_zero_when_a_target_is_missed(tmp_path):
    text = SPEC.read_text(encoding="utf-8").replace(
        "target: {value: 538490000, source: calibration", "target: {value: 600000000, source: calibration")
    assert "600000000" in text
    spec = tmp_path / "off.yaml"
    spec.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["population", "describe", str(spec), "--households", "2000",
                                 "--strict"])
    assert result.exit_code == 1
    assert "NO" in result.output


def test_experiments_need_a_spec_beside_microdata(tmp_path, written):
    path = _experiment(tmp_path, "nospec", f"  microdata: {written}\n", 1000)
    with pytest.raises(InputError, match="'spec' is required: a population spec to synthesise "
                                         "from, or, with 'microdata', the spec that supplies"):
        load_experiment(path)


def test_describe_needs_a_spec_for_microdata_without_one(tmp_path):
    from microsim.population.microdata import write_population
    spec = load_population_spec(SPEC)
    out = write_population(tmp_path / "plain", [synthesize(spec, 0, 50, 50, 1, 0)], None,
                           {"seed": 1})
    result = runner.invoke(app, ["population", "describe", str(out)])
    assert result.exit_code == 2
    assert "carries no population spec; name one with --spec" in result.output
    ok = runner.invoke(app, ["population", "describe", str(out), "--spec", str(SPEC), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)[0]["name"] == "households"


def test_synth_refuses_to_overwrite_without_force(written):
    args = ["population", "synth", str(SPEC), "--households", "10", "--out", str(written)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "already exists; use --force" in result.output
    assert pq.ParquetFile(written / HOUSEHOLDS_FILE).metadata.num_rows == 3000
