"""One-way sensitivity: which assumptions drive the answers.

Takes: an experiment and a groups file (`sensitivity/groups.yaml`, docs/sensitivity.md): groups
of assumption parameters, each moved to a low and a high setting. Gives: a `Sensitivity`:
the headline indicators of the experiment's baseline scenario at the stated values (base) and
with each group at its low and its high setting, one group moved at a time, and the tornado
table of each indicator (groups sorted by swing, largest first); `write_sensitivity` writes it
atomically as `sensitivity.json` beside the results.

Method. The baseline scenario (the experiment's first) runs once as the files state it, then
twice per group with that group's parameters moved (`microsim.calibrate.params.with_parameters`:
`scale` multiplies every number under a key, `shift` adds to it) and every other value as
stated. Every run uses the experiment's seed, so every run sees the same people and the same
illnesses (common random numbers): a difference between two runs is the effect of the moved
group, not sampling noise. A value is the mean over replicates in the whole population. The
swing of a group is the largest minus the smallest of its low, base and high values (so a
group that moves an indicator the same way at both ends is not understated). Only values whose
source is `assumption` or a calibration may be moved (`calibrate.targets.is_free_source`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Literal

from pydantic import Field, model_validator

from microsim.calibrate.params import Parameter, has_key, with_parameters
from microsim.calibrate.targets import is_free_source
from microsim.errors import InputError, RunError
from microsim.experiment import Experiment, ReportConfig
from microsim.schema import Strict, validate_tree
from microsim.yamltree import Tree, dotted, load_tree

DEFAULT_GROUPS = Path(__file__).resolve().parents[1] / "sensitivity" / "groups.yaml"
RESULT_NAME = "sensitivity.json"
FIRST_LINE = "impoverished"      # stands for impoverished_<the experiment's first poverty line>
Finite = Annotated[float, Field(allow_inf_nan=False)]


class GroupParameter(Strict):
    """An input moved between a low and a high end around its stated value."""

    input: Literal["population", "policy"]
    """The file it changes: the experiment's `population` spec or its `policy`."""
    key: str | Annotated[list[str], Field(min_length=1)]
    """The dotted key (or keys, moved together) it changes."""
    mode: Literal["scale", "shift"]
    """`scale`: multiplies the stated value; `shift`: adds to it."""
    low: Finite
    """The low end: below 1 (scale) or 0 (shift)."""
    high: Finite
    """The high end: above 1 (scale) or 0 (shift)."""

    @model_validator(mode="after")
    def _around_the_stated_value(self):
        stated = 1.0 if self.mode == "scale" else 0.0
        if not self.low < stated < self.high:
            raise ValueError(f"a {self.mode} parameter needs low < {stated:g} < high "
                             f"(got low {self.low}, high {self.high})")
        if self.mode == "scale" and self.low <= 0:
            raise ValueError("a scale factor must be positive")
        return self

    @property
    def keys(self) -> list[str]:
        return [self.key] if isinstance(self.key, str) else list(self.key)


class Group(Strict):
    """Inputs moved together in a sensitivity run."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    """The group's name (lower-case letters, digits and '_')."""
    label: str
    """The group's name in English tables."""
    label_zh: str
    """The group's name in Chinese tables."""
    note: str
    """Why the range is what it is."""
    parameters: Annotated[list[GroupParameter], Field(min_length=1)]
    """The inputs moved together."""


class GroupsFile(Strict):
    """The groups of a sensitivity analysis (`microsim sensitivity`)."""

    indicators: Annotated[list[str], Field(min_length=1)]
    """The indicators whose change is reported."""
    groups: Annotated[list[Group], Field(min_length=1)]
    """Groups of inputs moved together, one at a time."""

    @model_validator(mode="after")
    def _unique(self):
        names = [g.name for g in self.groups]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"group names must be unique; repeated: {repeated}")
        return self


@dataclass(frozen=True)
class Row:
    """One group's effect on one indicator."""

    group: str
    low: float
    base: float
    high: float

    @property
    def swing(self) -> float:
        values = [v for v in (self.low, self.base, self.high) if math.isfinite(v)]
        return max(values) - min(values) if len(values) > 1 else math.nan


