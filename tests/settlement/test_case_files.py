"""Every calculator case file under tests/ that has an `expected:` section settles to it.

A case file is a YAML file in a folder named `cases` under tests/. Each one with
`expected:` is settled under the policy it names (with its reforms) and every value its
`expected:` names is compared with the computed one, rounded to the fen. The hand
arithmetic is in each file's comments. Every file in tests/settlement/cases/ must have
`expected:` and `policy:` (a file there without them would check nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from microsim.settlement.cases import case_policy, load_case, settle_case
from microsim.settlement.expected import check_expected

TESTS = Path(__file__).resolve().parents[1]
HERE = TESTS / "settlement" / "cases"


def _top_keys(path: Path) -> set:
    data = yaml.safe_load(path.read_text("utf-8"))
    return set(data) if isinstance(data, dict) else set()


CASE_FILES = sorted(p for p in TESTS.rglob("*.yaml") if "cases" in p.relative_to(TESTS).parts[:-1])
WITH_EXPECTED = [p for p in CASE_FILES if "expected" in _top_keys(p)]


def test_every_case_file_here_names_its_policy_and_what_it_expects():
    here = sorted(HERE.glob("*.yaml"))
    assert len(here) == 64          # the 62 settlements of the former test_cases.py + case 28
    lacking = [p.name for p in here if not {"policy", "expected"} <= _top_keys(p)]
    assert lacking == []
    assert set(here) <= set(WITH_EXPECTED)


@pytest.mark.parametrize("path", WITH_EXPECTED, ids=lambda p: str(p.relative_to(TESTS)))
def test_case_file_settles_as_expected(path):
    case = load_case(path)
    result = settle_case(case_policy(case, path), case)
    checks = check_expected(result, path)
    bad = [f"{c.what}: expected {c.expected}, computed {c.computed}" for c in checks if not c.ok]
    assert bad == [], f"{path.name} under {result.policy}:\n  " + "\n  ".join(bad)
