"""Population specs: every region loads, inherits what it does not override, and bad specs
are refused with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from microsim.errors import InputError
from microsim.population.spec import load_population_spec, parse_ages

ROOT = Path(__file__).resolve().parents[2]
POP = ROOT / "populations"
REGIONS = ("zhejiang_lishui_2020", "zhejiang_jiaxing_2021", "shandong_weihai_2021",
           "xinjiang_2016", "jiangsu_2022")


def test_the_shipped_specs_are_the_national_one_and_five_regions():
    assert sorted(p.stem for p in POP.glob("*.yaml")) == sorted(("china_2023",) + REGIONS)


@pytest.mark.parametrize("name", REGIONS)
def test_regions_inherit_health_and_income_shapes_but_not_targets(name):
    national = load_population_spec(POP / "china_2023.yaml")
    spec = load_population_spec(POP / f"{name}.yaml")
    # Health use is national but for the region-year's level factors (docs/health.md), which
    # every region sets: its year's prices and use differ from national 2023. The Zhejiang
    # cities also set their employees' admission factors (calibration/jiaxing_2021.yaml,
    # lishui_2020.yaml: their employees' fund against Shaoxing's published balance).
    own_level = spec.data.health.level
    same = {"level": national.data.health.level}
    if name in ("zhejiang_jiaxing_2021", "zhejiang_lishui_2020"):
        factors = spec.data.health.inpatient.scheme_factor
        assert factors.uebmi_employed > national.data.health.inpatient.scheme_factor.uebmi_employed
        same["inpatient"] = spec.data.health.inpatient.model_copy(
            update={"scheme_factor": national.data.health.inpatient.scheme_factor})
    assert spec.data.health.model_copy(update=same) == national.data.health
    assert national.data.health.level.inpatient_cost == 1.0
    assert own_level.inpatient_cost != 1.0 and own_level.outpatient_cost != 1.0
    assert own_level.admissions < 1.0 and own_level.visits < 1.0   # all years before 2023
    assert spec.data.income.urban.shape_a == national.data.income.urban.shape_a
    assert spec.data.income.urban.mean != national.data.income.urban.mean
    # Lists replace wholesale: a region's targets are its own, not the national quintiles.
    assert not any(t.statistic == "income_quintile_mean" for t in spec.data.targets)
    # Every target's value carries a source.
    for i, _ in enumerate(spec.data.targets):
        assert spec.tree.sources[("targets", str(i), "target")].source


def test_every_number_in_the_shipped_specs_carries_a_source():
    # Numbers written bare (without {value, source}) would have no entry in the sources map.
    # The year and the region's administrative code are labels, not parameters.
    labels = {("year",), ("region", "code")}
    for path in POP.glob("*.yaml"):
        spec = load_population_spec(path)
        own = [k for k, origin in spec.tree.origins.items() if origin == str(path) and k not in labels]
        for key in own:
            value = spec.tree.values
            try:
                for part in key:
                    value = value[int(part)] if isinstance(value, list) else value[part]
            except (KeyError, IndexError, ValueError, TypeError):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cited = any(key[:n] in spec.tree.sources for n in range(len(key), 0, -1))
                assert cited, f"{path.name}: {'.'.join(key)} = {value} has no source"


def test_lishui_cites_its_age_structure_from_the_plan():
    spec = load_population_spec(POP / "zhejiang_lishui_2020.yaml")
    targets = {t.name: t for t in spec.data.targets}
    assert targets["aged_60_plus"].target == 0.2124 and targets["aged_65_plus"].target == 0.1537
    assert spec.tree.sources[("age", "urban")].source == "003_aa574bb9555c6b84.txt"


def test_weihai_cites_its_supplementary_uptake_from_the_report():
    spec = load_population_spec(POP / "shandong_weihai_2021.yaml")
    # 威你保: one in seven insured persons, 1/7 = 0.1429.
    assert spec.data.insurance.supplementary_uptake.urban == pytest.approx(1 / 7, abs=1e-4)
    assert spec.tree.sources[("insurance", "supplementary_uptake", "urban")].source == \
        "001_bc36a64e61cd82cf.txt"


def test_ages_parse():
    assert parse_ages("60+") == (60, 999)
    assert parse_ages("15-59") == (15, 60)
    with pytest.raises(ValueError, match="ages are written"):
        parse_ages("sixty")


def _write(tmp_path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


NATIONAL = (POP / "china_2023.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("old,new,pattern", [
    ("statistic: urban_share", "statistic: urban_fraction",
     r"key 'targets\.1\.statistic': Input should be 'households'"),
    ("    ages: 60+\n", "    ages: sixty\n",
     r"key 'targets\.3': ages are written '60\+' or '15-59'"),
    ("  - name: income_mean\n", "  - name: male_share\n",
     r"key 'targets': target names must be unique; repeated: \['male_share'\]"),
    ("value: [[0.45, 0.55, 0.0], [0.20, 0.80, 0.0], [0.10, 0.80, 0.10], [0.0, 0.65, 0.35], [0.0, 0.80, 0.20]]",
     "value: [[0.45, 0.55, 0.0], [0.20, 0.80, 0.0], [0.10, 0.80, 0.10], [0.0, 0.65, 0.35]]",
     r"key 'composition\.member_types\.urban': needs one row \(parent, child, grandchild\) per "
     r"head-age group \(5\), got 4"),
    ("      income_from: {value: 1.0, source: assumption, note: \"低边 (低保边缘) households sit above the 低保 line.\"}",
     "      income_from: {value: 1.6, source: assumption, note: \"wrong\"}",
     r"key 'poverty\.rules\.2': income_below must exceed income_from"),
    ("shape_a:\n      value: 1.9201", "shape_a:\n      value: 0.3",
     r"key 'income\.urban': the mean is infinite unless shape_a \* shape_q > 1"),
])
def test_bad_specs_name_the_file_and_key(tmp_path, old, new, pattern):
    assert old in NATIONAL, old
    path = _write(tmp_path, NATIONAL.replace(old, new, 1))
    with pytest.raises(InputError, match=r"bad\.yaml[:,] " + pattern):
        load_population_spec(path)


def test_a_region_with_a_bad_override_names_the_region_file(tmp_path):
    text = (POP / "zhejiang_lishui_2020.yaml").read_text(encoding="utf-8").replace(
        "inherits: china_2023.yaml", f"inherits: {POP / 'china_2023.yaml'}").replace(
        "[0.040, 0.105, 0.100, 0.160, 0.150, 0.170, 0.090, 0.055, 0.050, 0.037, 0.023, 0.020]",
        "[0.040, 0.105, 0.100, 0.160, 0.150, 0.170, 0.090, 0.055, 0.050, 0.037, 0.023]")
    path = _write(tmp_path, text, "lishui_bad.yaml")
    with pytest.raises(InputError, match=r"lishui_bad\.yaml, key 'age\.urban': needs one value per "
                                         r"age band \(12\), got 11"):
        load_population_spec(path)
