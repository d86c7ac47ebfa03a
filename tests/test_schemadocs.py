"""The reference tables of the docs, made from the schema: up to date, every field described,
and a block's table worked out by hand from the models."""

from __future__ import annotations

from pathlib import Path

import pytest

from microsim import schemadocs, schemas
from microsim.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def test_the_generated_tables_of_the_docs_are_up_to_date():
    files = schemadocs.docs_with_blocks(ROOT / "docs")
    assert ROOT / "docs" / "policy.md" in files
    stale = schemadocs.stale(files)
    assert stale == [], (f"the generated tables of {', '.join(map(str, stale))} are out of date "
                         "with the models' descriptions; refresh them with: microsim schema docs")


@pytest.mark.parametrize("name", list(schemas.KINDS))
def test_every_key_of_every_kind_of_file_has_a_description(name):
    root, defs = schemas.model_schema(name)
    models = {**defs, "(the file)": root}
    bare = [f"{model}.{key}" for model, d in models.items()
            for key, node in d.get("properties", {}).items() if not node.get("description")]
    assert bare == [], ("write what each of these keys means, units stated, as a string right "
                        f"below its field in the model: {bare}")


def test_a_block_table_lists_each_key_with_its_type_default_and_meaning():
    # TwoDiseaseCaps: two required caps and an optional combined one, each a Cap
    # (a number >= 0 or `none`), described in microsim/policy/schema.py
    assert schemadocs.table("policy.basic.urrbmi.two_disease.caps").splitlines()[1:] == [
        "| key | type | default | meaning |",
        "|---|---|---|---|",
        "| `hypertension` | number ≥ 0 or `none` | required | The year's payout cap for "
        "hypertension drugs, yuan (`none`: no cap). |",
        "| `diabetes` | number ≥ 0 or `none` | required | The year's payout cap for diabetes "
        "drugs, yuan (`none`: no cap). |",
        "| `combined` | number ≥ 0 or `none` | absent | A cap on the sum for a person with both "
        "diseases, yuan; absent: each disease keeps its own cap only. |",
    ]


def test_a_table_goes_into_lists_and_named_entries_and_stops_at_a_depth():
    rows = schemadocs.table("policy.critical_illness.residents").splitlines()
    keys = [r.split(" | ")[0].lstrip("| ") for r in rows[3:]]
    assert "`bands[].from`" in keys and "`tilt.<name>.rate_bonus`" in keys
    top = schemadocs.table("policy", depth=1).splitlines()[3:]
    # PolicyFile's eleven keys, none below them
    assert [r.split(" | ")[0].lstrip("| ") for r in top] == [
        "`name`", "`name_zh`", "`year`", "`region`", "`description`", "`basic`",
        "`critical_illness`", "`medical_assistance`", "`supplementary`", "`financing`",
        "`funds`"]


def test_refreshing_replaces_only_the_body_of_a_block():
    text = ("Prose before.\n\n<!-- generated: policy.funds.opening_balance_per_insured -->\n"
            "| stale | table |\n<!-- end -->\n\nProse after.\n")
    fresh = schemadocs.refresh(text)
    assert fresh.startswith("Prose before.\n\n<!-- generated: "
                            "policy.funds.opening_balance_per_insured -->\n<!-- made by")
    assert fresh.endswith("<!-- end -->\n\nProse after.\n")
    assert "| stale | table |" not in fresh
    assert "| `uebmi` | number ≥ 0 | absent |" in fresh
    assert schemadocs.refresh(fresh) == fresh


def test_a_marker_in_a_code_example_is_left_alone_and_paths_reach_entries_and_items():
    example = "```markdown\n<!-- generated: policy.basic.urrbmi -->\n...\n<!-- end -->\n```\n"
    assert schemadocs.refresh(example) == example
    assert not schemadocs.has_blocks(example)
    text = ("<!-- generated: policy.medical_assistance.groups.* -->\n<!-- end -->\n"
            "<!-- generated: policy.critical_illness.residents.bands.[] -->\n<!-- end -->\n")
    keys = [r.split(" | ")[0].lstrip("| ") for r in schemadocs.refresh(text).splitlines()
            if r.startswith("| `")]
    # AssistanceGroup's four keys, then CiiBand's two (written `from`, not `from_amount`)
    assert keys == ["`deductible`", "`rate`", "`annual_cap`", "`outpatient_cap`", "`from`",
                    "`rate`"]


@pytest.mark.parametrize("marker, message", [
    ("policy.basic.nope", "no key 'nope' in the path 'basic.nope'"),
    ("policy.year", "'year' is not a mapping of keys"),
    ("recipe.basic", "generated block 'recipe.basic': no kind 'recipe'"),
])
def test_a_marker_that_names_no_mapping_is_refused_naming_it(marker, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        schemadocs.refresh(f"<!-- generated: {marker} -->\n<!-- end -->\n")
