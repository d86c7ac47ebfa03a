"""Household composition: member ages follow the head's, and head ages reproduce the age structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microsim.errors import InputError
from microsim.population.composition import (CHILD, GRANDCHILD, PARENT, SPOUSE, composition,
                                             expected_members, member_age_range)
from microsim.population.spec import load_population_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "populations").glob("*.yaml"))


def test_member_age_ranges_by_hand():
    # Head 40, spouse gap [-5, 3], generation gap [20, 36], heads 18+, ages to 100.
    args = (-5, 3, 20, 36, 18, 100)
    assert member_age_range(SPOUSE, 40, *args) == (35, 43)
    assert member_age_range(PARENT, 40, *args) == (60, 76)
    assert member_age_range(CHILD, 40, *args) == (4, 20)
    assert member_age_range(GRANDCHILD, 40, *args) == (0, 0)      # 40 - 72 and 40 - 40, cut at 0
    # Ranges are cut at the edges: a 25-year-old head's children are 0-5, a 90-year-old's
    # parents are 100, a 19-year-old's spouse is 18-22.
    assert member_age_range(CHILD, 25, *args) == (0, 5)
    assert member_age_range(PARENT, 90, *args) == (100, 100)
    assert member_age_range(SPOUSE, 19, *args) == (18, 22)


def test_expected_members_by_hand():
    spec = load_population_spec(ROOT / "populations" / "china_2023.yaml")
    # Urban, 3 members, P(spouse) = 0.88; the third member of a head aged 40 (group 30-44) is a
    # parent with 0.20 and a child with 0.80; others = 3 - 1 - 0.88 = 1.12 expected members.
    m = expected_members(spec, 0, 3, 0.88)
    row = m[40 - 18]
    assert row.sum() == pytest.approx(3.0)
    assert row[40] == pytest.approx(1.0 + 0.88 / 9)          # the head, and a spouse aged 40
    assert row[36] == pytest.approx(0.88 / 9)                # spouse 35-43: 9 ages
    assert row[10] == pytest.approx(1.12 * 0.80 / 17)        # child 4-20: 17 ages
    assert row[70] == pytest.approx(1.12 * 0.20 / 17)        # parent 60-76: 17 ages


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_solved_head_ages_reproduce_every_age_band(path):
    spec = load_population_spec(path)
    comp = composition(spec)
    for r, name in enumerate(("urban", "rural")):
        want = np.asarray(getattr(spec.data.age, name))
        assert np.abs(comp.age_shares[r] - want).max() < 2e-4
        # Head-age distributions are distributions over ages head_min_age..max_age.
        assert np.all(np.diff(comp.head_age_cdf[r], axis=1) >= -1e-12)
        assert np.allclose(comp.head_age_cdf[r][:, -1], 1.0)
    # The male share of heads and others is set so that persons have the spec's male share.
    assert 0.4 < comp.male_head.min() <= comp.male_head.max() < 0.6


def test_an_age_structure_the_composition_cannot_give_is_refused(tmp_path):
    src = (ROOT / "populations" / "china_2023.yaml").read_text(encoding="utf-8")
    # Half of all urban persons under 5 cannot come from children of 20-36-year gaps when most
    # households have one or two members.
    text = src.replace("value: [0.045, 0.115, 0.110, 0.165, 0.160, 0.150, 0.075, 0.050, 0.048, 0.035, 0.024, 0.023]",
                       "value: [0.500, 0.050, 0.050, 0.050, 0.050, 0.050, 0.050, 0.050, 0.050, 0.050, 0.025, 0.025]")
    bad = tmp_path / "babies.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"babies\.yaml, key 'composition': the household "
                                         r"composition cannot reproduce the urban age structure"):
        composition(load_population_spec(bad))
