"""`microsim policy show|diff` and `microsim settle` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from microsim.cli import app

ROOT = Path(__file__).resolve().parents[2]
SIMPLE = ROOT / "tests" / "fixtures" / "policy_simple.yaml"
CASE = ROOT / "tests" / "fixtures" / "cases" / "dibao_two_admissions.yaml"
NATIONAL = ROOT / "policies" / "china" / "national_2023.yaml"
REFORM = ROOT / "policies" / "reforms" / "raise_resident_inpatient_rates.yaml"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def _lines_under(output: str, *keys: str) -> list[str]:
    """The printed lines of the block under the nested keys (e.g. basic, urrbmi, inpatient)."""
    lines, depth, out = output.splitlines(), 0, []
    for line in lines:
        indent = (len(line) - len(line.lstrip())) // 2
        if depth < len(keys):
            if indent == depth and line.strip() == f"{keys[depth]}:":
                depth += 1
            continue
        if indent < depth:
            break
        out.append(line.strip())
    return out


def test_policy_show_prints_the_resolved_tree_with_sources():
    result = invoke("policy", "show", NATIONAL)
    assert result.exit_code == 0, result.output
    rate = _lines_under(result.output, "basic", "urrbmi", "inpatient", "rate")
    assert rate[1].startswith("secondary: 0.82633 ")
    assert "# calibration national_2023 (calibration/national_2023.yaml): Fitted by" in rate[1]
    inpatient = _lines_under(result.output, "basic", "urrbmi", "inpatient")
    assert any(x.startswith("cap_on: payout ") and x.endswith("# schema default")
               for x in inpatient)


def test_policy_show_applies_reforms_and_names_the_file_of_each_value():
    result = invoke("policy", "show", NATIONAL, "--reform", REFORM)
    rate = _lines_under(result.output, "basic", "urrbmi", "inpatient", "rate")
    assert rate[1].startswith("secondary: 0.87633 ")
    assert rate[1].endswith("# assumption: The calibrated baseline's 82.633% plus 5 points. "
                            "[raise_resident_inpatient_rates.yaml]")
    deductible = _lines_under(result.output, "basic", "urrbmi", "inpatient", "deductible")
    assert deductible[0].endswith("[national_2023.yaml]")


def test_policy_diff_of_a_reform_lists_only_what_it_changes():
    result = invoke("policy", "diff", NATIONAL, REFORM)
    assert result.exit_code == 0, result.output
    rows = [x for x in result.output.splitlines() if "basic." in x]
    assert len(rows) == 3
    assert all("basic.urrbmi.inpatient.rate." in x for x in rows)
    assert "0.82633" in rows[1] and "0.87633" in rows[1]
    assert "3 value(s) differ" in result.output


def test_settle_prints_each_payer_per_bill_and_for_the_year():
    result = invoke("settle", SIMPLE, CASE)
    assert result.exit_code == 0, result.output
    year = next(x for x in result.output.splitlines() if "year" in x)
    # Worked by hand in tests/settlement/test_three_persons.py (person B): basic 5,250 +
    # 14,500 + 200; CII 8,612.50; assistance 1,925 + 4,821.25 + 140; OOP 825 + 4,066.25 + 60.
    for amount in ("40,400.00", "19,950.00", "8,612.50", "6,886.25", "4,951.25"):
        assert amount in year
    assert "assistance group: dibao" in result.output


def test_settle_json():
    result = invoke("settle", SIMPLE, CASE, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    parts = data["admissions"][1].pop("parts")
    assert data["admissions"][1] == {"bill": "admission 2 (tertiary)", "total": 32000.0,
                                     "basic": 14500.0, "critical_illness": 8612.5,
                                     "assistance": 4821.25, "supplementary": 0.0, "account": 0.0,
                                     "out_of_pocket": 4066.25}
    # All of the assistance is stage 1 (policy_simple has no second stage or cap), all of the
    # critical illness its main base; no supplementary insurance, so no liabilities.
    assert parts == {"critical_illness": {"main": 8612.5, "special_drugs": 0.0},
                     "assistance": {"stage_1": 4821.25, "stage_2": 0.0, "oop_cap": 0.0},
                     "supplementary": {}, "account": {"own": 0.0, "family": 0.0}}
    assert data["financing"]["assisted"] == 245.0      # 70% of the 350 contribution
    assert data["assistance_group"] == "dibao"


def test_a_bad_case_names_the_file_key_and_value(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scheme: urrbmi\nage: 30\nadmissions:\n  - {level: quaternary, policy_range: 1}\n",
                   encoding="utf-8")
    result = invoke("settle", SIMPLE, bad)
    assert result.exit_code == 2
    assert "bad.yaml: key 'admissions.0.level'" in result.output
    assert "'quaternary'" in result.output
    bad.write_text("scheme: urrbmi\nage: 30\noutpatient: {general_primary: -5}\n", encoding="utf-8")
    result = invoke("settle", SIMPLE, bad)
    assert result.exit_code == 2 and "key 'outpatient.general_primary" in result.output
    # A bill of 1e19 yuan is no bill: float64 spacing there is 2,048 yuan, so no layer could be
    # conserved to the cent. Amounts stop at a trillion yuan (microsim/schema.py MAX_MONEY).
    bad.write_text("scheme: urrbmi\nage: 30\nadmissions:\n  - {level: primary, policy_range: 1,"
                   " out_of_catalogue: 1.0e19}\n", encoding="utf-8")
    result = invoke("settle", SIMPLE, bad)
    assert result.exit_code == 2 and "key 'admissions.0.out_of_catalogue'" in result.output
    assert "less than or equal to 1000000000000" in result.output


def test_a_bad_policy_is_refused_by_show_with_its_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"inherits: {SIMPLE}\nbasic: {{urrbmi: {{inpatient: {{rate: {{primary: 2}}}}}}}}\n",
                   encoding="utf-8")
    result = invoke("policy", "show", bad)
    assert result.exit_code == 2
    assert "bad.yaml: key 'basic.urrbmi.inpatient.rate.primary'" in result.output


def test_settle_national_employee_gets_large_expense_cover_above_the_basic_cap():
    case = ROOT / "tests" / "fixtures" / "cases" / "employee_tertiary_200000.yaml"
    result = invoke("settle", NATIONAL, case, "--json")
    assert result.exit_code == 0, result.output
    year = json.loads(result.output)["year"]
    # Basic 89.998% x (cost - 160.23) capped at 100,000 (reached at 111,273.81; rates and
    # deductibles from calibration/national_2023.yaml); large-expense cover 85% x
    # (200,000 - 111,273.81) = 75,417.26; the account pays its year's credit 2% x 60,000 =
    # 1,200 and its opening balance 3,784; the rest, 200,000 - 100,000 - 75,417.26 - 4,984 =
    # 19,598.74, is out of pocket.
    assert (year["basic"], year["critical_illness"], year["account"], year["out_of_pocket"]) == \
        (100000.0, 75417.26, 4984.0, 19598.74)


CASES = ROOT / "tests" / "settlement" / "cases"


def test_settle_json_reports_every_stage_and_liability():
    # tests/settlement/cases/18_..._p1.yaml: stage 1 80% x 31,000 = 24,800 capped at 10,000;
    # the out-of-pocket cap pays 23,000 more (in-catalogue self-pay 26,000 above 3,000).
    result = invoke("settle", CASES / "18_out_of_pocket_cap_for_poor_families_p1.yaml", "--json")
    assert result.exit_code == 0, result.output
    parts = json.loads(result.output)["year"]["parts"]
    assert parts["assistance"] == {"stage_1": 10000.0, "stage_2": 0.0, "oop_cap": 23000.0}
    # ..._20_c1: in-catalogue 65,000, class B 2,250, listed drugs 3,000 (the file's comments).
    result = invoke("settle", CASES / "20_supplementary_liabilities_each_on_its_own_base_c1.yaml",
                    "--json")
    parts = json.loads(result.output)["year"]["parts"]
    assert parts["supplementary"] == {"in-catalogue": 65000.0, "class B": 2250.0,
                                      "listed drugs": 3000.0}


def test_settle_expect_passes_with_the_cases_own_policy():
    result = invoke("settle", CASE, "--expect")
    assert result.exit_code == 0, result.output
    # 6 payers x (2 admissions + 1 outpatient kind + the year) + 3 stages + group + 3 flows.
    assert "31 value(s) checked, 0 mismatch(es)" in result.output
    assert "MISMATCH" not in result.output


def test_settle_expect_marks_a_mismatch_and_exits_1(tmp_path):
    text = CASE.read_text("utf-8").replace("policy: ../policy_simple.yaml",
                                           f"policy: {SIMPLE}")
    # Admission 1's assistance is 70% x 2,750 = 1,925, not 1,900.
    wrong = text.replace("{basic: 5250, assistance: 1925,", "{basic: 5250, assistance: 1900,")
    assert wrong != text
    case = tmp_path / "case.yaml"
    case.write_text(wrong, encoding="utf-8")
    result = invoke("settle", case, "--expect")
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "MISMATCH" in x)
    assert "admission 1 (secondary): assistance" in line and "1,900.00" in line \
        and "1,925.00" in line
    assert "31 value(s) checked, 1 mismatch(es)" in result.output
    result = invoke("settle", case, "--expect", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["mismatches"] == 1
    assert [c["what"] for c in data["checks"] if not c["ok"]] == \
        ["admission 1 (secondary): assistance"]


def test_settle_needs_a_policy_when_the_case_names_none():
    case = ROOT / "tests" / "fixtures" / "cases" / "employee_wage_60000.yaml"
    result = invoke("settle", case)
    assert result.exit_code == 2
    assert "employee_wage_60000.yaml, key 'policy': the case names no policy" in result.output
    result = invoke("settle", SIMPLE, case, case)
    assert result.exit_code == 2 and "settle takes [POLICY] CASE: 3 files given" in result.output
