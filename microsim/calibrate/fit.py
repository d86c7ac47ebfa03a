"""Fitting: the free parameters that bring the model's quantities to a target set's fitted
targets, on common random numbers.

Takes: a `TargetSet`. Gives: a `Fit`: each parameter's start, fitted value and bounds, each
target's model value and error (fitted and held-out alike), and how many model runs it took.

Method. Every evaluation runs the target set's experiment in memory with the parameters set
(`params.with_parameters`), always with the experiment's seed, so every evaluation sees the
same people and the same illnesses: the model is then a deterministic function of the
parameters, and the fit is too (same targets, same seed, same start: the same values, bit
for bit). The fit minimises the sum of squared scaled errors, (model - target) / tolerance,
over the fitted targets (role `fit`), plus a weak pull of each parameter towards its start,
`PULL` x (x - start) / (upper - lower), which decides between parameters that the targets
cannot tell apart and otherwise costs at most PULL^2 per parameter. It uses scipy's
trust-region reflective least squares within the parameters' bounds, starting from each
parameter's stated start, with a forward-difference Jacobian whose step is `DIFF_STEP` of
each parameter's bound width (stepping down where up would leave the bounds), and at most
the target file's `max_evaluations` model runs. A target is within tolerance when
|model - target| is at most its tolerance. Held-out targets (`holdout`) and targets that
follow from fitted ones (`implied`, such as a total of fitted parts) never enter the sum.
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

DIFF_STEP = 0.01        # forward-difference step, as a share of the parameter's bound width
STOP_TOLERANCE = 1e-6   # relative change of the cost or the parameters at which the fit stops
PULL = 0.05             # weight of the pull towards the start, per bound width


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


class _Budget(Exception):
    """The fit used every model run the target file allows."""


def fit(ts: TargetSet, scheduler: str | None = None,
        log: Callable[[str], None] = lambda _m: None) -> Fit:
    """Fit the parameters to the fitted targets (method in the module docstring)."""
    from scipy.optimize import least_squares

    start = time.perf_counter()
    fitted = [i for i, t in enumerate(ts.targets) if t.spec.role == "fit"]
    widths = np.array([ts.targets[i].spec.tolerance.width(ts.targets[i].spec.target)
                       for i in fitted])
    goals = np.array([ts.targets[i].spec.target for i in fitted])
    lo = np.array([p.lower for p in ts.parameters])
    hi = np.array([p.upper for p in ts.parameters])
    x0 = np.clip(np.array(ts.starts, dtype=float), lo, hi)
    steps = DIFF_STEP * (hi - lo)
    cache: dict[tuple[float, ...], list[float]] = {}
    best: list = [None, math.inf]

    def model(x) -> list[float]:
        key = key_of(x)
        if key not in cache:
            if len(cache) >= ts.file.max_evaluations:
                raise _Budget
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
        out = np.concatenate([r, PULL * (np.asarray(x) - x0) / (hi - lo)])
        cost = float(out @ out)
        if cost < best[1]:
            best[0], best[1] = key_of(x), cost
        return out

    def jacobian(x) -> np.ndarray:
        base = residuals(x)
        jac = np.empty((base.size, len(x)))
        for k in range(len(x)):
            step = steps[k] if x[k] + steps[k] <= hi[k] else -steps[k]
            moved = np.array(x, dtype=float)
            moved[k] += step
            jac[:, k] = (residuals(moved) - base) / step
        return jac

    if ts.parameters:
        try:
            sol = least_squares(residuals, x0, jac=jacobian, bounds=(lo, hi), method="trf",
                                x_scale="jac", ftol=STOP_TOLERANCE, xtol=STOP_TOLERANCE,
                                gtol=STOP_TOLERANCE, max_nfev=ts.file.max_evaluations)
            x = key_of(sol.x)
            end = residuals(x)
            if end @ end > best[1]:
                x = best[0]
        except _Budget:
            log(f"stopped after {len(cache)} runs (max_evaluations): the best point so far "
                "is kept")
            x = best[0]
    else:
        x = ()
    values = model(x) if x else evaluate(ts, x, scheduler)
    return Fit(ts, x, tuple(TargetResult(t, v) for t, v in zip(ts.targets, values)),
               max(len(cache), 1), time.perf_counter() - start)


def key_of(x) -> tuple[float, ...]:
    return tuple(float(v) for v in x)
