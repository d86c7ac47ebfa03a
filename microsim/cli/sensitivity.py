"""`microsim sensitivity EXPERIMENT`: one-way sensitivity of the baseline's headline indicators
to groups of assumptions; prints the tornado table of each indicator and writes
`sensitivity.json` beside the results (docs/sensitivity.md).

    microsim sensitivity experiments/quickstart.yaml --households 20000
    microsim sensitivity EXP --groups my_groups.yaml --only inpatient_use --low inpatient_use=0.7
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from microsim.cli.common import err, guarded, out
from microsim.errors import InputError


def _settings(values: list[str], option: str) -> dict[str, float]:
    """--low NAME=X (repeatable) as {NAME: X}."""
    out_ = {}
    for v in values:
        name, sep, number = v.partition("=")
        try:
            x = float(number)
        except ValueError:
            x = math.nan
        if not sep or not name or not math.isfinite(x):
            raise InputError(None, f"{option} takes GROUP=NUMBER", value=v, has_value=True)
        out_[name] = x
    return out_


def _fmt(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:,.2f}"


def tornado_tables(result) -> list[Table]:
    labels = {g.name: g.label for g in result.groups}
    tables = []
    for ind, info in result.indicators.items():
        table = Table("group", "low", "base", "high", "swing",
                      title=f"{ind}: {info['long_name']} ({info['units']})", title_justify="left")
        for row in result.tornado(ind):
            table.add_row(f"{row.group} ({labels[row.group]})", _fmt(row.low),
                          _fmt(row.base), _fmt(row.high), _fmt(row.swing))
        tables.append(table)
    return tables


@guarded
def sensitivity(experiment: Path = typer.Argument(..., help="experiment YAML file"),
                groups: Optional[Path] = typer.Option(None, help="groups file (default: "
                                                      "sensitivity/groups.yaml)"),
                households: Optional[int] = typer.Option(None, min=1, help="households per "
                                                         "replicate (default: the experiment's)"),
                replicates: Optional[int] = typer.Option(None, min=1, help="replicates "
                                                         "(default: the experiment's)"),
                only: List[str] = typer.Option([], "--only", help="run only this group "
                                               "(repeatable)"),
                low: List[str] = typer.Option([], "--low", help="GROUP=X: the group's low "
                                              "setting instead of the file's (repeatable)"),
                high: List[str] = typer.Option([], "--high", help="GROUP=X: the group's high "
                                               "setting instead of the file's (repeatable)"),
                output: Optional[Path] = typer.Option(None, help="folder of sensitivity.json "
                                                      "(default: the experiment's output)"),
                scheduler: Optional[str] = typer.Option(None, help="as for microsim run"),
                quiet: bool = typer.Option(False, help="no progress messages")):
    """Move each group of assumptions to its low and high setting, one at a time, and show how
    the baseline's headline indicators move (tornado tables, largest swing first)."""
    from microsim.experiment import load_experiment
    from microsim.sensitivity import DEFAULT_GROUPS, sensitivity as run_sensitivity, \
        write_sensitivity

    lows, highs = _settings(low, "--low"), _settings(high, "--high")
    exp = load_experiment(experiment)
    log = (lambda _m: None) if quiet else (lambda m: err.print(m, highlight=False))
    result = run_sensitivity(exp, groups or DEFAULT_GROUPS, households=households,
                             replicates=replicates, only=only or None, low=lows, high=highs,
                             scheduler=scheduler, log=log)
    for table in tornado_tables(result):
        out.print(table)
    path = write_sensitivity(result, output or exp.output)
    out.print(f"{result.scenario} of {result.experiment}: {result.households:,} households x "
              f"{result.replicates} replicate(s), {1 + 2 * len(result.groups)} runs in "
              f"{result.seconds:.1f} s; wrote {path}", highlight=False)
