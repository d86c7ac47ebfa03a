"""Experiment validation: every bad input is refused with file, key and value, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from microsim.cli import app
from microsim.errors import InputError
from microsim.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "populations" / "china_2023.yaml"
POLICY = ROOT / "policies" / "china" / "national_2023.yaml"
REFORM = ROOT / "policies" / "reforms" / "raise_resident_inpatient_rates.yaml"


def experiment_text(households="1000", extra="", reforms=f"[{REFORM}]", spec=SPEC, output="out"):
    return (f"name: t\npopulation: {{spec: {spec}, households: {households}}}\nyear: 2023\n"
            f"scenarios:\n  - {{name: baseline, policy: {POLICY}}}\n"
            f"  - {{name: reform, policy: {POLICY}, reforms: {reforms}}}\n"
            f"replicates: 1\nseed: 1\noutput: {output}\n{extra}")


def write(tmp_path, text, name="exp.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_good_experiment_loads_with_paths_resolved_relative_to_it(tmp_path):
    exp = load_experiment(write(tmp_path, experiment_text()))
    assert exp.output == (tmp_path / "out").resolve()
    assert [s.name for s in exp.scenarios] == ["baseline", "reform"]
    assert exp.scenarios[1].policy.data.basic.urrbmi.inpatient.rate.secondary == 0.87633
    assert exp.scenarios[0].policy.data.basic.urrbmi.inpatient.rate.secondary == 0.82633


@pytest.mark.parametrize("text, expected", [
    (experiment_text(extra="colour: blue\n"), r"exp\.yaml: key 'colour': unknown key"),
    (experiment_text(households="-5"), r"exp\.yaml: key 'population\.households': Input should be greater than 0 \(got -5\)"),
    (experiment_text(spec="missing.yaml"), r"exp\.yaml, key 'population\.spec': population spec not found"),
    (experiment_text(reforms="[nowhere.yaml]"), r"exp\.yaml, key 'scenarios\.1\.reforms\.0': reform overlay not found"),
])
def test_bad_experiments_name_file_and_key(tmp_path, text, expected):
    with pytest.raises(InputError, match=expected):
        load_experiment(write(tmp_path, text))


def test_a_rate_above_one_in_an_overlay_names_the_overlay_and_key(tmp_path):
    overlay = write(tmp_path, "name: too generous\nchanges:\n  basic:\n    urrbmi:\n      inpatient:\n"
                              "        rate:\n          primary: 1.2\n", "overlay.yaml")
    with pytest.raises(InputError, match=r"overlay\.yaml: key 'basic\.urrbmi\.inpatient\.rate\.primary': "
                                         r"Input should be less than or equal to 1 \(got 1\.2\)"):
        load_experiment(write(tmp_path, experiment_text(reforms=f"[{overlay}]")))


def test_an_overlay_cannot_change_a_key_the_policy_lacks(tmp_path):
    overlay = write(tmp_path, "name: typo\nchanges:\n  basic:\n    urrbmi:\n      inpatient:\n"
                              "        rates: {primary: 0.9}\n", "overlay.yaml")
    with pytest.raises(InputError, match=r"overlay\.yaml, key 'changes\.basic\.urrbmi\.inpatient\.rates\.primary': "
                                         r"the policy has no key"):
        load_experiment(write(tmp_path, experiment_text(reforms=f"[{overlay}]")))


@pytest.mark.parametrize("text, names", [
    (experiment_text(extra="colour: blue\n", output="results_here"), ("exp.yaml", "colour")),
    (experiment_text(households="-5", output="results_here"), ("exp.yaml", "population.households")),
    (experiment_text(spec="missing.yaml", output="results_here"), ("exp.yaml", "population.spec")),
    (experiment_text(reforms="[overlay.yaml]", output="results_here"),
     ("overlay.yaml", "basic.urrbmi.inpatient.rate.primary")),
])
def test_cli_refuses_bad_experiments_with_exit_code_and_no_results_folder(tmp_path, text, names):
    write(tmp_path, "name: too generous\nchanges:\n  basic:\n    urrbmi:\n      inpatient:\n"
                    "        rate:\n          primary: 1.2\n", "overlay.yaml")
    path = write(tmp_path, text)
    result = CliRunner().invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 2
    assert all(n in result.output for n in names) and "Traceback" not in result.output
    assert not (tmp_path / "results_here").exists()


def test_validate_reports_what_would_run(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(write(tmp_path, experiment_text()))])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "1,000 households" in result.output
    assert not (tmp_path / "out").exists()


def focus(extra: str) -> str:
    return f"report:\n  focus:\n    - {{title: t, indicators: [che10], {extra}}}\n"


@pytest.mark.parametrize("extra, expected", [
    (focus("by: status, groups: [tekun, poor]"),
     r"key 'report\.focus\.0': unknown status group 'poor' \(groups: general, tekun, dibao, "
     r"dibian, monitored, all\)"),
    (focus("by: status, select: {status: tekun}"),
     r"key 'report\.focus\.0': 'select\.status' cannot fix the dimension the table is by"),
    (focus("by: quintile, gap: true"),
     r"key 'report\.focus\.0': 'gap: true' needs 'by: residence'"),
    (focus("by: status, show: effects, scenarios: [baseline]"),
     r"report\.focus\.0 \('t'\) shows effects against the baseline 'baseline'"),
    (focus("by: status, scenarios: [nowhere]"),
     r"report\.focus\.0 \('t'\) names unknown scenarios \['nowhere'\]"),
    ("groups: [residence]\n" + focus("by: status"),
     r"report\.focus\.0 \('t'\) is by status, but the experiment's groups leave status out"),
    ("targets:\n  - {indicator: che10, document: d, target: 1, select: {quintile: Q6}}\n",
     r"key 'targets\.0\.select\.quintile': unknown quintile group 'Q6'"),
    ("poverty_lines:\n  - {name: dibao, yuan: 9000, label_zh: 低保线, colour: red}\n",
     r"key 'poverty_lines\.0\.colour': unknown key"),
])
def test_bad_report_sections_name_file_and_key(tmp_path, extra, expected):
    with pytest.raises(InputError, match=r"exp\.yaml.*" + expected):
        load_experiment(write(tmp_path, experiment_text(extra=extra)))


def test_an_unknown_indicator_in_a_focus_table_is_refused_before_the_run(tmp_path):
    path = write(tmp_path, experiment_text(extra=focus("by: status").replace(
        "[che10]", "[che10, comprehensive_coverag]")))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "exp.yaml, key 'report.focus.0.indicators.1': no such indicator" in result.output
    assert "did you mean comprehensive_coverage" in result.output
    assert "(got 'comprehensive_coverag')" in result.output


def test_poverty_line_labels_name_the_line_in_indicator_names(tmp_path):
    import microsim
    from microsim.engine.run import build_context
    lines = ("poverty_lines:\n  - {name: dibao, yuan: 9000, label: dibao (minimum living guarantee) "
             "line, label_zh: 低保线}\n  - {name: usd215, usd_per_day: 2.15, ppp_factor: 4.6}\n")
    exp = microsim.load_experiment(write(tmp_path, experiment_text(extra=lines)))
    assert exp.poverty_line_labels() == {"dibao": ("dibao (minimum living guarantee) line", "低保线"),
                                         "usd215": ("usd215 line", "贫困线2")}   # no label_zh: its position
    _, catalogue = build_context(exp)
    assert catalogue.get("impoverished_dibao").long_name_zh == "因病致贫发生率（低保线，收入）"
    assert catalogue.get("impoverished_consumption_usd215").long_name_zh == "因病致贫发生率（贫困线2，消费支出）"
    assert catalogue.get("further_impoverished_dibao").long_name == (
        "Further impoverished by out-of-pocket spending, dibao (minimum living guarantee) line (income)")


def test_the_population_dibao_line_is_labelled_in_chinese_by_default(tmp_path):
    exp = load_experiment(write(tmp_path, experiment_text()))
    assert exp.poverty_line_labels() == {"dibao": ("dibao (minimum living guarantee) line", "低保线")}
