"""Special files and link loops: a FIFO, a device or a folder where a file is expected is
refused at once without being opened (a read from a FIFO would block for ever), a loop of
symbolic links is refused naming the key that gave it, and a long `inherits` chain gives one
short message with its length and first file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microsim.cli import app
from microsim.errors import InputError
from microsim.experiment import load_experiment
from microsim.yamltree import MAX_INHERITS, load_tree
from tests.test_experiment import POLICY, experiment_text, write


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def loop(folder: Path, name: str) -> Path:
    (folder / f"{name}.a").symlink_to(folder / f"{name}.b")
    (folder / f"{name}.b").symlink_to(folder / f"{name}.a")
    return folder / f"{name}.a"


@pytest.mark.parametrize("command, make, message", [
    (["validate"], lambda d: fifo(d / "exp.yaml"), "experiment is a FIFO (named pipe), not a "
                                                  "regular file; nothing was read"),
    (["validate"], lambda d: Path("/dev/zero"), "experiment is a device, not a regular file"),
    (["validate"], lambda d: d, "experiment is a folder, not a regular file"),
    (["summary"], lambda d: fifo(d / "results.nc"), "results file is a FIFO (named pipe)"),
    (["report"], lambda d: Path("/dev/urandom"), "results file is a device"),
    (["policy", "show"], lambda d: fifo(d / "p.yaml"), "policy is a FIFO (named pipe)"),
    (["population", "check"], lambda d: loop(d, "md"), "microdata folder is a loop of symbolic "
                                                       "links"),
])
def test_special_files_are_refused_at_once_without_being_read(tmp_path, command, make, message):
    path = make(tmp_path)
    start = time.perf_counter()
    result = CliRunner().invoke(app, command + [str(path)])
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2, result.output
    assert f"{path}: {message}" in " ".join(result.output.split())


@pytest.mark.parametrize("name", ["households.parquet", "persons.parquet"])
def test_a_fifo_in_a_microdata_folder_is_refused_without_being_read(tmp_path, name):
    folder = tmp_path / "md"
    folder.mkdir()
    for other in ("households.parquet", "persons.parquet"):
        if other != name:
            (folder / other).write_bytes(b"PAR1")
    fifo(folder / name)
    result = CliRunner().invoke(app, ["population", "check", str(folder)])
    assert result.exit_code == 2
    assert f"{folder / name}: microdata file is a FIFO (named pipe)" in " ".join(result.output.split())


@pytest.mark.parametrize("key", ["population.spec", "scenarios.0.policy", "scenarios.1.reforms.0",
                                 "population.microdata"])
def test_a_loop_of_links_is_refused_naming_the_key(tmp_path, key):
    target = loop(tmp_path, "x")
    text = experiment_text()
    if key == "population.spec":
        text = experiment_text(spec=target)
    elif key == "scenarios.0.policy":
        text = text.replace(f"{{name: baseline, policy: {POLICY}}}",
                            f"{{name: baseline, policy: {target}}}")
    elif key == "scenarios.1.reforms.0":
        text = experiment_text(reforms=f"[{target}]")
    else:
        text = text.replace("households: 1000", f"microdata: {target}")
    exp = write(tmp_path, text)
    with pytest.raises(InputError, match=rf"exp\.yaml, key '{key}': .*not a usable path \(a loop "
                                         r"of symbolic links\)"):
        load_experiment(exp)


def test_an_inherits_loop_of_links_is_refused_naming_the_key(tmp_path):
    target = loop(tmp_path, "p")
    child = write(tmp_path, f"inherits: {target}\nname: c\n", "child.yaml")
    with pytest.raises(InputError, match=r"child\.yaml, key 'inherits': 'inherits' is not a usable "
                                         r"path \(a loop of symbolic links\)"):
        load_tree(child)


def test_a_long_inherits_chain_gives_one_short_message_with_its_length_and_first_file(tmp_path):
    n = 500
    for i in range(n):
        write(tmp_path, f"inherits: f{i + 1}.yaml\nk{i}: {i}\n" if i < n - 1 else "k: 1\n",
              f"f{i}.yaml")
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        load_tree(tmp_path / "f0.yaml")
    assert time.perf_counter() - start < 2
    text = str(caught.value)
    assert text == (f"{tmp_path / 'f0.yaml'}, key 'inherits': the 'inherits' chain that starts "
                    f"here holds 500 files, more than the {MAX_INHERITS} allowed; inherit from "
                    "fewer files")
    assert len(text) < 400, text
