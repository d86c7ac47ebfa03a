"""The indicator catalogue: every indicator is documented, and a bad entry is refused with
the file and the key."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from microsim.errors import InputError
from microsim.metrics.indicators import CATALOGUE_PATH, load_catalogue
from tests.metrics.worked import WORKED

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "indicators.md"


def test_every_indicator_is_in_docs_indicators_md():
    documented = set(re.findall(r"`([a-z0-9_{}]+)`", DOCS.read_text(encoding="utf-8")))
    missing = []
    for ind in load_catalogue(("someline",)).indicators:
        name = ind.name.replace("someline", "{line}")
        if name not in documented and ind.template not in documented:
            missing.append(name)
    assert not missing, f"not documented in docs/indicators.md: {missing}"


def test_the_catalogue_passes_the_strict_loader():
    # The run reads the catalogue with libyaml for speed; the strict loader (duplicate keys
    # refused, sources checked) must accept it too and give the same values.
    from microsim.metrics.indicators import _read_catalogue
    from microsim.yamltree import load_tree
    assert load_tree(CATALOGUE_PATH).values == _read_catalogue(CATALOGUE_PATH).values


def test_names_expand_for_lines_layers_and_funds():
    names = load_catalogue(("dibao", "usd215")).names()
    assert {"impoverished_dibao", "impoverished_consumption_usd215", "cost_share_out_of_pocket",
            "reserve_months_urrbmi", "payout_critical_illness_uebmi"} <= set(names)
    assert len(names) == len(set(names))


def bad_catalogue(tmp_path: Path, old: str, new: str) -> Path:
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalogue.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_malformed_term_is_refused_with_file_and_key(tmp_path):
    path = bad_catalogue(tmp_path, "numerator: [hh:oop]\n", "numerator: [oop]\n")
    with pytest.raises(InputError, match=r"catalogue.yaml.*indicators.oop_per_person.*'oop'"):
        load_catalogue(("dibao",), path)


def test_an_unknown_placeholder_is_refused(tmp_path):
    path = bad_catalogue(tmp_path, "  payout_{layer}:", "  payout_{layre}:")
    with pytest.raises(InputError, match=r"unknown placeholder \{layre\}"):
        load_catalogue(("dibao",), path)


def test_a_rank_index_of_an_unranked_statistic_is_refused(tmp_path):
    from microsim.metrics.accumulate import Accumulators, income_bin_edges, new_accumulators
    from microsim.metrics.indicators import compute_all, make_layout
    path = bad_catalogue(tmp_path, "    variable: [hh:oop]\n    rank: consumption",
                         "    variable: [hh:food]\n    rank: consumption")
    cat = load_catalogue(("dibao",), path)
    layout = make_layout(cat, [("dibao", (1.0, 1.0))], income_bin_edges())
    acc: Accumulators = new_accumulators(layout)
    with pytest.raises(InputError, match=r"'food' is not accumulated by consumption"):
        compute_all(cat, layout, acc)


def test_account_payments_for_family_members_are_spent_by_the_employees_fund():
    # Accounts paid 100 for an employed member, 40 for a retiree, and (家庭共济) 30 for a
    # URRBMI child and 5 for an uninsured grandparent of the same households: the UEBMI fund
    # spends 100 + 40 + 30 + 5 = 175, the residents' fund none of it.
    import numpy as np
    from microsim import codes
    from microsim.metrics.indicators import employee_accounts
    account = np.zeros((2, len(codes.SCHEME)))
    account[0, [codes.UNINSURED, codes.UEBMI_EMPLOYED, codes.UEBMI_RETIRED, codes.URRBMI]] = \
        [5.0, 100.0, 40.0, 30.0]
    moved = employee_accounts(account)
    assert moved[0].tolist() == [0.0, 135.0, 40.0, 0.0]
    assert moved.sum() == account.sum()
    assert moved[1].sum() == 0.0


def _test_source(path: str, name: str) -> str | None:
    """The source of test function `name` in the test file `path` (None if it is not there)."""
    text = (ROOT / path).read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(text, node)
    return None


def test_every_catalogue_key_has_a_value_worked_by_hand():
    """Each indicator or template of the catalogue is claimed by a test in tests/metrics/
    worked.py, that test exists, and it names the indicator: the quoted name, or for a
    template its fixed part (`payout_` of `payout_{layer}`) or one of its expansions."""
    expansions: dict[str, set[str]] = {}
    for ind in load_catalogue(("line",)).indicators:
        expansions.setdefault(ind.template or ind.name, set()).add(ind.name)
    claimed: dict[str, tuple[str, str]] = {}
    for test, keys in WORKED.items():
        for key in keys:
            claimed.setdefault(key, test)
    unclaimed = sorted(set(expansions) - set(claimed))
    assert not unclaimed, f"catalogue keys without a worked check in tests/metrics/worked.py: " \
                          f"{unclaimed}"
    stale = sorted(set(claimed) - set(expansions))
    assert not stale, f"tests/metrics/worked.py names keys the catalogue lacks: {stale}"
    for (path, name), keys in WORKED.items():
        source = _test_source(path, name)
        assert source is not None, f"{path}::{name} (tests/metrics/worked.py) does not exist"
        for key in keys:
            names = {f'"{n}"' for n in expansions[key]}
            if "{" in key:
                names.add(f'f"{key.split("{")[0]}')
            assert any(n in source for n in names), f"{path}::{name} does not name {key}"