@dataclass
class Sensitivity:
    experiment: str
    scenario: str
    households: int
    replicates: int
    seed: int
    groups_file: str
    groups: list[Group]
    """Groups of inputs moved together, one at a time."""
    indicators: dict[str, dict]            # name -> units, long_name, long_name_zh
    """The indicators whose change is reported."""
    base: dict[str, float]
    low: dict[str, dict[str, float]]       # group -> indicator -> value
    high: dict[str, dict[str, float]]
    seconds: float = 0.0

    def tornado(self, indicator: str) -> list[Row]:
        """The groups' rows for one indicator, largest swing first (NaN swings last)."""
        rows = [Row(g.name, self.low[g.name][indicator], self.base[indicator],
                    self.high[g.name][indicator]) for g in self.groups]
        return sorted(rows, key=lambda r: (not math.isfinite(r.swing),
                                           -r.swing if math.isfinite(r.swing) else 0.0))

    def to_json(self) -> dict:
        return {
            "experiment": self.experiment, "scenario": self.scenario,
            "households": self.households, "replicates": self.replicates, "seed": self.seed,
            "groups_file": self.groups_file, "seconds": round(self.seconds, 1),
            "method": "one group moved at a time to its low and high setting, all others as "
                      "stated, same seed (common random numbers); values are means over "
                      "replicates in the whole population; swing = max - min of low, base, high",
            "indicators": self.indicators,
            "groups": [g.model_dump() for g in self.groups],
            "base": self.base, "low": self.low, "high": self.high,
            "tornado": {ind: [dataclasses.asdict(r) | {"swing": r.swing} for r in self.tornado(ind)]
                        for ind in self.indicators},
        }


def load_groups(path: str | Path) -> tuple[Path, GroupsFile]:
    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(path, "sensitivity groups file not found (--groups names it)")
    tree = load_tree(path, "sensitivity groups file")
    return path, validate_tree(GroupsFile, tree, "sensitivity groups file")


def with_ranges(path: Path, groups: GroupsFile, low: dict[str, float],
                high: dict[str, float]) -> GroupsFile:
    """The groups with some groups' low or high setting replaced (`--low NAME=X`): every
    parameter of such a group gets the new setting, so its parameters must share one mode."""
    by_name = {g.name: g for g in groups.groups}
    for name in list(low) + list(high):
        if name not in by_name:
            raise InputError(path, f"--low/--high name no group {name!r} (groups: "
                             f"{', '.join(by_name)})", key="groups")
        if len({p.mode for p in by_name[name].parameters}) > 1:
            raise InputError(path, f"group {name!r} mixes scale and shift parameters; set its "
                             "range in the file, not with --low/--high", key="groups")
    new_groups = []
    for g in groups.groups:
        params = []
        for p in g.parameters:
            data = p.model_dump()
            data["low"] = low.get(g.name, p.low)
            data["high"] = high.get(g.name, p.high)
            try:
                params.append(GroupParameter.model_validate(data))
            except ValueError as exc:
                raise InputError(path, f"--low/--high for group {g.name!r}: "
                                 f"{exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}",
                                 key="groups") from None
        new_groups.append(g.model_copy(update={"parameters": params}))
    return groups.model_copy(update={"groups": new_groups})


def _tree_of(exp: Experiment, input_: str) -> Tree:
    if input_ == "population":
        if exp.population is None:
            raise InputError(exp.path, "the sensitivity groups move the population spec, and "
                             "the experiment has none")
        return exp.population.tree
    return exp.scenarios[0].policy.tree


def parameters(exp: Experiment, groups_path: Path, groups: GroupsFile
               ) -> dict[str, list[tuple[Parameter, float, float]]]:
    """Each group's parameters with their low and high settings, after checking that every
    key exists in the experiment's inputs and is free to move (an assumption or a calibration)."""
    out = {}
    for gi, g in enumerate(groups.groups):
        moves = []
        for pi, p in enumerate(g.parameters):
            where = f"groups.{gi}.parameters.{pi}"
            tree = _tree_of(exp, p.input)
            keys = tuple(tuple(k.split(".")) for k in p.keys)
            for key in keys:
                if not has_key(tree, key):
                    file = exp.population.path if p.input == "population" else \
                        exp.scenarios[0].policy.files[0]
                    raise InputError(groups_path, f"group {g.name!r} moves '{dotted(key)}', which "
                                     f"the {p.input} ({file}) does not have", key=where)
                src = next((s for k, s in tree.sources.items() if k and k == key[: len(k)]), None)
                if src is None:
                    raise InputError(tree.file_of(key), f"group {g.name!r} ({groups_path}, "
                                     f"{where}) names a value that states no source; only "
                                     "assumptions may be moved", key=dotted(key))
                if not is_free_source(src.source):
                    raise InputError(src.file, f"group {g.name!r} ({groups_path}, {where}) may "
                                     f"not move this value: it is cited (source: {src.source!r}); "
                                     "a sensitivity analysis moves only values whose source is "
                                     "'assumption' or a calibration", key=dotted(key))
            moves.append((Parameter(f"{g.name}.{pi}", p.input, keys, p.mode, p.low, p.high),
                          p.low, p.high))
        out[g.name] = moves
    return out


