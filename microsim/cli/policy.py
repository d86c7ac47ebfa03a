"""Policy commands: show a resolved policy with sources, diff two policies, settle one case.

    microsim policy show POLICY [--reform R ...]
    microsim policy diff A B [--reform R ...]      B: a policy, or a reform overlay of A
    microsim settle [POLICY] CASE [--reform R ...] [--json] [--expect]

Parses arguments, calls `microsim.policy.inspect` and
`microsim.settlement.cases`, prints tables (or JSON). Nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from microsim.cli.common import guarded, out

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Inspect policy files: resolved values with their sources, and what "
                       "a reform changes.")

REFORM = typer.Option(None, "--reform", "-r", help="reform overlay applied in order (repeatable)")


def _files_line(policy) -> str:
    from microsim.policy.inspect import short_file
    return " + ".join(short_file(str(f)) for f in policy.files)


@app.command()
@guarded
def show(policy_file: Path = typer.Argument(..., help="policy YAML file"),
         reform: Optional[list[Path]] = REFORM):
    """Print the resolved policy (after inheritance and overlays), each value with its source."""
    from microsim.policy.inspect import DEFAULT, DESCRIPTIVE, leaves, short_file, show_value
    from microsim.policy.load import load_policy

    policy = load_policy(policy_file, reform or [])
    several = len(policy.tree.files) > 1
    out.print(f"# {policy.name}" + "".join(f" + {r}" for r in policy.reform_names), markup=False,
              highlight=False)
    out.print(f"# files: {_files_line(policy)}", markup=False, highlight=False, soft_wrap=True)
    shown: tuple[str, ...] = ()
    for leaf in leaves(policy):
        path = tuple(leaf.key.split("."))
        if path in DESCRIPTIVE:
            continue
        common = next((i for i, (a, b) in enumerate(zip(path, shown)) if a != b),
                      min(len(path), len(shown)))
        for depth in range(common, len(path) - 1):
            out.print("  " * depth + _key(path[depth]) + ":", markup=False, highlight=False)
        shown = path[:-1]
        if leaf.source == DEFAULT:
            comment = DEFAULT
        else:
            comment = leaf.source or "no source given"
            comment += f": {leaf.note}" if leaf.note else ""
            if several and leaf.file:
                comment += f" [{Path(short_file(leaf.file)).name}]"
        line = f"{'  ' * (len(path) - 1)}{_key(path[-1])}: {show_value(leaf.value)}"
        out.print(f"{line:<48} # {comment}", markup=False, highlight=False, soft_wrap=True)


def _key(part: str) -> str:
    return f"[{part}]" if part.isdigit() else part


@app.command()
@guarded
def diff(a: Path = typer.Argument(..., help="the policy before"),
         b: Path = typer.Argument(..., help="the policy after, or a reform overlay of A"),
         reform: Optional[list[Path]] = REFORM):
    """Print the values in which B (or A with the reform overlay B) differs from A."""
    from microsim.policy.inspect import diff as policy_diff
    from microsim.policy.inspect import short_file, show_value
    from microsim.policy.load import is_overlay, load_policy

    before = load_policy(a)
    after = load_policy(a, [b] + (reform or [])) if is_overlay(b) else load_policy(b, reform or [])
    changes = policy_diff(before, after)
    out.print(f"# {before.name}  ->  {after.name}" + "".join(f" + {r}" for r in after.reform_names),
              markup=False, highlight=False)
    out.print(f"# before: {_files_line(before)}; after: {_files_line(after)}", markup=False,
              highlight=False, soft_wrap=True)
    for c in changes:
        old = "(absent)" if c.before is None else show_value(c.before)
        new = "(removed)" if c.after is None else show_value(c.after)
        line = f"{c.key}: {old} -> {new}"
        comment = "" if c.after is None else (c.source or "no source given") + (
            f": {c.note}" if c.note else "")
        out.print(f"{line:<64} # {comment}" if comment else line, markup=False, highlight=False,
                  soft_wrap=True)
    out.print(f"# {len(changes)} value(s) differ", markup=False, highlight=False)


@guarded
def settle(files: list[Path] = typer.Argument(..., metavar="[POLICY] CASE",
                                              help="a policy YAML file (optional when the case "
                                                   "names its policy) and a calculator case YAML "
                                                   "(docs/calculator.md)"),
           reform: Optional[list[Path]] = REFORM,
           as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
           expect: bool = typer.Option(False, "--expect",
                                       help="check the case's expected: payments; exit code 1 "
                                            "on any mismatch")):
    """Settle one person's year of bills: each payer's amount per bill and for the year.

    With one file, the case's own `policy:` (and `reforms:`) is used; a POLICY given before
    the case replaces them."""
    from microsim.errors import InputError
    from microsim.settlement.cases import case_policy, load_case, settle_case
    from microsim.settlement.expected import check_expected

    if len(files) > 2:
        raise InputError(None, f"settle takes [POLICY] CASE: {len(files)} files given",
                         value=[str(f) for f in files], has_value=True)
    policy_file, case_file = (None, files[0]) if len(files) == 1 else files
    case = load_case(case_file)
    result = settle_case(case_policy(case, case_file, policy_file, reform or []), case)
    checks = check_expected(result, case_file) if expect else None
    if as_json:
        data = result.as_dict()
        if checks is not None:
            data["checks"] = [c.as_dict() for c in checks]
            data["mismatches"] = sum(not c.ok for c in checks)
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_result(case, case_file, result)
        if checks is not None:
            _print_checks(case, case_file, result, checks)
    if checks is not None and not all(c.ok for c in checks):
        raise typer.Exit(1)


def _print_result(case, case_file: Path, result) -> None:
    from microsim import codes

    table = Table(title=f"{case.name or case_file.name} under {result.policy}",
                  caption=f"{case.scheme}, {case.status}, age {case.age}, {case.residence}; "
                          f"assistance group: {result.group}; supplementary: "
                          f"{'enrolled' if result.enrolled else 'not enrolled'}")
    table.add_column("bill")
    for col in ("total",) + codes.PAYER:
        table.add_column(col.replace("_", " "), justify="right")
    rows = result.admissions + result.outpatient
    for i, row in enumerate(rows + [result.year]):
        table.add_row(row.label, f"{row.total:,.2f}", *(f"{x:,.2f}" for x in row.paid),
                      end_section=i == len(rows) - 1, style="bold" if row is result.year else None)
    out.print(table)
    parts = _year_parts(result.year)
    if parts:
        out.print(f"of which, for the year: {parts}", highlight=False, soft_wrap=True)
    flows = ", ".join(f"{k.replace('_', ' ')} {v:,.2f}" for k, v in result.finance.items()
                      if v and k != "account_credit")
    credit = result.finance.get("account_credit", 0.0)
    if credit:
        flows += f" (of which credited to the individual account {credit:,.2f})"
    out.print(f"financing: {flows or 'none'}", highlight=False)


def _year_parts(year) -> str:
    """The parts of the year's amounts that are not zero: 'assistance stage 1 4,000.00, ...'."""
    shown = []
    for payer, parts in year.parts().items():
        for name, x in parts.items():
            if round(x, 2):
                shown.append(f"{payer.replace('_', ' ')} {name.replace('_', ' ')} {x:,.2f}")
    return "; ".join(shown)


def _print_checks(case, case_file: Path, result, checks) -> None:
    table = Table(title=f"expected vs computed ({case_file.name}, under {result.policy})",
                  caption="amounts compared rounded to the fen (0.01 yuan)")
    table.add_column("what")
    table.add_column("expected", justify="right")
    table.add_column("computed", justify="right")
    table.add_column("")
    for c in checks:
        def shown(x):
            return f"{x:,.2f}" if isinstance(x, float) else str(x)
        table.add_row(c.what, shown(c.expected), shown(c.computed),
                      "ok" if c.ok else "MISMATCH", style=None if c.ok else "bold red")
    out.print(table)
    bad = sum(not c.ok for c in checks)
    out.print(f"{len(checks)} value(s) checked, {bad} mismatch(es)", highlight=False)
