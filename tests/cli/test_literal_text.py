"""Text that users wrote is printed literally: console markup in names, labels, folder names
and paths ("[bold]", "[/x]", "dir [v2]") neither crashes the command line nor vanishes, in
errors, messages and tables alike."""

from __future__ import annotations

from typer.testing import CliRunner

from microsim.cli import app
from tests.engine.test_run import experiment

LABEL = "[/x]低保 [bold]line"


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_path_with_markup_is_named_literally_in_an_error(tmp_path):
    missing = tmp_path / "[/x] exp [bold].yaml"
    result = CliRunner().invoke(app, ["validate", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"{missing}: experiment not found" in flat(result.output)
    assert "internal error" not in result.output


def test_markup_in_a_label_and_an_output_folder_is_shown_in_messages_and_tables(tmp_path):
    exp = experiment(tmp_path, 2_000, households=2_000, replicates=1, output="dir [v2]")
    text = exp.read_text(encoding="utf-8").replace(
        "  - name: dibao\n", f"  - name: dibao\n    label: \"{LABEL}\"\n")
    exp.write_text(text, encoding="utf-8")
    ok = CliRunner().invoke(app, ["validate", str(exp)])
    assert ok.exit_code == 0, ok.output
    assert f"output {tmp_path / 'dir [v2]'}" in flat(ok.output)
    run = CliRunner().invoke(app, ["run", str(exp), "--quiet", "--no-report"])
    assert run.exit_code == 0, run.output
    assert f"Pushed below the {LABEL}" in flat(run.output)          # the table's caption
    assert f"results: {tmp_path / 'dir [v2]' / 'results.nc'}" in flat(run.output)
    again = CliRunner().invoke(app, ["run", str(exp), "--quiet", "--no-report"])
    assert again.exit_code == 3
    assert f"{tmp_path / 'dir [v2]' / 'results.nc'} already exists" in flat(again.output)
