"""The Chinese notes of the shipped policy files: every cited value with a note has a note_zh,
the Chinese is Chinese (no Latin words outside code spans and file names), and a value fitted
by a calibration carries the note_zh that a re-run of that calibration writes back."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from microsim.calibrate.targets import ParameterSpec
from microsim.calibrate.writeback import note_zh_of
from microsim.yamltree import read_yaml

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted((ROOT / "policies").rglob("*.yaml"))

CODE = re.compile(r"`[^`]*`")
FILE = re.compile(r"[A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_.\-]+)+"           # a path: a/b, ../c.yaml
                  r"|[A-Za-z0-9_\-]+\.(?:txt|md|yaml|yml|csv|json|py|parquet)(?![A-Za-z0-9_])")
FITTED = re.compile(r"^Fitted by `microsim calibrate (\S+)` \((.*?), within \[[^\]]*\]\)\. "
                    r"(.*)$", re.S)


def latin_left(text: str) -> list[str]:
    """The Latin letters of `text` outside `code spans` and file names or paths."""
    return re.findall(r"[A-Za-z]+", FILE.sub(" ", CODE.sub(" ", text)))


def cited_notes(node, path=()):
    """(key path, mapping) of every cited value with a note: {value|add|scale, source, note}."""
    if isinstance(node, dict):
        if "source" in node and "note" in node:
            yield path, node
        for key, value in node.items():
            yield from cited_notes(value, path + (str(key),))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from cited_notes(value, path + (str(i),))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT / "policies"))


def test_latin_left_keeps_words_and_single_letters_but_not_code_or_file_names():
    # Code spans, paths and file names go; an English word and the single letter of "B类" stay.
    assert latin_left("见 `microsim calibrate calibration/x.yaml` 和 003_aa.txt的目标、"
                      "reference/calibration-inputs.md") == []
    assert latin_left("职工医保（UEBMI）按B类") == ["UEBMI", "B"]
    assert latin_left("13712.65e8 / 36243e4") == ["e", "e"]


@pytest.mark.parametrize("policy", POLICIES, ids=_name)
def test_every_cited_note_has_a_chinese_note_in_chinese(policy):
    missing, latin = [], []
    for path, node in cited_notes(read_yaml(policy)):
        zh = node.get("note_zh")
        if not isinstance(zh, str) or not zh.strip():
            missing.append(".".join(path))
        elif latin_left(zh):
            latin.append(f"{'.'.join(path)}: {latin_left(zh)}")
    assert missing == [], f"{_name(policy)}: cited values with a note but no note_zh"
    assert latin == [], f"{_name(policy)}: Latin words in note_zh"


def _parameters(calibration: str) -> list[ParameterSpec]:
    return [ParameterSpec.model_validate(p)
            for p in read_yaml(ROOT / calibration).get("parameters", [])]


@pytest.mark.parametrize("policy", POLICIES, ids=_name)
def test_a_fitted_value_has_the_note_zh_its_calibration_writes_back(policy):
    fitted = 0
    for path, node in cited_notes(read_yaml(policy)):
        if not str(node["source"]).startswith("calibration "):
            continue
        match = FITTED.match(node["note"].strip())
        assert match, f"{_name(policy)}: {'.'.join(path)}: a fitted value's note has the form " \
                      "'Fitted by `microsim calibrate FILE` (HOW, within [LO, HI]). WHY'"
        file, _, why = match.groups()
        specs = [p for p in _parameters(file) if " ".join(p.note.split()) == " ".join(why.split())]
        assert len(specs) == 1, f"{_name(policy)}: {'.'.join(path)}: no single parameter of " \
                                f"{file} has the note of this value"
        spec = specs[0]
        param = SimpleNamespace(mode=spec.mode, lower=spec.bounds[0], upper=spec.bounds[1])
        fit = SimpleNamespace(targets=SimpleNamespace(relative_path=file))
        start = {"scale": 1.0, "shift": 0.0}.get(spec.mode, spec.start)
        assert spec.note_zh, f"{file}: parameter {spec.name} has no note_zh"
        assert node["note_zh"] == note_zh_of(fit, param, start, spec.note_zh), ".".join(path)
        fitted += 1
    # The national baseline holds most fitted values: 3 deductibles, 3 + 3 rates, 2 out-of-area
    # terms, 2 outpatient caps, the employees' 门诊慢特病 cap, the residents' 门诊慢特病 and
    # special-drug caps, the critical-illness share, 4 assistance deductibles and 4 caps, 3
    # contribution shares, the retiree credit and the family share.
    if policy.name == "national_2023.yaml":
        assert fitted >= 20


def test_every_calibration_parameter_has_a_chinese_note_in_chinese():
    for calibration in sorted((ROOT / "calibration").glob("*.yaml")):
        for spec in _parameters(str(calibration.relative_to(ROOT))):
            assert spec.note_zh.strip(), f"{calibration.name}: {spec.name} has no note_zh"
            assert latin_left(spec.note_zh) == [], f"{calibration.name}: {spec.name}"
