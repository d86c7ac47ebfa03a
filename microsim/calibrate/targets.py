"""Calibration target files: published figures, the model quantity each maps to, and the
free parameters a calibration may move to reproduce them.

Takes: a target file path (YAML). Gives: a validated `TargetSet`: the experiment that
defines the model run (population, policy, size, seed), the free parameters with their
bounds and starting values, and the targets, each with its published value, tolerance,
role (`fit`: used by the fit; `implied`: follows from fitted targets, such as a total of
fitted parts, and is reported with them but not fitted twice; `holdout`: kept out of the fit
and reported as validation),
source row and grade, and how its definition is aligned with the model's.

    name: national_2023
    experiment: ../experiments/calibration/national_2023.yaml
    scenario: baseline
    parameters:
      - name: urrbmi_admissions
        input: population
        key: health.inpatient.scheme_factor.urrbmi
        start: 1.0
        bounds: [0.5, 1.5]
        note: why this number is free and what it stands for
    targets:
      - name: admissions_per_enrollee_urrbmi
        indicator: admissions_per_insured_urrbmi
        target: {value: 20.7, source: "reference/national-aggregates.md (...)"}
        grade: B
        tolerance: {relative: 0.03}
        role: fit
        definition: how the published figure and the model quantity are made to agree

A parameter may move only numbers that no document fixes: every key it names must say
`source: assumption` or name a calibration in its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from microsim.calibrate.params import Parameter, has_key
from microsim.errors import InputError
from microsim.experiment import Experiment, FocusSelect, load_experiment
from microsim.schema import Strict, validate_tree
from microsim.yamltree import Tree, dotted, load_tree

Finite = Annotated[float, Field(allow_inf_nan=False)]
CALIBRATION_SOURCE = "calibration"


class Tolerance(Strict):
    """How close the model must come: a share of the target (`relative`) or an absolute
    difference in the indicator's own unit (`absolute`, e.g. percentage points)."""

    relative: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """How close, as a share of the target."""
    absolute: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """How close, as a difference in the indicator's own unit (e.g. percentage points)."""

    @model_validator(mode="after")
    def _one(self):
        if (self.relative is None) == (self.absolute is None):
            raise ValueError("give either 'relative' or 'absolute'")
        return self

    def width(self, target: float) -> float:
        return self.absolute if self.absolute is not None else self.relative * abs(target)


class TargetSpec(Strict):
    """A published figure the model is compared with or fitted to."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    """The target's name (lower-case letters, digits and '_')."""
    indicator: str
    """The indicator compared (docs/indicators.md)."""
    select: FocusSelect = FocusSelect()
    """The group it is compared in (default: all)."""
    target: Finite
    """The published value, in the indicator's unit."""
    grade: Literal["A", "A/B", "B", "B/C", "C", "derived", "assumption"]
    """How good the source is: A, A/B, B, B/C, C, derived or assumption
    (reference/calibration-inputs.md)."""
    tolerance: Tolerance
    """How close the model must come: `relative` or `absolute`."""
    role: Literal["fit", "implied", "holdout"]
    """`fit`: the fit aims at it; `implied`: follows from fitted ones; `holdout`: checked, never
    fitted."""
    definition: str = ""
    """What the published figure counts, where it differs from the indicator."""
    label_zh: str = ""
    """The target's name in Chinese."""


class ParameterSpec(Strict):
    """An input value the fit moves within bounds."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    """The parameter's name (lower-case letters, digits and '_')."""
    input: Literal["population", "policy"]
    """The file it changes: the experiment's `population` spec or its `policy`."""
    key: str | Annotated[list[str], Field(min_length=1)]
    """The dotted key (or keys, moved together) it sets in that file."""
    mode: Literal["value", "scale", "shift"] = "value"
    """`value`: sets the key; `scale`: multiplies the levels in `base`; `shift`: adds to them."""
    start: Finite | None = None
    """The value the fit starts from (value mode only): the number before any calibration."""
    bounds: Annotated[list[Finite], Field(min_length=2, max_length=2)]
    """[lower, upper] of the fitted value (a factor in scale mode, an addition in shift mode)."""
    note: str
    """Why the parameter is fitted, and what stands in for the figure that is not published."""
    note_zh: str = ""
    """The note in Chinese, written back beside `note` for the Chinese report."""

    @model_validator(mode="after")
    def _consistent(self):
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError("bounds must be [lower, upper] with lower < upper")
        start = {"scale": 1.0, "shift": 0.0}.get(self.mode, self.start)
        if start is None:
            raise ValueError("a value-mode parameter needs 'start': the value the fit starts "
                             "from (the number before any calibration)")
        if self.mode != "value" and self.start is not None:
            raise ValueError(f"a {self.mode}-mode parameter starts at {start:g} (from the "
                             "levels in 'base'); drop 'start'")
        if not lo <= start <= hi:
            raise ValueError(f"start {start} lies outside the bounds [{lo}, {hi}]")
        return self

    @property
    def keys(self) -> list[str]:
        return [self.key] if isinstance(self.key, str) else list(self.key)


