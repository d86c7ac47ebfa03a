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


# --- hostile YAML: refused at once, in bounded time and memory -------------------------------

def alias_bomb(levels: int = 9, fan: int = 10) -> str:
    """Anchors nested in anchors: `fan ** levels` values once expanded (1e9 by default)."""
    lines = [f"a0: &a0 [{', '.join(['x'] * fan)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def merge_bomb(levels: int = 40) -> str:
    """Merge keys (`<<`) of merges: each level merges the one below twice."""
    lines = ["m0: &m0 {k0: 1}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, levels)]
    return "\n".join(lines) + "\nname: x\n"


@pytest.mark.parametrize("text", [alias_bomb(), merge_bomb()], ids=["nested anchors", "merges"])
def test_an_alias_bomb_is_refused_at_once_in_bounded_memory(tmp_path, text):
    import time
    import tracemalloc
    p = write(tmp_path, "bomb.yaml", text)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"bomb\.yaml: YAML aliases \(\*name\) expand this file to "
                                         r"more than 200,000 values"):
        load_tree(p)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2.0 and peak < 50e6, (seconds, peak)


def test_aliases_that_expand_a_little_are_still_read(tmp_path):
    p = write(tmp_path, "ok.yaml", alias_bomb(levels=3, fan=10))   # 1,000 values
    assert len(load_tree(p).values["name"]) == 10


@pytest.mark.parametrize("text, message", [
    ("a:\n  ? [x, y]\n  : 1\n", r"line 2, column 5: a key must be text, not a list or mapping"),
    ("a:\n  ? {x: 1}\n  : 1\n", r"a key must be text, not a list or mapping"),
    ("a:\n  yes: 1\n", r"key 'a': keys must be text or integers \(got True\)"),
    ("a:\n  null: 1\n", r"key 'a': keys must be text or integers \(got None\)"),
    ('label: "a\\0b"\n', r"key 'label': a NUL character \(\\0\) is not allowed in a value"),
    ('a: {"k\\0": 1}\n', r"key 'a\.k\\0': a NUL character \(\\0\) is not allowed in a key"),
    ("a: [1, 'x\\0']\n", r"not valid YAML"),     # a raw escape in single quotes is two characters
])
def test_complex_keys_non_text_keys_and_nul_characters_are_refused(tmp_path, text, message):
    p = write(tmp_path, "f.yaml", text)
    if message == r"not valid YAML":
        p.write_bytes(b"a: [1, 'x\x00']\n")                      # a raw NUL byte in the file
    with pytest.raises(InputError, match=r"f\.yaml.*" + message):
        load_tree(p)
