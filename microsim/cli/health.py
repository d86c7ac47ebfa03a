"""`microsim health`: a population spec's year of illness, shown beside its cited targets.

    microsim health describe SPEC [--households N] [--seed S] [--replicate R] [--json] [--check]

Takes: a population spec file. Gives: tables (or JSON) of simulated
utilisation and unit costs, each target of the spec's `health.targets` with
the simulated value, its standard error and whether it is within tolerance.
With `--check` the exit code is 1 when a target is missed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.table import Table

from microsim import codes
from microsim.cli.common import guarded, out, styled

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Health use of a population spec: simulated utilisation and costs vs targets.")

_MIN_HOUSEHOLDS = 20


def _clean(value):
    """JSON without NaN: missing statistics become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _num(x: float, digits: int = 0) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def _pct(x: float, digits: int = 1) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def _targets_table(d) -> Table:
    t = Table(title=f"health targets: {Path(d.spec).name}, {d.households:,} households "
                    f"({d.persons:,} persons), seed {d.seed}")
    for col in ("indicator", "simulated", "s.e.", "target", "deviation", "tolerance", "ok", "source"):
        t.add_column(col, justify="left" if col in ("indicator", "source") else "right")
    for c in d.checks:
        share = c.tolerance_kind == "absolute"
        digits = 4 if share else (2 if c.target < 10 else (1 if c.target < 1000 else 0))
        dev = (f"{100 * c.deviation:+.2f} pp" if share
               else f"{100 * c.deviation / c.target:+.2f}%")
        tol = f"±{100 * c.tolerance:.1f} pp" if share else f"±{100 * c.tolerance / c.target:.0f}%"
        t.add_row(c.label, _num(c.simulated, digits), _num(c.standard_error, digits),
                  _num(c.target, digits), dev, tol, styled("yes", "green") if c.ok else styled("NO", "red"),
                  c.source)
    return t


def _utilisation_table(d) -> Table:
    s = d.statistics
    t = Table(title="utilisation")
    t.add_column("indicator")
    t.add_column("value", justify="right")
    rows = [
        ("outpatient visits per person (general + chronic)", _num(s["visits_per_person"], 2)),
        ("  general visits per person", _num(s["general_visits_per_person"], 2)),
        ("  chronic-management visits per person", _num(s["chronic_visits_per_person"], 2)),
    ]
    rows += [(f"  share of visits: general {lv}", _pct(s[f"visit_share.{lv}"])) for lv in codes.LEVEL]
    rows += [(f"cost per general visit: {lv} (yuan)", _num(s[f"cost_per_visit.{lv}"], 1))
             for lv in codes.LEVEL]
    rows += [
        ("admissions per person", _num(s["admissions_per_person"], 4)),
        ("share of persons admitted", _pct(s["admitted_share"])),
        ("admissions per admitted person", _num(s["admissions_per_admitted"], 2)),
        ("share of admissions out of area (异地就医)", _pct(s["out_of_area_share"])),
        ("share of admissions in TCM hospitals", _pct(s["tcm_share"])),
    ]
    for row in rows:
        t.add_row(*row)
    return t


def _admission_cost_table(d) -> Table:
    t = Table(title="cost per admission by level (yuan)")
    for col in ("level", "share of admissions", "mean", "p50", "p90", "p99"):
        t.add_column(col, justify="left" if col == "level" else "right")
    for lv in codes.LEVEL:
        q = d.admission_cost_percentiles.get(lv, {})
        t.add_row(lv, _pct(d.statistics[f"admission_share.{lv}"]),
                  *(_num(q.get(k, math.nan)) for k in ("mean", "p50", "p90", "p99")))
    return t


def _spending_table(d) -> Table:
    from microsim.health.describe import CATEGORIES, SPENDING_THRESHOLDS
    s = d.statistics
    t = Table(title="annual spending")
    t.add_column("indicator")
    t.add_column("value", justify="right")
    t.add_row("spending per person (yuan)", _num(s["spending_per_person"]))
    for c in CATEGORIES:
        t.add_row(f"  {c.replace('_', ' ')}: yuan per person, share",
                  f"{_num(s[f'spending_per_person.{c}'])}  {_pct(s[f'spending_share.{c}'])}")
    for kind in ("inpatient", "outpatient"):
        t.add_row(f"{kind} bills: policy range / class B / out of catalogue",
                  " / ".join(_pct(s[f"{kind}_part_share.{p}"]) for p in codes.PART))
    for thr in SPENDING_THRESHOLDS:
        t.add_row(f"share of persons spending above {thr:,.0f} yuan",
                  _pct(s[f"share_above.{int(thr)}"], 2))
    for k in (1, 5, 10):
        t.add_row(f"share of spending of the top {k}% of persons", _pct(s[f"top{k}_share"]))
    return t


@app.command()
@guarded
def describe(spec: Path = typer.Argument(..., help="population spec YAML file"),
             households: int = typer.Option(200_000, min=_MIN_HOUSEHOLDS,
                                            help="synthetic households to simulate"),
             seed: int = typer.Option(1, min=0, max=2**63 - 1, help="random seed"),
             replicate: int = typer.Option(0, min=0, max=9_999, help="replicate number"),
             as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
             check: bool = typer.Option(False, help="exit with code 1 if a target is missed")):
    """Simulate a year of illness for a spec and show utilisation and costs beside the targets."""
    from microsim.health.describe import describe_health
    from microsim.population.spec import load_population_spec

    d = describe_health(load_population_spec(spec), households=households, seed=seed,
                        replicate=replicate)
    if as_json:
        typer.echo(json.dumps(_clean(d.as_dict()), indent=2, ensure_ascii=False))
    else:
        for table in (_targets_table(d), _utilisation_table(d), _admission_cost_table(d),
                      _spending_table(d)):
            out.print(table)
        missed = [c.label for c in d.checks if not c.ok]
        out.print(f"{len(d.checks) - len(missed)} of {len(d.checks)} targets within tolerance"
                  + (f"; missed: {', '.join(missed)}" if missed else ""), highlight=False)
    if check and any(not c.ok for c in d.checks):
        raise typer.Exit(1)
