"""Indicators: the catalogue computed from merged accumulators, by group.

Takes: the indicator catalogue (`catalogue.yaml`), a `Layout`, merged
`Accumulators` of one (scenario, replicate), the replicate number (for the
population lines) and the scenario's `FundInputs`. Gives: for each indicator
an array (3 residence, 6 quintile, 6 status) with `all` margins, the reasons
for any NaN, and, for rank-based indicators, the bound on their grid error.

Kinds of indicator:
- `ratio`: scale x sum(numerator terms) / sum(denominator terms); a total
  when the denominator is empty. NaN where the denominator is zero.
- `concentration`: the concentration index C = 2 cov_w(y, r) / mean(y) of
  the variable y over persons ranked by a per-capita variable (income,
  consumption, or either net of out-of-pocket spending); with
  `correction: erreygers` the Erreygers index 4 mean(y) C of a binary y. The
  Gini coefficient is the concentration index of the ranking variable itself.
- `kakwani`: C(payments) - G(ability to pay), both ranked by ability to pay.

Quintiles are fifths of persons ranked by household per-capita income,
computed per replicate from the merged income-bin histogram (every scenario
shares its replicate's population). A bin that straddles a quintile boundary
is split in proportion to its persons, as if they were spread evenly across
the bin. For any additive sum the error against exact ranking is at most the
sum's mass in the two straddling bins (tested in tests/metrics).

Rank-based indices use each bin's fractional rank, the mid-point of its
cumulative share of persons. Every person's exact fractional rank lies inside
its bin's share, so |C_grid - C_exact| <= sum_b (A_b / |Y|) (P_b / P), where
A_b is the sum of |y| and P_b the persons of bin b (tested against exact
ranking in tests/metrics); `compute_all` reports this bound for every group.
Rank-based indices are computed within each residence x status group over its
whole distribution; they are NaN by quintile.

Deciles (`by: decile` indicators, expanded by `{decile}`) are tenths of persons
ranked by household per-capita income, split from the same histogram in the
same way; a decile indicator is the ratio within its decile, for every
residence x status group, at quintile `all` (NaN by quintile).

`{threshold}` expands an indicator for each threshold of the catastrophic-payment
grid: the catalogue's `che_grid`, or the experiment's own (`load_catalogue`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import yaml
from pydantic import Field, field_validator

from microsim import codes
from microsim.errors import InputError
from microsim.metrics.accumulate import (
    RANKED_STATS, SCALE, Accumulators, Layout, threshold_key)
from microsim.schema import Strict, validate_tree
from microsim.yamltree import Tree, load_tree, split_sources

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
N_QUINTILES = 5
N_DECILES = 10
DECILE_REASON = ("decile indicators are computed within income deciles over each residence x "
                 "status group, at quintile 'all'")
REF = re.compile(r"^(-?)(hh|person)(?:\[([a-z_,]+)\])?:(.+)$")
PLACEHOLDER = re.compile(r"\{([a-z]+)(?:_[a-z]+)?\}")
NEEDS = ("societal_poverty_line", "subsistence_line")
NEED_REASON = {
    "societal_poverty_line": "the experiment states no societal poverty line "
                             "(societal_poverty_line: ppp_factor or yuan)",
    "subsistence_line": "no subsistence line is available (the population pass did not run and "
                        "the experiment gives no subsistence_line)",
}
QUINTILE_REASON = ("rank-based indices are computed over the whole distribution of each "
                   "residence x status group, not within income quintiles")


# ---------------------------------------------------------------------------- the catalogue file

class CtpParams(Strict):
    equivalence_exponent: Annotated[float, Field(gt=0.0, le=1.0)]
    food_share_percentiles: Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]],
                                      Field(min_length=2, max_length=2)]
    threshold: Annotated[float, Field(gt=0.0, le=1.0)]


class Sdg2025Params(Strict):
    threshold: Annotated[float, Field(gt=0.0, le=1.0)]


class SplParams(Strict):
    floor_usd_per_day: Annotated[float, Field(gt=0.0)]
    base_usd_per_day: Annotated[float, Field(ge=0.0)]
    median_share: Annotated[float, Field(gt=0.0, le=1.0)]


def check_che_grid(grid: list[float]) -> list[float]:
    """A catastrophic-payment grid: 1 to 12 thresholds, each in (0, 1), strictly ascending."""
    if not 1 <= len(grid) <= 12:
        raise ValueError(f"a catastrophic-payment grid has 1 to 12 thresholds, not {len(grid)}")
    for t in grid:
        if not 0.0 < t < 1.0:
            raise ValueError(f"a catastrophic-payment threshold is a share of the budget in "
                             f"(0, 1), not {t!r}")
    for a, b in zip(grid, grid[1:]):
        if not b > a:
            raise ValueError(f"catastrophic-payment thresholds ascend strictly: {b!r} follows "
                             f"{a!r}")
    keys = [threshold_key(t) for t in grid]
    if len(set(keys)) != len(keys):
        raise ValueError("catastrophic-payment thresholds differ by at least 0.000001")
    return grid


class WinnersLosersParams(Strict):
    tolerance_yuan: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class PaintDripParams(Strict):
    households: Annotated[int, Field(ge=0, le=100_000)]


class CatalogueParams(Strict):
    che_thresholds: Annotated[list[Annotated[float, Field(gt=0.0, lt=1.0)]],
                              Field(min_length=2, max_length=2)]
    che_grid: list[float]
    capacity_to_pay: CtpParams
    sdg_2025: Sdg2025Params
    societal_poverty_line: SplParams
    winners_losers: WinnersLosersParams
    paint_drip: PaintDripParams

    @field_validator("che_grid")
    @classmethod
    def _grid(cls, v: list[float]) -> list[float]:
        return check_che_grid(v)


class ExpansionItem(Strict):
    """One value of a placeholder: `{k}` is its key, `{k_en}`, `{k_zh}`, `{k_schemes}`,
    `{k_suffix}` and `{k_stat}` its fields."""

    en: str
    zh: str
    schemes: str = ""
    suffix: str = ""
    stat: str = ""


class IndicatorSpec(Strict):
    kind: Literal["ratio", "concentration", "kakwani", "carried"] = "ratio"
    # carried: computed across the simulated years from other indicators (engine/funds.py)
    family: str
    long_name: str
    long_name_zh: str
    units: str
    scale: float = 1.0
    numerator: list[str] = []
    denominator: list[str] = []
    variable: list[str] = []
    payments: list[str] = []
    ability: list[str] = []
    rank: Literal["income", "consumption", "income_after_oop", "consumption_after_oop"] = "income"
    correction: Literal["none", "erreygers"] = "none"
    needs: list[Literal["societal_poverty_line", "subsistence_line"]] = []
    by: Literal["group", "decile"] = "group"    # decile: expanded by {decile}, see the docstring
    definition: str
    definition_zh: str = ""
    source: str
    source_zh: str = ""      # where `source` is not a citation of a published work: in Chinese
    nan_reason: str = ""


class CatalogueFile(Strict):
    parameters: CatalogueParams
    expansions: dict[str, dict[str, ExpansionItem]] = {}
    indicators: dict[str, IndicatorSpec]


@dataclass(frozen=True)
class Term:
    sign: float
    table: str                 # "hh" or "person"
    stat: str
    schemes: tuple[int, ...]   # person terms: schemes summed


@dataclass(frozen=True)
class Indicator:
    name: str
    kind: str
    family: str
    long_name: str
    long_name_zh: str
    units: str
    numerator: tuple[Term, ...]      # ratio: numerator; concentration: the variable; kakwani: payments
    denominator: tuple[Term, ...]    # ratio: denominator; kakwani: ability to pay
    scale: float
    rank: str
    correction: str
    needs: tuple[str, ...]
    definition: str
    source: str
    nan_reason: str
    template: str                    # the catalogue key it was expanded from
    definition_zh: str = ""          # the definition in Chinese, for the Chinese report
    source_zh: str = ""              # the source in Chinese, where it is not a citation
    decile: int = 0                  # 1-10 for a decile indicator, 0 otherwise


@dataclass(frozen=True)
class Catalogue:
    che_thresholds: tuple[float, float]
    indicators: tuple[Indicator, ...]
    che_grid: tuple[float, ...] = (0.10, 0.25)
    change_tolerance: float = 1.0
    drip_households: int = 0
    ctp_exponent: float = 0.56
    ctp_threshold: float = 0.40
    food_percentiles: tuple[float, float] = (0.45, 0.55)
    sdg2025_threshold: float = 0.40
    spl_floor_usd: float = 2.15
    spl_base_usd: float = 1.15
    spl_median_share: float = 0.5

    def names(self) -> list[str]:
        return [i.name for i in self.indicators]

    def get(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)


def _term(ref: str, file: str, key: str) -> Term:
    m = REF.match(ref.strip())
    if not m:
        raise InputError(file, "a term looks like 'hh:STAT' or 'person[schemes]:STAT'", key=key,
                         value=ref, has_value=True)
    sign, table, schemes, stat = m.groups()
    ids: tuple[int, ...] = tuple(range(len(codes.SCHEME)))
    if schemes:
        try:
            ids = tuple(codes.SCHEME.index(s) for s in schemes.split(","))
        except ValueError:
            raise InputError(file, f"unknown scheme in {ref!r}", key=key) from None
    return Term(-1.0 if sign else 1.0, table, stat, ids)


def _substitutions(name: str, expansions: dict[str, dict[str, ExpansionItem]],
                   line_names: tuple[str, ...], file: str,
                   labels: dict[str, tuple[str, str]] | None = None,
                   grid: tuple[float, ...] = ()) -> list[dict[str, str]]:
    """Every combination of the placeholders in an indicator's name; a poverty line also
    fills `{line_en}` and `{line_zh}` with its labels (default "NAME line", "NAME线"); a
    threshold of the grid fills `{threshold}` with its key ('10' for 0.10) and
    `{threshold_en}`, `{threshold_zh}` with its percentage ('10%')."""
    keys = sorted(set(PLACEHOLDER.findall(name)))
    labels = labels or {}
    choices = []
    for k in keys:
        if k == "threshold":
            choices.append([{"{threshold}": threshold_key(t),
                             "{threshold_en}": f"{round(t * 100, 6):g}%",
                             "{threshold_zh}": f"{round(t * 100, 6):g}%"} for t in grid])
        elif k == "line":
            choices.append([{"{line}": line,
                             "{line_en}": labels.get(line, (f"{line} line", ""))[0],
                             "{line_zh}": labels.get(line, ("", f"{line}线"))[1]}
                            for line in line_names])
        elif k in expansions:
            choices.append([{f"{{{k}}}": key, f"{{{k}_en}}": item.en, f"{{{k}_zh}}": item.zh,
                             f"{{{k}_schemes}}": item.schemes, f"{{{k}_suffix}}": item.suffix,
                             f"{{{k}_stat}}": item.stat}
                            for key, item in expansions[k].items()])
        else:
            raise InputError(file, f"unknown placeholder {{{k}}} (known: line, threshold, "
                             f"{', '.join(sorted(expansions))})", key=f"indicators.{name}")
    return [{k: v for d in combo for k, v in d.items()} for combo in product(*choices)]


def _sub(text: str, subs: dict[str, str]) -> str:
    for k, v in subs.items():
        text = text.replace(k, v)
    return text


def _read_catalogue(path: Path) -> Tree:
    """The catalogue as a Tree, parsed with libyaml where available (the file is large and
    this runs at every start); `tests/metrics` checks it with the strict loader as well."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return load_tree(path, "indicator catalogue")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except (OSError, yaml.YAMLError):
        return load_tree(path, "indicator catalogue")   # the strict loader names the problem
    values, sources, origins = split_sources(raw, str(path))
    return Tree(values, sources, origins, [str(path)])


