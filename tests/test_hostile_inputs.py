"""Hostile YAML and experiment inputs found by the fuzzers, each refused with the file and key.

Self-referencing YAML aliases, nesting without end, paths with a NUL byte, an inherited file
that is not a mapping, and schedulers that cannot run (no workers, no such address)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.errors import InputError, RunError
from microsim.experiment import load_experiment, scheduler_problem
from microsim.yamltree import load_tree

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


LOOP = r"a YAML alias \(\*name\) refers to a mapping or list that contains it"


@pytest.mark.parametrize("text, message", [
    ("a: &x [*x]\n", rf"key 'a\.0': {LOOP}"),
    ("a: {b: &x [1, *x]}\n", rf"key 'a\.b\.1': {LOOP}"),
    ("a: &x {b: *x}\n", r"not valid YAML: line 1, column 4: found unconstructable recursive node"),
])
def test_an_alias_inside_itself_is_refused_with_its_key(tmp_path, text, message):
    path = write(tmp_path / "loop.yaml", text)
    with pytest.raises(InputError, match=rf"loop\.yaml(, |: ){message}"):
        load_tree(path)


def test_nesting_deeper_than_64_levels_is_refused(tmp_path):
    path = write(tmp_path / "deep.yaml", "a: " + "[" * 70 + "]" * 70 + "\n")
    with pytest.raises(InputError, match=r"deep\.yaml, key 'a(\.0){64}': nested more than 64 "
                                         r"levels deep"):
        load_tree(path)
    # 60 levels are fine (the deepest shipped file has fewer than 10).
    load_tree(write(tmp_path / "ok.yaml", "a: " + "[" * 60 + "]" * 60 + "\n"))


def test_a_shared_alias_that_is_not_a_loop_is_accepted(tmp_path):
    tree = load_tree(write(tmp_path / "shared.yaml", "a: &x [1, 2]\nb: *x\nc: [*x, *x]\n"))
    assert tree.values["c"] == [[1, 2], [1, 2]]


def test_an_inherited_file_that_is_not_a_mapping_names_the_file_that_inherits_it(tmp_path):
    write(tmp_path / "list.yaml", "- 1\n- 2\n")
    child = write(tmp_path / "child.yaml", "inherits: list.yaml\nname: x\n")
    with pytest.raises(InputError, match=r"list\.yaml: a policy must be a YAML mapping at the top "
                                         r"level \(got 'list'\) \(inherited by .*child\.yaml, "
                                         r"key 'inherits'\)"):
        load_tree(child, "policy")


def test_a_nul_byte_in_a_path_is_refused_with_the_key(tmp_path):
    write(tmp_path / "child.yaml", 'inherits: "a\\0b.yaml"\n')
    with pytest.raises(InputError, match=r"child\.yaml, key 'inherits': a NUL character "
                                         r"\(\\0\) is not allowed in a value"):
        load_tree(tmp_path / "child.yaml")
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace(
        f"policy: {ROOT}/policies/china/national_2023.yaml\n  - name: resident",
        'policy: "x\\0.yaml"\n  - name: resident')
    exp = write(tmp_path / "exp.yaml", text)
    with pytest.raises(InputError, match=r"exp\.yaml, key 'scenarios\.0\.policy': a NUL "
                                         r"character \(\\0\) is not allowed in a value"):
        load_experiment(exp)


@pytest.mark.parametrize("value, problem", [
    ("threads", None), ("synchronous", None), ("processes", None), ("local-cluster:2", None),
    ("tcp://10.0.0.1:8786", None), ("scheduler.example.org:8786", None),
    ("local-cluster:0", "a local cluster needs between 1 and 1024 workers"),
    ("local-cluster:x", "the scheduler is one of threads"),
    ("bogus", "the scheduler is one of threads"),
])
def test_schedulers_are_checked(value, problem):
    found = scheduler_problem(value)
    assert (found is None) if problem is None else found.startswith(problem)


def test_an_experiment_asking_for_a_cluster_without_workers_is_refused_before_it_runs(tmp_path):
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/") + "compute: local-cluster:0\n"
    exp = write(tmp_path / "exp.yaml", text)
    with pytest.raises(InputError, match=r"exp\.yaml: key 'compute': a local cluster needs "
                                         r"between 1 and 1024 workers \(local-cluster:N\) "
                                         r"\(got 'local-cluster:0'\)"):
        load_experiment(exp)


def test_a_scheduler_option_without_workers_is_refused_before_anything_runs(tmp_path):
    # Before this check, local-cluster:0 started a cluster with no workers and waited forever.
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace(f"output: {ROOT}/results/quickstart",
                                                   f"output: {tmp_path / 'out'}")
    exp = write(tmp_path / "exp.yaml", text)
    with pytest.raises(RunError, match=r"scheduler 'local-cluster:0': a local cluster needs"):
        microsim.run(exp, scheduler="local-cluster:0")
    result = CliRunner().invoke(app, ["run", str(exp), "--scheduler", "local-cluster:0"])
    assert result.exit_code == 3 and "a local cluster needs between 1 and 1024" in result.output
    assert not (tmp_path / "out").exists()


def test_an_unknown_report_language_is_refused_before_the_run(tmp_path):
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace(f"output: {ROOT}/results/quickstart",
                                                   f"output: {tmp_path / 'out'}")
    exp = write(tmp_path / "exp.yaml", text)
    result = CliRunner().invoke(app, ["run", str(exp), "--lang", "fr"])
    assert result.exit_code == 2 and "--lang must be one of zh, en (got 'fr')" in result.output
    assert not (tmp_path / "out").exists()      # refused before anything ran


@pytest.mark.parametrize("option", ["--seed", "--replicate"])
def test_seed_and_replicate_options_outside_their_range_are_usage_errors(option):
    spec = str(ROOT / "populations" / "china_2023.yaml")
    result = CliRunner().invoke(app, ["health", "describe", spec, "--households", "20", option,
                                      str(2**64)])
    assert result.exit_code == 2 and "Invalid value for" in result.output
    assert "internal error" not in result.output


def test_microdata_that_is_a_file_names_the_experiment_key(tmp_path):
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    text = text.replace("../", f"{ROOT}/").replace("  households: 100000\n",
                                                   f"  microdata: {ROOT / 'README.md'}\n")
    exp = write(tmp_path / "exp.yaml", text)
    with pytest.raises(InputError, match=r"README\.md: microdata folder is a file, not a folder "
                                         r"\(referenced by "
                                         r".*exp\.yaml, key 'population\.microdata'\)"):
        load_experiment(exp)