class TargetFile(Strict):
    """A calibration: the inputs fitted and the published figures they are fitted to (`microsim
    calibrate`)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    """The calibration's name (lower-case letters, digits and '_')."""
    description: str = ""
    """What is fitted to what, and what missed."""
    experiment: str
    """The experiment run at each evaluation (relative to this file)."""
    scenario: str | None = None
    """The scenario the targets are read in; absent: the first."""
    parameters: list[ParameterSpec] = []
    """The inputs the fit moves."""
    base: dict[str, float | list[float]] = {}   # scale/shift levels before calibration, by key
    """Levels before calibration of scale- and shift-mode keys, by key (written by `--write`)."""
    targets: Annotated[list[TargetSpec], Field(min_length=1)]
    """The published figures compared or fitted."""
    max_evaluations: Annotated[int, Field(ge=1, le=10_000)] = 200
    """The most runs the fit may take."""


@dataclass(frozen=True)
class Target:
    spec: TargetSpec
    source: str
    note: str

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class TargetSet:
    path: Path
    file: TargetFile
    experiment: Experiment
    """The experiment run at each evaluation (relative to this file)."""
    scenario: int
    """The scenario the targets are read in; absent: the first."""
    parameters: tuple[Parameter, ...]
    """The inputs the fit moves."""
    starts: tuple[float, ...]
    targets: tuple[Target, ...]
    """The published figures compared or fitted."""
    tree: Tree

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def source_label(self) -> str:
        """What a fitted value's `source:` says."""
        return f"{CALIBRATION_SOURCE} {self.name} ({self.relative_path})"

    @property
    def relative_path(self) -> str:
        try:
            return str(self.path.relative_to(self.path.parents[1]))
        except ValueError:
            return str(self.path)


def is_free_source(source: str) -> bool:
    """A value a calibration may move: an assumption, or a previous calibration's fit."""
    return source == "assumption" or source.startswith(CALIBRATION_SOURCE + " ")


def _check_free(exp: Experiment, param: Parameter, tree: Tree, where: str) -> None:
    for key in param.keys:
        cited = [k for k in tree.sources if k and k == key[: len(k)]]
        src = tree.sources[max(cited, key=len)] if cited else None
        if src is None:
            raise InputError(tree.file_of(key), f"parameter {param.name!r} ({where}) names a "
                             "value that states no source", key=dotted(key))
        if not is_free_source(src.source):
            raise InputError(src.file, f"parameter {param.name!r} may not move this value: it "
                             f"is cited (source: {src.source!r}); a calibration moves only "
                             "values whose source is 'assumption' or a calibration",
                             key=dotted(key))


def load_targets(path: str | Path) -> TargetSet:
    """Load and check a target file, its experiment, parameters and indicators."""
    path = Path(path).resolve()
    tree = load_tree(path, "calibration target file")
    raw = validate_tree(TargetFile, tree, "calibration target file")
    try:
        exp_path = (path.parent / raw.experiment).resolve()
    except (OSError, ValueError) as exc:
        raise InputError(path, f"experiment is not a usable path ({exc})", key="experiment") \
            from None
    if not exp_path.is_file():
        raise InputError(path, f"experiment not found: {exp_path}", key="experiment")
    exp = load_experiment(exp_path)
    if exp.projection:
        raise InputError(path, f"a calibration fits one year, and {exp_path} is a projection "
                         f"({exp.file.year}-{exp.file.until}); name a one-year experiment",
                         key="experiment")
    names = [s.name for s in exp.scenarios]
    scenario = 0
    if raw.scenario is not None:
        if raw.scenario not in names:
            raise InputError(path, f"the experiment has no scenario {raw.scenario!r} "
                             f"(scenarios: {', '.join(names)})", key="scenario")
        scenario = names.index(raw.scenario)
    for dupes, what in (([p.name for p in raw.parameters], "parameter"),
                        ([t.name for t in raw.targets], "target")):
        repeated = sorted({n for n in dupes if dupes.count(n) > 1})
        if repeated:
            raise InputError(path, f"{what} names must be unique; repeated: {repeated}",
                             key=f"{what}s")
    params, starts = [], []
    for i, p in enumerate(raw.parameters):
        keys = tuple(tuple(k.split(".")) for k in p.keys)
        param = Parameter(p.name, p.input, keys, p.mode, p.bounds[0], p.bounds[1],
                          {k: raw.base[dotted(k)] for k in keys if dotted(k) in raw.base})
        if p.mode != "value":
            missing = [dotted(k) for k in keys if dotted(k) not in raw.base]
            if missing:
                raise InputError(path, f"parameter {p.name!r} scales '{missing[0]}', whose "
                                 "level before calibration must be recorded under 'base'",
                                 key=f"parameters.{i}")
        trees = ([exp.population.tree] if p.input == "population" and exp.population
                 else [s.policy.tree for s in exp.scenarios])
        found = [t for t in trees if all(has_key(t, k) for k in keys)]
        if not found:
            raise InputError(path, f"the experiment's {p.input} has no key '{dotted(keys[0])}'",
                             key=f"parameters.{i}.key")
        for t in found:
            _check_free(exp, param, t, f"parameters.{i}")
        params.append(param)
        starts.append({"scale": 1.0, "shift": 0.0}.get(p.mode, p.start))
    targets = []
    for i, t in enumerate(raw.targets):
        src = tree.sources.get(("targets", str(i), "target"))
        if src is None:
            raise InputError(path, "a target's value must cite its source: "
                             "target: {value: ..., source: ...}", key=f"targets.{i}.target")
        targets.append(Target(t, src.source, src.note or ""))
    if not any(t.spec.role == "fit" for t in targets) and params:
        raise InputError(path, "parameters need at least one target with role: fit",
                         key="targets")
    return TargetSet(path, raw, exp, scenario, tuple(params), tuple(starts), tuple(targets), tree)