_CACHE: dict[tuple, "Catalogue"] = {}


def load_catalogue(line_names: tuple[str, ...], path: Path = CATALOGUE_PATH,
                   labels: dict[str, tuple[str, str]] | None = None,
                   che_grid: list[float] | tuple[float, ...] | None = None) -> Catalogue:
    """Read the catalogue and expand the placeholders of templated indicators: `{line}` for
    each poverty line (with `labels`, line name -> (English, Chinese) label, in its names),
    `{threshold}` for each threshold of `che_grid` (default: the catalogue's `che_grid`), and
    the catalogue's `expansions` (`{layer}`, `{fund}`, ...)."""
    path = Path(path)
    labels = {k: (str(v[0]), str(v[1])) for k, v in (labels or {}).items()}
    grid = None if che_grid is None else tuple(float(t) for t in che_grid)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, tuple(line_names),
               tuple(sorted(labels.items())), grid)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    catalogue = _load_catalogue(tuple(line_names), path, labels, grid)
    if key is not None:
        _CACHE[key] = catalogue
    return catalogue


def _load_catalogue(line_names: tuple[str, ...], path: Path,
                    labels: dict[str, tuple[str, str]] | None = None,
                    grid: tuple[float, ...] | None = None) -> Catalogue:
    tree = _read_catalogue(path)
    raw = validate_tree(CatalogueFile, tree, "indicator catalogue")
    file = str(path)
    if grid is None:
        grid = tuple(raw.parameters.che_grid)
    else:
        try:
            check_che_grid(list(grid))
        except ValueError as exc:
            raise InputError(file, str(exc), key="che_grid", value=list(grid),
                             has_value=True) from None
    out = []
    for template, spec in raw.indicators.items():
        key = f"indicators.{template}"
        if (spec.by == "decile") != ("{decile}" in template):
            raise InputError(file, "an indicator by decile ('by: decile') and only such an "
                             "indicator has '{decile}' in its name", key=key)
        for subs in _substitutions(template, raw.expansions, line_names, file, labels, grid):
            s = (lambda text: _sub(text, subs))
            terms = {part: tuple(_term(s(t), file, key) for t in getattr(spec, part))
                     for part in ("numerator", "denominator", "variable", "payments", "ability")}
            if spec.kind == "ratio":
                num, den = terms["numerator"], terms["denominator"]
                if not num:
                    raise InputError(file, "a ratio needs a numerator", key=key)
            elif spec.kind == "carried":
                num, den = (), ()
            elif spec.kind == "concentration":
                num, den = terms["variable"], ()
                if not num:
                    raise InputError(file, "a concentration index needs a 'variable'", key=key)
            else:
                num, den = terms["payments"], terms["ability"]
                if not num or not den:
                    raise InputError(file, "a Kakwani index needs 'payments' and 'ability'",
                                     key=key)
            if spec.kind not in ("ratio", "carried") and any(t.table != "hh" for t in num + den):
                raise InputError(file, "rank-based indices take household terms (hh:STAT)",
                                 key=key)
            out.append(Indicator(
                name=s(template), kind=spec.kind, family=spec.family, long_name=s(spec.long_name),
                long_name_zh=s(spec.long_name_zh), units=spec.units, numerator=num,
                denominator=den, scale=spec.scale, rank=spec.rank, correction=spec.correction,
                needs=tuple(spec.needs), definition=s(spec.definition), source=spec.source,
                nan_reason=s(spec.nan_reason), template=template,
                definition_zh=s(spec.definition_zh), source_zh=spec.source_zh,
                decile=int(subs["{decile}"].lstrip("d")) if spec.by == "decile" else 0))
            if spec.by == "decile" and (spec.kind != "ratio" or any(
                    t.table != "hh" for t in num + den)):
                raise InputError(file, "an indicator by decile is a ratio of household terms "
                                 "(hh:STAT)", key=key)
    names = [i.name for i in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(file, f"indicator names repeat after expansion: {dupes}", key="indicators")
    p = raw.parameters
    return Catalogue(
        che_thresholds=(p.che_thresholds[0], p.che_thresholds[1]), indicators=tuple(out),
        ctp_exponent=p.capacity_to_pay.equivalence_exponent,
        ctp_threshold=p.capacity_to_pay.threshold,
        food_percentiles=tuple(p.capacity_to_pay.food_share_percentiles),
        sdg2025_threshold=p.sdg_2025.threshold,
        spl_floor_usd=p.societal_poverty_line.floor_usd_per_day,
        spl_base_usd=p.societal_poverty_line.base_usd_per_day,
        spl_median_share=p.societal_poverty_line.median_share,
        che_grid=tuple(grid), change_tolerance=p.winners_losers.tolerance_yuan,
        drip_households=p.paint_drip.households)


def make_layout(catalogue: Catalogue, lines: list[tuple[str, tuple[float, float]]],
                bin_edges: np.ndarray) -> Layout:
    """The accumulator layout for a catalogue and the experiment's poverty lines."""
    return Layout(bin_edges=bin_edges, che_thresholds=catalogue.che_thresholds,
                  line_names=tuple(name for name, _ in lines),
                  lines=np.array([v for _, v in lines], dtype=np.float64).reshape(len(lines), 2),
                  ctp_exponent=catalogue.ctp_exponent, ctp_threshold=catalogue.ctp_threshold,
                  sdg2025_threshold=catalogue.sdg2025_threshold, che_grid=catalogue.che_grid,
                  change_tolerance=catalogue.change_tolerance,
                  drip_households=catalogue.drip_households)


# ------------------------------------------------------------------------------- fund inputs

@dataclass(frozen=True)
class FundInputs:
    """A scenario's fund conventions and stated balances (the policy's `funds:` section).

    `cii_in_basic_fund[scheme]`: the scheme's critical-illness payouts are spent from its
    basic fund; `opening_balance[scheme]`: accumulated balance at the start of the year,
    yuan per insured person (NaN: not stated); `assistance_financing`: medical-assistance
    financing, yuan per resident per year, and `assistance_opening_balance`: its accumulated
    balance at the start of the year, yuan per resident (NaN: not stated)."""

    cii_in_basic_fund: tuple[bool, bool, bool, bool] = (False, False, False, False)
    opening_balance: tuple[float, float, float, float] = (0.0,) + (float("nan"),) * 3
    assistance_financing: float = float("nan")
    assistance_opening_balance: float = float("nan")


def fund_inputs(policy) -> FundInputs:
    """FundInputs from a validated `PolicyFile` (none stated: balances NaN, CII separate)."""
    funds = getattr(policy, "funds", None)
    if funds is None:
        return FundInputs()
    res = funds.critical_illness_paid_by.residents == "basic_fund"
    emp = funds.critical_illness_paid_by.employees == "basic_fund"
    ob = funds.opening_balance_per_insured
    nan = float("nan")
    uebmi = nan if ob is None or ob.uebmi is None else float(ob.uebmi)
    urrbmi = nan if ob is None or ob.urrbmi is None else float(ob.urrbmi)
    ma = funds.medical_assistance
    ma_open = nan if ma is None or ma.opening_balance_per_person is None else float(
        ma.opening_balance_per_person)
    return FundInputs(cii_in_basic_fund=(False, emp, emp, res),
                      opening_balance=(0.0, uebmi, uebmi, urrbmi),
                      assistance_financing=nan if ma is None else float(ma.financing_per_person),
                      assistance_opening_balance=ma_open)


# ------------------------------------------------------------------------------- derived stats

def _payer_rows(payer: str) -> list[str]:
    return [f"paid.{c}.{payer}" for c in codes.CARE]


DERIVED_PERSON_STATS = {
    # what each layer paid, all kinds of care
    **{f"layer.{p}": _payer_rows(p) for p in codes.PAYER},
    # cost by part and by kind of care
    **{f"cost.all.{q}": [f"cost.{c}.{q}" for c in codes.CARE] for q in codes.PART},
    **{f"cost.{c}.all": [f"cost.{c}.{q}" for q in codes.PART] for c in codes.CARE},
    "cost.all.all": [f"cost.{c}.{q}" for c in codes.CARE for q in codes.PART],
    # financing
    "fund.revenue": [f"finance.{f}" for f in ("individual", "subsidy", "assisted", "employer",
                                              "employee")],
    "contributions.household": ["finance.individual", "finance.employee",
                                "finance.premium_household"],
    "supplementary.premiums": ["finance.premium_household", "finance.premium_government"],
    "assistance.expenditure": _payer_rows("assistance") + ["finance.assisted"],
}
FUND_STATS = ("fund.expenditure", "account.expenditure", "fund.opening_balance",
              "assistance.financing", "assistance.opening_balance")


def employee_accounts(account: np.ndarray) -> np.ndarray:
    """Individual-account payments (..., scheme) moved to the account holders' fund: what
    accounts paid for household members of another scheme (家庭共济) is spent by the UEBMI
    fund, so it moves to the employed members' scheme in the same group cell (a household's
    members share its residence, status and income)."""
    out = account.copy()
    others = [codes.UNINSURED, codes.URRBMI]
    out[..., codes.UEBMI_EMPLOYED] += account[..., others].sum(axis=-1)
    out[..., others] = 0.0
    return out


def person_stat_index(layout: Layout) -> dict[str, int]:
    names = list(layout.person_stats) + list(DERIVED_PERSON_STATS) + list(FUND_STATS)
    return {s: i for i, s in enumerate(names)}


def _with_derived(person: np.ndarray, layout: Layout, funds: FundInputs) -> np.ndarray:
    """Person sums (stats, ..., scheme) extended by the derived statistics (all linear in the
    raw sums, scheme by scheme, so they may be derived after grouping)."""
    index = {s: i for i, s in enumerate(layout.person_stats)}
    extra = []
    for rows in DERIVED_PERSON_STATS.values():
        extra.append(person[[index[r] for r in rows]].sum(axis=0))
    basic = person[[index[r] for r in _payer_rows("basic")]].sum(axis=0)
    account = employee_accounts(person[[index[r] for r in _payer_rows("account")]].sum(axis=0))
    cii = person[[index[r] for r in _payer_rows("critical_illness")]].sum(axis=0)
    extra.append(basic + account + cii * np.array(funds.cii_in_basic_fund, dtype=np.float64))
    extra.append(account)
    persons = person[index["persons"]]
    with np.errstate(invalid="ignore"):
        extra.append(persons * np.array(funds.opening_balance, dtype=np.float64))
        extra.append(persons * funds.assistance_financing)
        extra.append(persons * funds.assistance_opening_balance)
    return np.concatenate([person, np.stack(extra)], axis=0)


# ------------------------------------------------------------------------------- group sums

def quintile_weights(persons_by_bin: np.ndarray, n: int = N_QUINTILES) -> np.ndarray:
    """(bins, n): the fraction of each income bin's persons that falls in each of `n` equal
    groups of persons (quintiles by default; deciles with n = 10)."""
    total = persons_by_bin.sum()
    weights = np.zeros((persons_by_bin.size, n))
    if total <= 0:
        return weights
    upper = np.cumsum(persons_by_bin) / total
    lower = np.concatenate([[0.0], upper[:-1]])
    width = upper - lower
    for k in range(n):
        lo, hi = k / n, (k + 1) / n
        inside = np.clip(np.minimum(upper, hi) - np.maximum(lower, lo), 0.0, None)
        weights[:, k] = np.divide(inside, width, out=np.zeros_like(width), where=width > 0)
    return weights


def interpolated_share(qweights: np.ndarray, persons_by_bin: np.ndarray) -> float:
    """Share of persons in bins split between two quintiles (whose quintile is interpolated)."""
    split = (qweights > 1e-12).sum(axis=1) > 1
    total = persons_by_bin.sum()
    return float(persons_by_bin[split].sum() / total) if total > 0 else 0.0


def quintile_error_bounds(abs_by_bin: np.ndarray, persons_by_bin: np.ndarray) -> np.ndarray:
    """(5,): bound on |grid - exact| of each quintile's sum of a statistic, given the sum of
    its absolute values by bin: the mass of the bins that hold the quintile's two boundaries
    (the only bins whose persons are split by assumption rather than by rank)."""
    total = persons_by_bin.sum()
    bounds = np.zeros(N_QUINTILES)
    if total <= 0:
        return bounds
    upper = np.cumsum(persons_by_bin) / total
    lower = np.concatenate([[0.0], upper[:-1]])
    for k in range(N_QUINTILES):
        for edge in (k / N_QUINTILES, (k + 1) / N_QUINTILES):
            if 0.0 < edge < 1.0:
                bounds[k] += abs_by_bin[(lower < edge) & (upper > edge)].sum()
    return bounds


def group_sums(grid: np.ndarray, qweights: np.ndarray) -> np.ndarray:
    """(stats, r, s, bins) -> (stats, 3 residence, 6 quintile, 6 status) with `all` margins."""
    n_stats, n_r, n_s, _ = grid.shape
    by_q = grid @ qweights                                # (stats, r, s, 5)
    out = np.zeros((n_stats, n_r + 1, N_QUINTILES + 1, n_s + 1))
    out[:, :n_r, :N_QUINTILES, :n_s] = by_q.transpose(0, 1, 3, 2)
    out[:, :n_r, N_QUINTILES, :n_s] = grid.sum(axis=3)    # exact `all` quintile margin
    out[:, n_r] = out[:, :n_r].sum(axis=1)
    out[:, :, :, n_s] = out[:, :, :, :n_s].sum(axis=3)
    return out


def decile_sums(grid: np.ndarray, dweights: np.ndarray) -> np.ndarray:
    """(stats, r, s, bins) -> (stats, 10 deciles, 3 residence, 6 status) with `all` margins."""
    n_stats, n_r, n_s, _ = grid.shape
    by_d = np.moveaxis(grid @ dweights, -1, 1)            # (stats, 10, r, s)
    out = np.zeros((n_stats, dweights.shape[1], n_r + 1, n_s + 1))
    out[:, :, :n_r, :n_s] = by_d
    out[:, :, n_r] = out[:, :, :n_r].sum(axis=2)
    out[:, :, :, n_s] = out[:, :, :, :n_s].sum(axis=3)
    return out


def bin_margins(grid: np.ndarray) -> np.ndarray:
    """(k, r, s, bins) -> (k, 3 residence, 6 status, bins) with `all` margins."""
    k, n_r, n_s, nb = grid.shape
    out = np.zeros((k, n_r + 1, n_s + 1, nb))
    out[:, :n_r, :n_s] = grid
    out[:, n_r, :n_s] = grid.sum(axis=1)
    out[:, :, n_s] = out[:, :, :n_s].sum(axis=2)
    return out


# ------------------------------------------------------------------------------- rank indices

def fractional_ranks(persons: np.ndarray) -> np.ndarray:
    """Mid-point of each bin's cumulative share of persons, along the last axis."""
    total = persons.sum(axis=-1, keepdims=True)
    cum = np.cumsum(persons, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (cum - persons / 2.0) / total, np.nan)


def concentration(y: np.ndarray, persons: np.ndarray, y_abs: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Concentration index of y over bins (last axis) and its bound on the grid error.

    C = 2 sum_b y_b r_b / Y - 1 with r_b the bin's mid-point rank; the bound is
    sum_b (A_b / |Y|) (P_b / P), A_b the sum of |y| in bin b (y_abs, default |y_b|). A
    variable with negative values can take C out of [-1, 1]; `compute_all` makes that NaN."""
    ranks = fractional_ranks(persons)
    total_y = y.sum(axis=-1)
    total_p = persons.sum(axis=-1)
    a = np.abs(y) if y_abs is None else y_abs
    with np.errstate(divide="ignore", invalid="ignore"):
        c = 2.0 * np.nansum(y * ranks, axis=-1) / total_y - 1.0
        bound = (a * persons).sum(axis=-1) / (np.abs(total_y) * total_p)
        bad = (total_y == 0) | (total_p <= 0)
    return np.where(bad, np.nan, c), np.where(bad, np.nan, bound)


# ------------------------------------------------------------------------------- computing

@dataclass
class Computed:
    """Indicators of one (scenario, replicate): values (3, 6, 6), NaN reasons, rank bounds."""

    values: dict[str, np.ndarray]
    reasons: dict[str, set[str]] = field(default_factory=dict)
    bounds: dict[str, np.ndarray] = field(default_factory=dict)


def _rank_row(stat: str, rank: str, hh_index: dict[str, int], ind: Indicator) -> int:
    row = stat if rank == "income" else f"by_{rank}.{stat}"
    if row not in hh_index:
        known = [s.split(".", 1)[1] for s in hh_index if s.startswith(f"by_{rank}.")] \
            if rank != "income" else []
        raise InputError(CATALOGUE_PATH, f"statistic {stat!r} is not accumulated by {rank}"
                         + (f" (available: {', '.join(known)})" if known else ""),
                         key=f"indicators.{ind.template}")
    return hh_index[row]


def layout_grid(hh_index: dict[str, int]) -> list[str]:
    """The threshold keys of a layout's grid rows, in order."""
    return list(dict.fromkeys(k.split(".")[0][4:] for k in hh_index if k.startswith("grid")))


def _check_terms(catalogue: Catalogue, hh_index: dict[str, int], person_index: dict[str, int]):
    ranked = {f"{rank}." for rank, _ in RANKED_STATS}
    for ind in catalogue.indicators:
        for t in ind.numerator + ind.denominator:
            if ind.kind != "ratio":
                _rank_row(t.stat, ind.rank, hh_index, ind)
                continue
            index = hh_index if t.table == "hh" else person_index
            if t.stat not in index and t.stat.startswith("grid"):
                raise InputError(CATALOGUE_PATH, f"the accumulator layout has no catastrophic-"
                                 f"payment threshold for {t.stat!r} (its grid: "
                                 f"{list(layout_grid(hh_index))}); build the layout with "
                                 "make_layout from the same catalogue",
                                 key=f"indicators.{ind.template}")
            if t.stat not in index:
                raise InputError(CATALOGUE_PATH, f"unknown statistic {t.stat!r}",
                                 key=f"indicators.{ind.template}")
            if t.table == "hh" and any(t.stat.startswith(p) for p in ranked):
                raise InputError(CATALOGUE_PATH, f"{t.stat!r} is binned by another ranking "
                                 "variable and serves rank-based indices only",
                                 key=f"indicators.{ind.template}")


def _sum_terms(terms, hh_sums, person_sums, hh_index, person_index):
    total = 0.0
    for t in terms:
        if t.table == "hh":
            total = total + t.sign * hh_sums[hh_index[t.stat]]
        else:
            total = total + t.sign * person_sums[t.schemes][person_index[t.stat]]
    return total


def _rank_indicator(ind: Indicator, hh_bins: np.ndarray, hh_index: dict[str, int]):
    """A concentration or Kakwani index for every (residence, status) group: (3, 6) arrays."""
    rank = ind.rank

    def var(terms):
        y = sum(t.sign * hh_bins[_rank_row(t.stat, rank, hh_index, ind)] for t in terms)
        # Sums of |y| per bin where they are accumulated (variables that can be negative).
        abs_row = f"by_{rank}.abs_{terms[0].stat}"
        y_abs = hh_bins[hh_index[abs_row]] if len(terms) == 1 and abs_row in hh_index else None
        return y, y_abs

    persons = hh_bins[_rank_row("persons", rank, hh_index, ind)]
    y, y_abs = var(ind.numerator)
    c, bound = concentration(y, persons, y_abs)
    if ind.kind == "kakwani":
        atp, atp_abs = var(ind.denominator)
        g, g_bound = concentration(atp, persons, atp_abs)
        return c - g, bound + g_bound
    if ind.correction == "erreygers":
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = y.sum(axis=-1) / persons.sum(axis=-1)
        return 4.0 * mean * c, 4.0 * mean * bound
    return c, bound


RANK_RANGE = {"concentration": (-1.0, 1.0), "kakwani": (-2.0, 1.0)}
"""The range of each rank-based index (before its scale): a concentration index, a Gini and an
Erreygers index of a binary variable lie in [-1, 1]; a Kakwani index, C - G, in [-2, 1]."""


def compute_all(catalogue: Catalogue, layout: Layout, acc: Accumulators, replicate: int = 0,
                funds: FundInputs | None = None) -> Computed:
    """Every indicator for one (scenario, replicate)."""
    funds = funds or FundInputs()
    hh_index = {s: i for i, s in enumerate(layout.hh_stats)}
    person_index = person_stat_index(layout)
    _check_terms(catalogue, hh_index, person_index)
    hh = acc.hh.astype(np.float64) * layout.hh_unit()[:, None, None, None]
    person = acc.person.astype(np.float64) / SCALE          # (stats, r, s, scheme, bins)
    qw = quintile_weights(hh[hh_index["persons"]].sum(axis=(0, 1)))
    hh_sums = group_sums(hh, qw)
    shape = (len(codes.RESIDENCE) + 1, N_QUINTILES + 1, len(codes.STATUS) + 1)
    needed = {t.schemes for i in catalogue.indicators if i.kind == "ratio"
              for t in i.numerator + i.denominator if t.table == "person"}
    # Group sums scheme by scheme, then the derived statistics, then each scheme set's sum.
    n_stats, n_r, n_s, n_sch, n_bins = person.shape
    flat = person.transpose(0, 3, 1, 2, 4).reshape(n_stats * n_sch, n_r, n_s, n_bins)
    by_scheme = np.moveaxis(group_sums(flat, qw).reshape((n_stats, n_sch) + shape), 1, -1)
    by_scheme = _with_derived(by_scheme, layout, funds)    # (stats + derived, 3, 6, 6, scheme)
    person_sums = {sch: by_scheme[..., list(sch)].sum(axis=-1) for sch in needed}
    hh_bins = None
    hh_deciles = None
    available = {"societal_poverty_line": not np.isnan(layout.spl_of(replicate)),
                 "subsistence_line": not np.isnan(layout.subsistence_of(replicate))}
    out = Computed({})
    for ind in catalogue.indicators:
        reasons = set()
        if ind.decile:
            if hh_deciles is None:
                hh_deciles = decile_sums(hh, quintile_weights(
                    hh[hh_index["persons"]].sum(axis=(0, 1)), N_DECILES))
            sums = hh_deciles[:, ind.decile - 1]                  # (stats, 3, 6)
            with np.errstate(divide="ignore", invalid="ignore"):
                num = _sum_terms(ind.numerator, sums, {}, hh_index, person_index)
                den = _sum_terms(ind.denominator, sums, {}, hh_index, person_index) \
                    if ind.denominator else None
                c = ind.scale * num if den is None else np.where(
                    den != 0, ind.scale * num / np.where(den != 0, den, 1.0), np.nan)
            value = np.full(shape, np.nan)
            value[:, N_QUINTILES, :] = c
            reasons.add(DECILE_REASON)
            if np.isnan(c).any():
                reasons.add(ind.nan_reason or _default_reason(ind))
        elif ind.kind == "ratio":
            with np.errstate(divide="ignore", invalid="ignore"):
                num = _sum_terms(ind.numerator, hh_sums, person_sums, hh_index, person_index)
                if ind.denominator:
                    den = _sum_terms(ind.denominator, hh_sums, person_sums, hh_index,
                                     person_index)
                    value = np.where(den != 0, ind.scale * num / np.where(den != 0, den, 1.0),
                                     np.nan)
                else:
                    value = ind.scale * num
            value = np.broadcast_to(value, shape).astype(np.float64)
            if np.isnan(value).any():
                reasons.add(ind.nan_reason or _default_reason(ind))
        elif ind.kind == "carried":
            value = np.full(shape, np.nan)      # filled across the years (engine/funds.py)
            reasons.add(ind.nan_reason)
        else:
            if hh_bins is None:
                hh_bins = bin_margins(hh)
            c, bound = _rank_indicator(ind, hh_bins, hh_index)
            low, high = RANK_RANGE[ind.kind]
            outside = np.isfinite(c) & ((c < low) | (c > high))
            if outside.any():
                # Only a variable with negative values (income net of out-of-pocket spending
                # below zero) takes an index out of its range: NaN, with the reason.
                c = np.where(outside, np.nan, c)
                bound = np.where(outside, np.nan, bound)
                reasons.add(f"the index would leave its range [{low:g}, {high:g}] (the "
                            "variable takes negative values in the group)")
            value = np.full(shape, np.nan)
            value[:, N_QUINTILES, :] = ind.scale * c
            b = np.full(shape, np.nan)
            b[:, N_QUINTILES, :] = ind.scale * bound
            out.bounds[ind.name] = b
            reasons.add(QUINTILE_REASON)
            if np.isnan(c).any():
                reasons.add(ind.nan_reason or "the group has no persons or the variable sums "
                            "to zero")
        for need in ind.needs:
            if not available[need]:
                value = np.full(shape, np.nan)
                reasons.add(NEED_REASON[need])
        out.values[ind.name] = value
        if reasons:
            out.reasons[ind.name] = reasons
    return out


def _default_reason(ind: Indicator) -> str:
    terms = " + ".join(f"{'-' if t.sign < 0 else ''}{t.table}:{t.stat}" for t in ind.denominator)
    return f"the group's denominator ({terms}) is zero"


def compute(catalogue: Catalogue, layout: Layout, acc: Accumulators, replicate: int = 0,
            funds: FundInputs | None = None) -> dict[str, np.ndarray]:
    """Every indicator for one (scenario, replicate): arrays (3 residence, 6 quintile, 6 status)."""
    return compute_all(catalogue, layout, acc, replicate, funds).values
