"""Fitting: the free parameters that bring the model's quantities to a target set's fitted
targets, on common random numbers.

Takes: a `TargetSet`. Gives: a `Fit`: each parameter's start, fitted value and bounds, each
target's model value and error (fitted and held-out alike), and how many model runs it took.

Method. Every evaluation runs the target set's experiment in memory with the parameters set
(`params.with_parameters`), always with the experiment's seed, so every evaluation sees the
same people and the same illnesses: the model is then a deterministic function of the
parameters, and the fit is too (same targets, same seed, same start: the same values, bit
for bit). The fit minimises the sum of squared scaled errors, (model - target) / tolerance,
over the fitted targets, within the parameters' bounds, by scipy's trust-region reflective
least squares with forward differences of 1% of each parameter (`DIFF_STEP`), starting from
each parameter's stated start. A target is within tolerance when |model - target| is at
most its tolerance; held-out targets never enter the sum.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from microsim.calibrate.params import with_parameters
from microsim.calibrate.targets import Target, TargetSet
from microsim.errors import RunError

DIFF_STEP = 0.01        # forward-difference step, relative to max(1, |parameter|)
STOP_TOLERANCE = 1e-6   # relative change of the cost or the parameters at which the fit stops


@dataclass(frozen=True)
class TargetResult:
    target: Target
    model: float

    @property
    def error(self) -> float:
        return self.model - self.target.spec.target

    @property
    def relative_error(self) -> float:
        t = self.target.spec.target
        return self.error / abs(t) if t else float("nan")

    @property
    def scaled(self) -> float:
        """Error in tolerances: within tolerance when its size is at most 1."""
        return self.error / self.target.spec.tolerance.width(self.target.spec.target)

    @property
    def within(self) -> bool:
        return math.isfinite(self.model) and abs(self.scaled) <= 1.0 + 1e-12


@dataclass(frozen=True)
class Fit:
    targets: TargetSet
    values: tuple[float, ...]          # fitted (or, for a check, current) parameter values
    results: tuple[TargetResult, ...]
    evaluations: int
    seconds: float

    def by_role(self, role: str) -> list[TargetResult]:
        return [r for r in self.results if r.target.spec.role == role]


def quantities(ts: TargetSet, ds) -> list[float]:
    """Each target's model value in a results Dataset: the scenario's mean over replicates
    in the target's group."""
    scenario = ds["scenario"].values[ts.scenario]
    out = []
    for t in ts.targets:
        if t.spec.indicator not in ds:
            raise RunError(f"{ts.path}: target {t.name!r} needs indicator "
                           f"{t.spec.indicator!r}, which the run did not compute")
        da = ds[t.spec.indicator].sel(scenario=scenario)
        for dim in ("residence", "quintile", "status"):
            if dim in da.dims:
                da = da.sel({dim: getattr(t.spec.select, dim)})
        out.append(float(da.mean("replicate")))
    return out


def evaluate(ts: TargetSet, x, scheduler: str | None = None) -> list[float]:
    """The model value of every target with the parameters at `x`."""
    from microsim.engine.run import run
    exp = with_parameters(ts.experiment, list(zip(ts.parameters, (float(v) for v in x))))
    ds = run(exp, write=False, scheduler=scheduler)
    return quantities(ts, ds)


def check(ts: TargetSet, scheduler: str | None = None) -> Fit:
    """Every target against the model as the files stand (no parameter moved)."""
    start = time.perf_counter()
    from microsim.engine.run import run
    values = quantities(ts, run(ts.experiment, write=False, scheduler=scheduler))
    return Fit(ts, tuple(float("nan") for _ in ts.parameters),
               tuple(TargetResult(t, v) for t, v in zip(ts.targets, values)), 1,
               time.perf_counter() - start)


def fit(ts: TargetSet, scheduler: str | None = None,
        log: Callable[[str], None] = lambda _m: None) -> Fit:
    """Fit the parameters to the fitted targets (method in the module docstring)."""
    from scipy.optimize import least_squares

    start = time.perf_counter()
    fitted = [i for i, t in enumerate(ts.targets) if t.spec.role == "fit"]
    widths = np.array([ts.targets[i].spec.tolerance.width(ts.targets[i].spec.target)
                       for i in fitted])
    goals = np.array([ts.targets[i].spec.target for i in fitted])
    cache: dict[tuple[float, ...], list[float]] = {}

    def model(x) -> list[float]:
        key = tuple(float(v) for v in x)
        if key not in cache:
            cache[key] = evaluate(ts, key, scheduler)
            worst = max(abs(cache[key][i] - g) / w for i, g, w in zip(fitted, goals, widths))
            log(f"run {len(cache)}: largest error {worst:.2f} tolerances")
        return cache[key]

    def residuals(x) -> np.ndarray:
        values = model(x)
        r = (np.array([values[i] for i in fitted]) - goals) / widths
        if not np.all(np.isfinite(r)):
            bad = next(ts.targets[i].name for i, v in zip(fitted, r) if not np.isfinite(v))
            raise RunError(f"{ts.path}: target {bad!r} is not a number at parameters "
                           f"{dict(zip((p.name for p in ts.parameters), key_of(x)))}")
        return r

    lo = np.array([p.lower for p in ts.parameters])
    hi = np.array([p.upper for p in ts.parameters])
    x0 = np.clip(np.array(ts.starts, dtype=float), lo, hi)
    if ts.parameters:
        sol = least_squares(residuals, x0, bounds=(lo, hi), method="trf", jac="2-point",
                            diff_step=DIFF_STEP, x_scale="jac", ftol=STOP_TOLERANCE,
                            xtol=STOP_TOLERANCE, gtol=STOP_TOLERANCE,
                            max_nfev=ts.file.max_evaluations)
        x = tuple(float(v) for v in sol.x)
    else:
        x = ()
    values = model(x) if x else evaluate(ts, x, scheduler)
    return Fit(ts, x, tuple(TargetResult(t, v) for t, v in zip(ts.targets, values)),
               max(len(cache), 1), time.perf_counter() - start)


def key_of(x) -> tuple[float, ...]:
    return tuple(float(v) for v in x)
