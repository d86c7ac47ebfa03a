"""`population import`: the shipped CSV example and a .dta with value labels read back as the
hand-worked arrays; every refusal names the file, column, row and value; the output folder is
never left half-written or overwritten by mistake; an experiment runs on the imported folder."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.errors import InputError
from microsim.population.importer import import_microdata
from microsim.population.microdata import (HOUSEHOLDS_FILE, PERSONS_FILE, check_microdata,
                                           open_microdata, read_households, read_metadata)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "fixtures" / "import"
MAPPING, HOUSEHOLDS, PERSONS = (EXAMPLE / "mapping.yaml", EXAMPLE / "households.csv",
                                EXAMPLE / "persons.csv")
runner = CliRunner()

# The example by hand. Households in file order 1001, 1002, 1003; amounts are monthly x 12:
# income 5000 x 12 = 60000, 2000 x 12 = 24000, 8000 x 12 = 96000; consumption 3000, 1500,
# 5000 x 12; food 1000, 600, 1500 x 12. Sizes counted from persons.csv: 3, 2, 2.
HOUSEHOLDS_EXPECTED = {
    "hh_id": [1001, 1002, 1003], "weight": [1200.5, 800.0, 1000.0],
    "region": [330000] * 3, "residence": [0, 1, 0],          # 城镇 urban, 农村 rural
    "size": [3, 2, 2], "income": [60000.0, 24000.0, 96000.0],
    "consumption": [36000.0, 18000.0, 60000.0], "food": [12000.0, 7200.0, 18000.0],
    "status": [0, 2, 0],                                     # dibao 1 -> code 2
    "first_person": [0, 3, 5, 7],
}
# Persons grouped by household, file order within one: 1001 has file rows 0, 2, 6; 1002 rows
# 1, 4; 1003 rows 3, 5. chronic = hypertension (1) + 2 x diabetes; wage = monthly x 12, the
# child's empty wage read as 0.
PERSONS_EXPECTED = {
    "person_id": [100102, 100101, 100103, 100201, 100202, 100301, 100302],
    "hh": [0, 0, 0, 1, 1, 2, 2],
    "age": [34, 36, 70, 67, 65, 8, 40],
    "sex": [1, 0, 0, 0, 1, 0, 1],                            # 女 female 1, 男 male 0
    "scheme": [1, 1, 2, 3, 3, 3, 0],                         # 职工 1, 退休 2, 居民 3, 未参保 0
    "chronic": [0, 1, 3, 3, 2, 0, 0],
    "disabled": [False, False, False, True, False, False, False],
    "supplementary": [True, False, False, False, False, False, False],
    "wage": [48000.0, 60000.0, 0.0, 0.0, 0.0, 0.0, 72000.0],
}


def assert_example(folder: Path) -> None:
    assert check_microdata(folder) == []
    md = open_microdata(folder)
    h, p = read_households(md, 0, md.n_households)
    for name, want in HOUSEHOLDS_EXPECTED.items():
        assert getattr(h, name).tolist() == want, name
    for name, want in PERSONS_EXPECTED.items():
        assert getattr(p, name).tolist() == want, name


def test_the_csv_example_imports_to_the_hand_worked_arrays(tmp_path):
    result = import_microdata(MAPPING, HOUSEHOLDS, PERSONS, tmp_path / "pop")
    assert (result.households, result.persons, result.size) == (3, 7, "counted")
    assert_example(tmp_path / "pop")
    assert sorted(p.name for p in (tmp_path / "pop").iterdir()) == [HOUSEHOLDS_FILE, PERSONS_FILE]
    assert [p.name for p in tmp_path.iterdir()] == ["pop"]     # no temporary folder left


def test_the_metadata_records_the_mapping_and_the_source_files(tmp_path):
    import_microdata(MAPPING, HOUSEHOLDS, PERSONS, tmp_path / "pop")
    meta = read_metadata(tmp_path / "pop")
    record = meta["import"]
    assert record["mapping"]["text"] == MAPPING.read_text(encoding="utf-8")
    assert record["mapping"]["path"] == str(MAPPING.resolve())
    assert record["households"]["sha256"] == hashlib.sha256(HOUSEHOLDS.read_bytes()).hexdigest()
    assert record["persons"]["sha256"] == hashlib.sha256(PERSONS.read_bytes()).hexdigest()
    assert (record["households"]["rows"], record["persons"]["rows"]) == (3, 7)
    assert record["size"] == "counted" and record["name"] == "survey extract example"
    assert meta["schema"]["persons"]["chronic"] == "uint8"
    persons_meta = pq.ParquetFile(tmp_path / "pop" / PERSONS_FILE).schema_arrow.metadata
    assert json.loads(persons_meta[b"microsim.import"])["persons"]["format"] == "csv"


def _dta(tmp_path: Path, value_labels: bool = True) -> tuple[Path, Path]:
    """The example as Stata files: area, gender and ins as labelled codes, the child's wage a
    Stata missing value."""
    h = pd.read_csv(HOUSEHOLDS, dtype={"area": "category"})
    p = pd.read_csv(PERSONS, dtype={"gender": "category", "ins": "category"})
    assert p["wage_month"].isna().sum() == 1
    h.to_stata(tmp_path / "hh.dta", write_index=False, version=118)
    p.to_stata(tmp_path / "pp.dta", write_index=False, version=118)
    return tmp_path / "hh.dta", tmp_path / "pp.dta"


def test_a_dta_with_value_labels_imports_with_the_same_mapping(tmp_path):
    hh, pp = _dta(tmp_path)
    # Stored as codes with value labels: the labels are what the mapping matches.
    with pd.read_stata(pp, iterator=True) as reader:
        assert set(reader.value_labels()["gender"].values()) == {"男", "女"}
    assert pd.read_stata(pp, convert_categoricals=False)["gender"].dtype.kind == "i"
    result = import_microdata(MAPPING, hh, pp, tmp_path / "pop", chunk_rows=2)
    assert (result.households, result.persons) == (3, 7)
    assert_example(tmp_path / "pop")
    assert read_metadata(tmp_path / "pop")["import"]["persons"]["format"] == "dta"


def test_a_dta_read_as_codes_maps_the_codes(tmp_path):
    hh, pp = _dta(tmp_path)
    with pd.io.stata.StataReader(pp) as reader:
        labels = reader.value_labels()
    code = {name: {label: int(c) for c, label in labels[name].items()} for name in labels}
    text = MAPPING.read_text(encoding="utf-8").replace("persons:\n", "persons:\n"
                                                         "  value_labels: false\n")
    text = text.replace("map: {男: male, 女: female}",
                        f"map: {{{code['gender']['男']}: male, {code['gender']['女']}: female}}")
    text = text.replace("map: {职工: uebmi_employed, 退休: uebmi_retired, 居民: urrbmi, "
                        "未参保: uninsured}",
                        "map: {" + ", ".join(f"{code['ins'][k]}: {v}" for k, v in (
                            ("职工", "uebmi_employed"), ("退休", "uebmi_retired"),
                            ("居民", "urrbmi"), ("未参保", "uninsured"))) + "}")
    mapping = tmp_path / "codes.yaml"
    mapping.write_text(text, encoding="utf-8")
    import_microdata(mapping, hh, pp, tmp_path / "pop")
    assert_example(tmp_path / "pop")


def test_small_chunks_and_row_groups_give_the_same_folder(tmp_path):
    import_microdata(MAPPING, HOUSEHOLDS, PERSONS, tmp_path / "pop", chunk_rows=1, row_group=2)
    assert_example(tmp_path / "pop")
    hpf = pq.ParquetFile(tmp_path / "pop" / HOUSEHOLDS_FILE)
    ppf = pq.ParquetFile(tmp_path / "pop" / PERSONS_FILE)
    # Row groups of 2 households: 1001, 1002 (3 + 2 = 5 persons), then 1003 (2 persons).
    assert [hpf.metadata.row_group(i).num_rows for i in range(hpf.num_row_groups)] == [2, 1]
    assert [ppf.metadata.row_group(i).num_rows for i in range(ppf.num_row_groups)] == [5, 2]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_persons_come_out_grouped_whatever_the_chunks(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 60
    hh_id = rng.permutation(np.arange(1000, 1000 + 3 * n, 3))[:n]     # unsorted, unique
    size = rng.integers(1, 5, n)
    person_hh = np.repeat(hh_id, size)
    pid = np.arange(person_hh.size) * 7 + 5
    shuffle = rng.permutation(person_hh.size)
    households = pd.DataFrame({"hhid": hh_id, "area": "城镇", "inc_month": 100, "cons_month": 50,
                               "food_month": 20, "hhwt": 1.0, "prov": 0, "dibao": 0})
    persons = pd.DataFrame({"pid": pid[shuffle], "hhid": person_hh[shuffle], "age": 30,
                            "gender": "男", "ins": "居民", "hibpe": 0, "diabe": 0, "disab": 0,
                            "huimin": 0, "wage_month": 0})
    households.to_csv(tmp_path / "h.csv", index=False)
    persons.to_csv(tmp_path / "p.csv", index=False)
    chunk, group = int(rng.integers(1, 50)), int(rng.integers(1, 25))
    import_microdata(MAPPING, tmp_path / "h.csv", tmp_path / "p.csv", tmp_path / "pop",
                     chunk_rows=chunk, row_group=group)
    assert check_microdata(tmp_path / "pop") == []
    h = pq.read_table(tmp_path / "pop" / HOUSEHOLDS_FILE)
    p = pq.read_table(tmp_path / "pop" / PERSONS_FILE)
    assert h.column("hh_id").to_pylist() == hh_id.tolist()          # household file order
    assert h.column("size").to_pylist() == size.tolist()
    assert p.column("hh_id").to_pylist() == person_hh.tolist()      # grouped in that order
    # Within a household, persons keep their order in the file.
    got = p.column("person_id").to_numpy()
    position = np.empty(pid.size, np.int64)
    position[shuffle] = np.arange(pid.size)      # file row of each person id
    file_row = position[(got - 5) // 7]
    for a, b in zip(np.r_[0, np.cumsum(size)[:-1]], np.cumsum(size)):
        assert np.all(np.diff(file_row[a:b]) > 0)


def test_a_mapped_size_is_checked(tmp_path):
    text = MAPPING.read_text(encoding="utf-8").replace(
        "    # size is left out", "    size: {column: hhsize}\n    # size is left out")
    mapping = tmp_path / "sized.yaml"
    mapping.write_text(text, encoding="utf-8")
    result = import_microdata(mapping, HOUSEHOLDS, PERSONS, tmp_path / "pop")
    assert result.size == "checked"
    assert_example(tmp_path / "pop")
    bad = tmp_path / "h.csv"
    bad.write_text(HOUSEHOLDS.read_text(encoding="utf-8").replace(",1,2\n", ",1,3\n"),
                   encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_microdata(mapping, bad, PERSONS, tmp_path / "pop2")
    assert str(info.value) == (f"{bad}, column 'hhsize', row 1: the household's size is 3 but "
                               f"{PERSONS} holds 2 person(s) with its hh_id 1002 (leave size out "
                               "of the mapping to count it from the persons) (got 3)")
    assert not (tmp_path / "pop2").exists()


# --- refusals: file, column, row and value ------------------------------------------------

def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    out = tmp_path / source.name
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def _refusal(tmp_path, households=HOUSEHOLDS, persons=PERSONS, mapping=MAPPING) -> str:
    with pytest.raises(InputError) as info:
        import_microdata(mapping, households, persons, tmp_path / "pop")
    assert not (tmp_path / "pop").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pop.")]
    return str(info.value)


def test_a_value_with_no_mapping(tmp_path):
    persons = _edited(tmp_path, PERSONS, "100301,1003,8,男", "100301,1003,8,未知")
    assert _refusal(tmp_path, persons=persons) == (
        f"{persons}, column 'gender', row 3: '未知' has no entry in persons.columns.sex.map of "
        "the mapping; add it (`~:` maps missing values, or give `missing:`) (got '未知')")


def test_a_dta_label_with_no_mapping(tmp_path):
    hh, pp = _dta(tmp_path)
    mapping = _edited(tmp_path, MAPPING, "退休: uebmi_retired, ", "")
    assert _refusal(tmp_path, hh, pp, mapping) == (
        f"{pp}, column 'ins', row 6: '退休' has no entry in persons.columns.scheme.map of the "
        "mapping; add it (`~:` maps missing values, or give `missing:`) (got '退休')")


def test_a_missing_source_column(tmp_path):
    mapping = _edited(tmp_path, MAPPING, "{column: inc_month,", "{column: income_month,")
    message = _refusal(tmp_path, mapping=mapping)
    assert message == (f"{HOUSEHOLDS}: column 'income_month' not found "
                       f"(households.columns.income of the mapping {mapping} reads it); the file "
                       "has: hhid, area, inc_month, cons_month, food_month, hhwt, prov, dibao, "
                       "hhsize")


def test_a_missing_column_of_a_dta_file(tmp_path):
    hh, pp = _dta(tmp_path)
    mapping = _edited(tmp_path, MAPPING, "{column: diabe,", "{column: diabetes,")
    assert _refusal(tmp_path, hh, pp, mapping).startswith(
        f"{pp}: column 'diabetes' not found (persons.columns.chronic.flags.diabetes of the "
        f"mapping {mapping} reads it); the file has: pid, hhid, age, gender, ins, hibpe, ")


def test_a_person_whose_household_is_missing(tmp_path):
    persons = _edited(tmp_path, PERSONS, "100202,1002,", "100202,1009,")
    assert _refusal(tmp_path, persons=persons) == (
        f"{persons}, column 'hhid', row 4: the person's household is not in {HOUSEHOLDS} (no "
        "household has this hh_id) (got 1009)")


def test_a_household_without_persons(tmp_path):
    households = _edited(tmp_path, HOUSEHOLDS, "1003,城镇,8000,5000,1500,1000,330000,0,2\n",
                         "1003,城镇,8000,5000,1500,1000,330000,0,2\n"
                         "1004,城镇,8000,5000,1500,1000,330000,0,1\n")
    assert _refusal(tmp_path, households=households) == (
        f"{households}, column 'hhid', row 3: the household has no persons in {PERSONS} (every "
        "household needs at least one) (got 1004)")


def test_a_missing_value(tmp_path):
    persons = _edited(tmp_path, PERSONS, "100202,1002,65,", "100202,1002,,")
    assert _refusal(tmp_path, persons=persons) == (
        f"{persons}, column 'age', row 4: missing value: persons.age needs one in every row "
        "(give `missing:` to read missing cells as a value) (got '')")


def test_text_where_a_number_belongs(tmp_path):
    households = _edited(tmp_path, HOUSEHOLDS, "1002,农村,2000,", "1002,农村,2千,")
    assert _refusal(tmp_path, households=households) == (
        f"{households}, column 'inc_month', row 1: not a number; households.income needs a "
        "number (got '2千')")


def test_a_csv_in_another_encoding_needs_the_mapping_to_say_so(tmp_path):
    persons = tmp_path / "gbk.csv"
    persons.write_bytes(PERSONS.read_text(encoding="utf-8").encode("gbk"))
    message = _refusal(tmp_path, persons=persons)
    assert message.startswith(f"{persons}: not utf-8 text near row 0 (invalid ") and \
        message.endswith("set 'persons.encoding' in the mapping (gbk for many Chinese files)")
    mapping = _edited(tmp_path, MAPPING, "persons:\n", "persons:\n  encoding: gbk\n")
    import_microdata(mapping, HOUSEHOLDS, persons, tmp_path / "pop")
    assert_example(tmp_path / "pop")


def test_a_number_out_of_range_names_the_source_value(tmp_path):
    persons = _edited(tmp_path, PERSONS, "100103,1001,70,", "100103,1001,170,")
    assert _refusal(tmp_path, persons=persons) == (
        f"{persons}, column 'age', row 6: persons.age must lie in [0, 120] (got '170')")
    households = _edited(tmp_path, HOUSEHOLDS, "1003,城镇,8000,", "1003,城镇,-8000,")
    assert _refusal(tmp_path, households=households) == (
        f"{households}, column 'inc_month', row 2: households.income must be a finite number "
        ">= 0 (after scale 12: -96000) (got '-8000')")


def test_duplicate_ids(tmp_path):
    households = _edited(tmp_path, HOUSEHOLDS, "1003,城镇", "1001,城镇")
    assert _refusal(tmp_path, households=households) == (
        f"{households}, column 'hhid', row 2: duplicate household id (also in row 0) (got 1001)")
    persons = _edited(tmp_path, PERSONS, "100103,1001", "100101,1001")
    assert _refusal(tmp_path, persons=persons) == (
        f"{persons}, column 'pid', row 6: duplicate person id (also in row 2) (got 100101)")


def test_a_weight_too_heavy_for_exact_sums(tmp_path):
    households = _edited(tmp_path, HOUSEHOLDS, ",800,330000", ",1e9,330000")
    # 1e9 x 24000 = 2.4e13 >= 2**53 / 1024 = 8.796e12
    assert _refusal(tmp_path, households=households) == (
        f"{households}, column 'inc_month', row 1: weight x income is 2.4e+13 yuan; it must "
        "stay below 8.796e+12 (the range in which results are summed exactly): check the "
        "weight and the amount (got 24000.0)")


MAPPING_CASES = [
    ("no rule for a column", "    food: {column: food_month, scale: 12, note: \"monthly food "
     "spending x 12\"}\n", "",
     "key 'households.columns': no rule for ['food']: every column of the schema needs a "
     "source column or a cited constant"),
    ("a constant without source", "    region: {column: prov}", "    region: {value: 0}",
     "key 'households.columns.region.source': a constant's source (a document, or "
     "'assumption' with a note) must be non-empty text (got None)"),
    ("an unknown code name", "{0: general, 1: dibao}", "{0: general, 1: poor}",
     "key 'households.columns.status.map.1': a mapped value must be one of ['general', "
     "'tekun', 'dibao', 'dibian', 'monitored'] (got 'poor')"),
    ("scale on a non-amount", "age: {column: age}", "age: {column: age, scale: 2}",
     "key 'persons.columns.age.scale': 'scale' applies to amounts and weights only (weight, "
     "income, consumption, food, wage)"),
    ("a yes key read as a boolean", "{column: huimin, map: {0: false, 1: true}}",
     "{column: huimin, map: {no: false, yes: true}}",
     "key 'persons.columns.supplementary.map.False': a YAML key read as true/false (yes, no, "
     "on, off are booleans in YAML): quote it, as in 'yes': ..."),
    ("a missing flag", "        rare_disease:\n          value: false\n          source: "
     "assumption\n          note: \"the extract does not ask about rare diseases; nobody is "
     "flagged\"\n", "",
     "key 'persons.columns.chronic.flags': every flag needs a rule; missing ['rare_disease'] "
     "(a survey without the question gives {value: false, source: ..., note: ...})"),
    ("an unknown schema column", "    age: {column: age}", "    age: {column: age}\n"
     "    education: {column: edu}",
     "key 'persons.columns': not a column of the schema: ['education']; persons has "
     "['person_id', 'hh_id', 'age', 'sex', 'scheme', 'chronic', 'disabled', 'supplementary', "
     "'wage']"),
]


@pytest.mark.parametrize("name,old,new,message", MAPPING_CASES, ids=[c[0] for c in MAPPING_CASES])
def test_mapping_errors_name_the_key(tmp_path, name, old, new, message):
    mapping = _edited(tmp_path, MAPPING, old, new)
    assert _refusal(tmp_path, mapping=mapping) == f"{mapping}, {message}"


# --- the output folder --------------------------------------------------------------------

def test_an_existing_folder_is_replaced_only_with_force_and_only_if_it_is_microdata(tmp_path):
    out = tmp_path / "pop"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="exists and is not empty; use --force"):
        import_microdata(MAPPING, HOUSEHOLDS, PERSONS, out)
    with pytest.raises(InputError, match=re.escape("this folder also holds ['notes.txt'], so "
                                                   "it is left alone")):
        import_microdata(MAPPING, HOUSEHOLDS, PERSONS, out, force=True)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    (out / "notes.txt").unlink()
    import_microdata(MAPPING, HOUSEHOLDS, PERSONS, out)          # an empty folder is filled
    assert_example(out)
    persons = _edited(tmp_path, PERSONS, "100101,1001,36,", "100101,1001,37,")
    import_microdata(MAPPING, HOUSEHOLDS, persons, out, force=True)
    assert pq.read_table(out / PERSONS_FILE).column("age").to_pylist()[1] == 37
    assert sorted(p.name for p in tmp_path.iterdir()) == ["persons.csv", "pop"]


def test_a_failed_import_keeps_the_old_folder(tmp_path):
    out = tmp_path / "pop"
    import_microdata(MAPPING, HOUSEHOLDS, PERSONS, out)
    persons = _edited(tmp_path, PERSONS, "100202,1002,", "100202,1009,")
    with pytest.raises(InputError, match="household is not in"):
        import_microdata(MAPPING, HOUSEHOLDS, persons, out, force=True)
    assert_example(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["persons.csv", "pop"]


def test_the_cli_imports_and_refuses(tmp_path):
    args = ["population", "import", str(MAPPING), "--households", str(HOUSEHOLDS),
            "--persons", str(PERSONS), "--out", str(tmp_path / "pop")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 households, 7 persons (sizes counted from the persons)" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "output folder exists and is not empty; use --force to replace it" in again.output


# --- an experiment on the imported folder ----------------------------------------------------

def test_an_experiment_runs_on_the_imported_folder(tmp_path):
    out = tmp_path / "pop"
    import_microdata(MAPPING, HOUSEHOLDS, PERSONS, out)
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("replicates: 5", "replicates: 1")
    text = text.replace("  households: 100000\n", f"  microdata: {out}\n")
    text = text.replace(f"output: {ROOT}/results/quickstart", f"output: {tmp_path}/results")
    path = tmp_path / "imported.yaml"
    path.write_text(text, encoding="utf-8")
    ds = microsim.run(path, write=False)
    everyone = dict(residence="all", quintile="all", status="all")
    # Persons: 1200.5 x 3 + 800 x 2 + 1000 x 2 = 7201.5; households 1200.5 + 800 + 1000.
    assert ds["population"].sel(**everyone).values.ravel().tolist() == [7201.5, 7201.5]
    assert ds["households"].sel(**everyone).values.ravel().tolist() == [3000.5, 3000.5]
    # Income per person: (1200.5 x 60000 + 800 x 24000 + 1000 x 96000) / 7201.5
    #   = 187,230,000 / 7201.5 = 25,998.75
    assert float(ds["income_per_person"].sel(**everyone)[0, 0]) == pytest.approx(
        187_230_000 / 7201.5, rel=1e-9)
    # Insured, in percent: everyone but person 100302 (household weight 1000),
    # 100 x 6201.5 / 7201.5 = 86.114
    assert float(ds["insured_share"].sel(**everyone)[0, 0]) == pytest.approx(
        100 * 6201.5 / 7201.5, rel=1e-9)