def baseline_only(exp: Experiment, households: int | None = None,
                  replicates: int | None = None) -> Experiment:
    """The experiment with its baseline scenario alone (no targets or report sections, which
    may name other scenarios), optionally with another size or number of replicates. A
    projection is reduced to its first simulated year (the year its inputs describe)."""
    pop = exp.file.population
    if households is not None:
        if exp.source is not None:
            raise InputError(exp.path, "--households cannot resize a microdata population")
        pop = pop.model_copy(update={"households": households})
    update = {"scenarios": exp.file.scenarios[:1], "targets": [], "report": ReportConfig(),
              "population": pop, "until": None}
    if replicates is not None:
        update["replicates"] = replicates
    return dataclasses.replace(exp, file=exp.file.model_copy(update=update),
                               scenarios=exp.scenarios[:1])


def indicator_names(exp: Experiment, groups: GroupsFile) -> list[str]:
    first = exp.poverty_lines()[0][0]
    return [f"impoverished_{first}" if n == FIRST_LINE else n for n in groups.indicators]


def _values(ds, names: list[str]) -> dict[str, float]:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise RunError(f"the sensitivity groups file names indicator {missing[0]!r}, which the "
                       "run does not compute (docs/indicators.md lists them)")
    cell = {d: "all" for d in ("residence", "quintile", "status") if d in ds.dims}
    return {n: float(ds[n].sel(scenario=ds.scenario.values[0], **cell).mean("replicate"))
            for n in names}


def sensitivity(exp: Experiment, groups_path: str | Path = DEFAULT_GROUPS, *,
                households: int | None = None, replicates: int | None = None,
                only: list[str] | None = None, low: dict[str, float] | None = None,
                high: dict[str, float] | None = None, scheduler: str | None = None,
                log: Callable[[str], None] = lambda _m: None) -> Sensitivity:
    """Run the one-way sensitivity analysis of `exp`'s baseline scenario (module docstring)."""
    from microsim.engine.run import run

    start = time.perf_counter()
    path, groups = load_groups(groups_path)
    if low or high:
        groups = with_ranges(path, groups, low or {}, high or {})
    if only:
        unknown = [n for n in only if n not in {g.name for g in groups.groups}]
        if unknown:
            raise InputError(path, f"no group {unknown[0]!r} (groups: "
                             f"{', '.join(g.name for g in groups.groups)})", key="groups")
        groups = groups.model_copy(update={"groups": [g for g in groups.groups if g.name in only]})
    base_exp = baseline_only(exp, households, replicates)
    moves = parameters(base_exp, path, groups)
    names = indicator_names(base_exp, groups)
    log(f"base: {base_exp.scenarios[0].name}, {base_exp.households:,} households x "
        f"{base_exp.file.replicates} replicate(s)")
    ds = run(base_exp, write=False, scheduler=scheduler)
    base = _values(ds, names)
    info = {n: {"units": ds[n].attrs.get("units", ""), "long_name": ds[n].attrs.get("long_name", n),
                "long_name_zh": ds[n].attrs.get("long_name_zh", n)} for n in names}
    low, high = {}, {}
    for g in groups.groups:
        for side, store in (("low", low), ("high", high)):
            setting = [(p, lo if side == "low" else hi) for p, lo, hi in moves[g.name]]
            log(f"{g.name}: {side}")
            store[g.name] = _values(run(with_parameters(base_exp, setting), write=False,
                                        scheduler=scheduler), names)
    return Sensitivity(exp.name, base_exp.scenarios[0].name, base_exp.households,
                       base_exp.file.replicates, base_exp.file.seed, str(path), groups.groups,
                       info, base, low, high, time.perf_counter() - start)


def write_sensitivity(result: Sensitivity, folder: Path) -> Path:
    """Write `sensitivity.json` into `folder` atomically (a temporary name, then a rename)."""
    target = Path(folder) / RESULT_NAME
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1,
                                  allow_nan=True), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RunError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def read_sensitivity(folder: Path) -> dict | None:
    """The sensitivity file in a results folder, or None when there is none (or it is not
    one that `write_sensitivity` wrote)."""
    path = Path(folder) / RESULT_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "tornado" in data and "groups" in data else None
