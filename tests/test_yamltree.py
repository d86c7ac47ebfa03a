"""Cited leaves, inheritance, overlays and YAML errors."""

from __future__ import annotations

import pytest

from microsim.errors import InputError
from microsim.yamltree import load_tree, read_yaml


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_sourced_leaves_become_values_with_sources(tmp_path):
    p = write(tmp_path, "a.yaml", "x:\n  rate: {value: 0.5, source: doc.txt, note: why}\n  cap: 10\n")
    tree = load_tree(p)
    assert tree.values == {"x": {"rate": 0.5, "cap": 10}}
    assert tree.sources[("x", "rate")].source == "doc.txt"
    assert tree.sources[("x", "rate")].note == "why"
    assert ("x", "cap") not in tree.sources


def test_inherits_overrides_and_remembers_which_file_set_a_key(tmp_path):
    write(tmp_path, "base.yaml", "a: {b: 1, c: 2}\nd: 3\n")
    child = write(tmp_path, "child.yaml", "inherits: base.yaml\na: {c: {value: 20, source: s}}\n")
    tree = load_tree(child)
    assert tree.values == {"a": {"b": 1, "c": 20}, "d": 3}
    assert tree.file_of(("a", "c")).endswith("child.yaml")
    assert tree.file_of(("a", "b")).endswith("base.yaml")


def test_inheritance_cycle_is_refused(tmp_path):
    write(tmp_path, "a.yaml", "inherits: b.yaml\n")
    write(tmp_path, "b.yaml", "inherits: a.yaml\n")
    with pytest.raises(InputError, match="cycle"):
        load_tree(tmp_path / "a.yaml")


def test_duplicate_keys_are_refused_but_merge_keys_work(tmp_path):
    with pytest.raises(InputError, match="duplicate key 'a'"):
        read_yaml(write(tmp_path, "d.yaml", "a: 1\na: 2\n"))
    data = read_yaml(write(tmp_path, "m.yaml", "x: &x {a: 1, b: 2}\ny:\n  <<: *x\n  b: 3\n"))
    assert data["y"] == {"a": 1, "b": 3}


def test_yaml_errors_name_file_and_line(tmp_path):
    with pytest.raises(InputError, match=r"bad\.yaml: not valid YAML: line 2"):
        read_yaml(write(tmp_path, "bad.yaml", "a: 1\nb: c: d\n"))
    with pytest.raises(InputError, match="must be a YAML mapping"):
        read_yaml(write(tmp_path, "list.yaml", "- 1\n- 2\n"))
    with pytest.raises(InputError, match="not found"):
        read_yaml(tmp_path / "missing.yaml")


def test_a_value_without_a_source_is_refused(tmp_path):
    with pytest.raises(InputError, match="must also say 'source:'"):
        load_tree(write(tmp_path, "s.yaml", "a: {value: 1, note: x}\n"))
