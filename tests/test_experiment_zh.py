"""The Chinese texts of the shipped experiments: every experiment says what it asks in
Chinese, every scenario and poverty line has a Chinese label, every target and focus-table
note a Chinese note, and none of them holds a Latin word outside backticks and file names,
so the Chinese report needs no English. The runs behind the calibrations
(experiments/calibration/) are held to the same rule, and so are the populations' region
names, which the Chinese report puts before the population."""

from __future__ import annotations

from pathlib import Path

import pytest

from microsim.experiment import ExperimentFile
from microsim.population.spec import load_population_spec
from microsim.schema import validate_tree
from microsim.yamltree import load_tree
from tests.latin import latin_words

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))
CALIBRATION_RUNS = sorted((ROOT / "experiments" / "calibration").glob("*.yaml"))
POPULATIONS = sorted((ROOT / "populations").glob("*.yaml"))


def chinese_texts(exp: ExperimentFile) -> list[tuple[str, str | None]]:
    """(key, Chinese text) of every text the Chinese report takes from an experiment; None
    where a Chinese text is missing beside an English one (or, for the question, where the
    experiment says in Chinese neither what it asks nor what it simulates)."""
    out: list[tuple[str, str | None]] = []
    question = exp.report.question_zh or exp.description_zh
    out.append(("description_zh or report.question_zh", question or None))
    if exp.description_zh:
        out.append(("description_zh", exp.description_zh))
    if exp.report.question:
        out.append(("report.question_zh", exp.report.question_zh or None))
    if exp.report.title:
        out.append(("report.title_zh", exp.report.title_zh))
    for s in exp.scenarios:
        out.append((f"scenarios.{s.name}.label_zh", s.label_zh))
    for line in exp.poverty_lines or []:
        out.append((f"poverty_lines.{line.name}.label_zh", line.label_zh))
    for i, t in enumerate(exp.targets):
        where = f"targets.{i} ({t.indicator})"
        if t.note:
            out.append((f"{where}.note_zh", t.note_zh or None))
        if t.label:
            out.append((f"{where}.label_zh", t.label_zh))
        if t.calibrated:
            out.append((f"{where}.calibrated_zh", t.calibrated_zh))
    for i, f in enumerate(exp.report.focus):
        out.append((f"report.focus.{i}.title_zh", f.title_zh))
        if f.note:
            out.append((f"report.focus.{i}.note_zh", f.note_zh or None))
    return out


def problems(path: Path) -> list[str]:
    exp = validate_tree(ExperimentFile, load_tree(path, "experiment"), "experiment")
    found = []
    for key, text in chinese_texts(exp):
        if not text or not text.strip():
            found.append(f"{key} is missing")
        elif latin_words(text):
            found.append(f"{key} holds Latin words {latin_words(text)}")
    return found


@pytest.mark.parametrize("path", SHIPPED + CALIBRATION_RUNS, ids=lambda p: p.stem)
def test_every_shipped_experiment_speaks_chinese_without_latin_words(path):
    found = problems(path)
    assert not found, f"{path.relative_to(ROOT)}: " + "; ".join(found)


def test_the_shipped_experiments_are_all_there():
    # seven experiments and eight calibration runs; a new one is checked as soon as it is added
    assert len(SHIPPED) == 7 and len(CALIBRATION_RUNS) == 8


def test_a_missing_or_latin_chinese_text_is_found(tmp_path):
    text = (ROOT / "experiments" / "weihai_2021.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/")
    assert "    label_zh: 威海2021年政策\n" in text and "      note_zh: 最后两列" in text
    bad = tmp_path / "exp.yaml"
    bad.write_text(text.replace("    label_zh: 威海2021年政策\n", "")
                   .replace("      note_zh: 最后两列", "      note_zh: gap最后两列"), encoding="utf-8")
    assert problems(bad) == ["scenarios.after_2021.label_zh is missing",
                             "report.focus.2.note_zh holds Latin words ['gap']"]


def test_the_quickstart_lines_name_themselves_in_chinese_in_indicator_names():
    import microsim
    exp = microsim.load_experiment(ROOT / "experiments" / "quickstart.yaml")
    labels = {name: zh for name, (_, zh) in exp.poverty_line_labels().items()}
    assert labels == {"dibao": "低保线", "national_rural": "国家农村贫困线（2011年标准）",
                      "usd215": "每人每天2.15美元国际贫困线", "usd365": "每人每天3.65美元国际贫困线"}


@pytest.mark.parametrize("path", POPULATIONS, ids=lambda p: p.stem)
def test_every_population_names_its_region_in_chinese(path):
    region = load_population_spec(path).data.region
    assert region.name_zh.strip(), f"{path.name}: region.name_zh is missing"
    assert latin_words(region.name_zh) == []
