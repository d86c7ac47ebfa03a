"""Where a run writes: an experiment file writes only inside its own project (elsewhere needs
--output on the command line), and validate refuses every output the run would refuse."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.engine import run as run_module
from microsim.errors import InputError
from tests.engine.test_run import experiment


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("output", ["../../elsewhere", "/tmp/elsewhere-of-microsim-tests"])
def test_an_experiment_file_cannot_write_outside_its_project(tmp_path, output):
    project = tmp_path / "project"
    (project / "experiments").mkdir(parents=True)
    exp = experiment(project / "experiments", 10_000, households=20_000, replicates=1,
                     output=output)
    message = (r"key 'output': the output .* is outside the experiment's project "
               rf"{project}: an experiment file writes only below the folder that holds its own "
               r"folder; to write elsewhere, give the folder on the command line")
    with pytest.raises(InputError, match=message):
        microsim.run(exp)
    with pytest.raises(InputError, match=message):
        microsim.validate(exp)
    result = CliRunner().invoke(app, ["run", str(exp), "--quiet"])
    assert result.exit_code == 2 and "--output DIR" in flat(result.output)
    assert not (project / "elsewhere").exists() and not (tmp_path / "elsewhere").exists()


def test_output_on_the_command_line_writes_anywhere(tmp_path):
    project = tmp_path / "project"
    (project / "experiments").mkdir(parents=True)
    exp = experiment(project / "experiments", 10_000, households=20_000, replicates=1,
                     output="../../elsewhere")
    target = tmp_path / "chosen [v2]"
    ok = CliRunner().invoke(app, ["validate", str(exp), "--output", str(target)])
    assert ok.exit_code == 0 and f"output {target}" in flat(ok.output)
    result = CliRunner().invoke(app, ["run", str(exp), "--quiet", "--no-report",
                                      "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert f"results: {target / 'results.nc'}" in flat(result.output)
    assert (target / "results.nc").is_file() and not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("case", ["a file", "under a file", "unwritable", "zarr missing"])
def test_validate_refuses_an_output_the_run_would_refuse(tmp_path, monkeypatch, case):
    output = {"a file": "taken", "under a file": "taken/out"}.get(case, "out")
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    exp = experiment(tmp_path, 10_000, households=20_000, replicates=1, output=output)
    if case == "zarr missing":
        exp.write_text(exp.read_text(encoding="utf-8") + "format: zarr\n", encoding="utf-8")
        monkeypatch.setitem(sys.modules, "zarr", None)      # as if the package were not there
    if case == "unwritable":
        monkeypatch.setattr(run_module, "writable", lambda _folder: False)
    expected = {
        "a file": f"the output {tmp_path / 'taken'} is a file, not a folder",
        "under a file": f"the output {tmp_path / 'taken' / 'out'} cannot be a folder: "
                        f"{tmp_path / 'taken'} is a file",
        "unwritable": f"cannot write in {tmp_path}: Permission denied",
        "zarr missing": "writing Zarr needs the 'zarr' package: pip install 'microsim[zarr]'",
    }[case]
    result = CliRunner().invoke(app, ["validate", str(exp)])
    assert result.exit_code == 2, result.output
    assert f"key 'output': {expected}" in flat(result.output)
    run = CliRunner().invoke(app, ["run", str(exp), "--quiet"])
    assert run.exit_code == 3 and expected in flat(run.output)
