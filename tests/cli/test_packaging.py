"""The package as a user installs it: a wheel that carries the shipped inputs and runs the
copied quickstart (made small) from the installed copy, `microsim examples`, `--version`, progress lines when stderr is not a terminal and after `--resume`,
and `microsim.report()`.

The wheel test builds the wheel with `pip wheel` into a temporary folder and installs it with
`--no-deps` into a fresh `python -m venv`; the new environment borrows this environment's
site-packages (numpy, xarray, ...) through a `.pth` line, which adds the folder to the path
without running its `.pth` files, so this checkout's editable install is not seen there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import xarray as xr
from typer.testing import CliRunner

import microsim
from microsim.cli import app
from microsim.engine.results import git_revision
from microsim.errors import Interrupted, InputError
from microsim.examples import SHIPPED, copy_examples
from tests.engine.test_run import experiment

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def shipped_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for name in SHIPPED for p in (root / name).rglob("*")
            if p.is_file() and "results" not in p.relative_to(root).parts
            and "__pycache__" not in p.parts}


# --- the wheel, in a fresh environment -----------------------------------------------------

@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the built wheel installed: its bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp / "dist"), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheels = list((tmp / "dist").glob("microsim-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    (Path(site.stdout.strip()) / "borrowed.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                              str(wheels[0])], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    return venv / "bin"


def in_venv(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(bin_dir / "microsim"), *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_the_installed_wheel_carries_the_shipped_inputs_and_runs_the_quickstart_checks(
        installed, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c", "import microsim; "
                            "print(microsim.__file__)"], capture_output=True, text=True,
                           cwd=tmp_path)
    # The package imported is the installed copy, not this checkout.
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout
    work = tmp_path / "work"
    copied = in_venv(installed, "examples", str(work), cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    # The same files, same relative layout, as the repository's folders (68 at the time of
    # writing: 67 YAML files and experiments/README.md).
    assert shipped_files(work) == shipped_files(ROOT)
    for sub in ("populations/indices/china.yaml", "populations/demography/china.yaml",
                "experiments/overlays/jiangsu_2021_financing.yaml",
                "experiments/calibration/national_2023.yaml", "calibration/national_2023.yaml"):
        assert (work / sub).read_bytes() == (ROOT / sub).read_bytes(), sub
    checked = in_venv(installed, "validate", str(work / "experiments" / "quickstart.yaml"),
                      cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    # It reads the copied files and would write below the working folder.
    assert checked.stdout.startswith("ok: quickstart: 100,000 households x 5 replicate(s)")
    assert f"output {work / 'results' / 'quickstart'}" in checked.stdout.replace("\n", "")
    # The copied quickstart runs from the installed package, made small: 2,000 households,
    # 2 replicates; results, both report files and the figures land in the working folder.
    quick = work / "experiments" / "quickstart.yaml"
    text = quick.read_text(encoding="utf-8")
    assert "households: 100000" in text and "replicates: 5" in text
    quick.write_text(text.replace("households: 100000", "households: 2000")
                     .replace("replicates: 5", "replicates: 2"), encoding="utf-8")
    ran = in_venv(installed, "run", str(quick), "--quiet", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = work / "results" / "quickstart"
    assert {"results.nc", "report.zh.md", "report.zh.html"} <= {p.name for p in out.iterdir()}
    assert "che10" in ran.stdout and "baseline" in ran.stdout
    ds = xr.load_dataset(out / "results.nc")
    assert ds.sizes["replicate"] == 2 and int(ds.attrs["households"]) == 2000
    again = in_venv(installed, "examples", str(work), cwd=tmp_path)
    assert again.returncode != 0 and "not empty" in again.stderr and "--force" in again.stderr
    # Outside a git checkout there is no revision to print: the version alone.
    version = in_venv(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"microsim {microsim.__version__}"


# --- examples and --version from this checkout ----------------------------------------------

def test_examples_refuses_a_non_empty_folder_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=rf"{tmp_path}: the examples folder is not empty; "
                                         r"nothing was copied .*--force"):
        copy_examples(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    quickstart = tmp_path / "experiments" / "quickstart.yaml"
    result = runner.invoke(app, ["examples", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert quickstart.read_bytes() == (ROOT / "experiments" / "quickstart.yaml").read_bytes()
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"   # others' files stay
    file = tmp_path / "a_file"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="the examples folder is a file, not a folder"):
        copy_examples(file, force=True)


def test_version_names_the_package_version_and_the_git_revision():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    revision = git_revision()
    expected = f"microsim {microsim.__version__}" + (
        f" (git {revision})" if revision != "unknown" else "")
    assert result.output.strip() == expected
    assert re.fullmatch(r"microsim \d+\.\d+\.\d+( \(git [0-9a-f]{40}\))?", expected)


# --- progress when stderr is not a terminal, and after --resume ------------------------------

def run_piped(*args: str) -> subprocess.CompletedProcess:
    """`microsim ...` with stdout and stderr to pipes (not a terminal), a line per chunk."""
    return subprocess.run([sys.executable, "-m", "microsim", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "MICROSIM_PROGRESS_SECONDS": "0"})


LINE = re.compile(r"(resuming at |starting: )?chunks (\d+)/(\d+) \((\d+)%\)(.*)")


def progress_lines(stderr: str) -> list[re.Match]:
    return [m for m in map(LINE.fullmatch, stderr.splitlines()) if m]


def test_a_piped_run_prints_progress_lines(tmp_path):
    exp = experiment(tmp_path, 4_000, households=24_000)     # 6 chunks x 2 replicates = 12
    result = run_piped("run", str(exp), "--no-report", "--scheduler", "synchronous")
    assert result.returncode == 0, result.stderr
    lines = progress_lines(result.stderr)
    # One line to start at 0, then one per chunk (the interval is 0 s): 0, 1, ..., 12.
    assert [int(m[2]) for m in lines] == list(range(13)), result.stderr
    assert lines[0][1] == "starting: " and all(int(m[3]) == 12 for m in lines)
    assert lines[3][4] == "25"                      # 3 of 12 chunks: 25%
    assert re.fullmatch(r", [\d,]+ persons/s, about .+ left", lines[3][5]), lines[3][0]
    assert re.fullmatch(r", [\d,]+ persons/s, done in \d+ s", lines[-1][5]), lines[-1][0]


def test_a_resumed_run_counts_from_the_saved_chunks(tmp_path):
    exp = experiment(tmp_path, 4_000, households=24_000)

    def stop(done: int, _persons: int) -> None:
        if done >= 5:
            raise KeyboardInterrupt
    with pytest.raises(Interrupted):
        microsim.run(exp, progress=stop, checkpoint_seconds=0.0, scheduler="synchronous")
    result = run_piped("run", str(exp), "--resume", "--no-report", "--scheduler", "synchronous")
    assert result.returncode == 0, result.stderr
    lines = progress_lines(result.stderr)
    # 5 chunks were saved: the lines start there and count the 7 computed now.
    assert [int(m[2]) for m in lines] == list(range(5, 13)), result.stderr
    assert lines[0][0] == "resuming at chunks 5/12 (42%)"   # 5/12 = 41.7%


def test_the_rate_and_time_left_count_only_chunks_computed_in_this_run(monkeypatch):
    from microsim.cli import common
    clock = [100.0]
    monkeypatch.setattr(common.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    shown, update = common.progress_bar(12, quiet=False)
    bar = shown.bar
    assert not bar.live.is_started           # no bar before the run says where it starts
    update.start(5)                 # a resumed run: 5 chunks restored from the checkpoint
    assert bar.live.is_started
    task = bar.tasks[0]
    assert task.completed == 5 and task.speed is None     # the restored chunks are no speed
    clock[0] = 104.0
    update(7, 8_000)               # 2 chunks and 8,000 persons in 4 s
    assert task.completed == 7 and task.fields["rate"] == "2,000 persons/s"   # 8,000 / 4
    with shown:
        pass
    assert not bar.live.is_started           # closed at the end of the run
    rate = common._Rate(12)
    clock[0] = 200.0
    rate.begin(5)
    clock[0] = 210.0
    rate.add(7, 8_000)
    # 2 new chunks in 10 s: 5 left take 25 s; the 5 restored ones are not in the rate.
    assert rate.seconds_left() == pytest.approx(25.0)
    assert common.progress_line(rate) == "chunks 7/12 (58%), 800 persons/s, about 25 s left"


def test_a_bad_progress_interval_is_refused_naming_the_variable(monkeypatch):
    from microsim.cli import common
    monkeypatch.setenv("MICROSIM_PROGRESS_SECONDS", "soon")
    with pytest.raises(InputError, match=r"key 'MICROSIM_PROGRESS_SECONDS': .* number of "
                                         r"seconds, 0 or more \(got 'soon'\)"):
        common.progress_seconds()


# --- microsim.report() ----------------------------------------------------------------------

def test_the_python_api_writes_the_report_as_the_command_does(tmp_path):
    import importlib
    exp = experiment(tmp_path, 12_000, households=12_000, replicates=2)
    microsim.run(exp, scheduler="synchronous", write=True)
    out = tmp_path / "out"
    written = microsim.report(out, lang="en", formats=["md"])
    assert [p.parent for p in written] == [out] and written[0].suffix == ".md"
    by_api = written[0].read_text(encoding="utf-8")
    written[0].unlink()
    result = runner.invoke(app, ["report", str(out), "--lang", "en", "--format", "md"])
    assert result.exit_code == 0, result.output
    assert f"wrote {written[0]}" in result.output
    assert written[0].read_text(encoding="utf-8") == by_api       # the same file, word for word
    with pytest.raises(InputError, match=r"--lang must be one of .* \(got 'fr'\)"):
        microsim.report(out, lang="fr")
    importlib.import_module("microsim.report.build")     # importing a submodule ...
    assert callable(microsim.report)                     # ... leaves the API callable
