"""Calibration: fit the income shapes of a spec to its income targets, in closed form.

Takes: a population spec whose `targets` include household medians
(`income_median`) and NBS quintile means (`income_quintile_mean`). Gives: a
`Fit` with the shapes (a, q, size elasticity) of each residence that bring the
model's exact statistics (`income.IncomeModel`) closest to those targets, the
errors that remain, and the YAML fragment to paste into the spec with its
sources. Means are matched exactly by construction (the scale follows the
mean), so they are not fitted.

The objective is the 8-norm of the relative errors (close to minimising the
largest error), plus a small pull towards the spec's current shapes so that a
spec with few income targets (a region with medians only) keeps the shapes it
inherits except where its targets say otherwise. Nelder-Mead from the current
shapes; deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from microsim.errors import InputError
from microsim.population.income import RES, income_model
from microsim.population.spec import PopulationSpec

FITTED = ("income_median", "income_quintile_mean")
BOUNDS = [(0.5, 20.0), (0.3, 60.0), (-1.5, 1.0)]
PULL = 1e-3       # weight of the pull towards the current shapes (relative to 1% errors)


@dataclass(frozen=True)
class Fit:
    shapes: dict[str, tuple[float, float, float]]   # residence -> (a, q, size elasticity)
    rows: list[tuple[str, float, float, float]]      # (target name, target, fitted value, rel. error)

    def yaml(self, spec: PopulationSpec, names: list[str]) -> str:
        sources = sorted({spec.tree.sources[("targets", str(i), "target")].source
                          for i, t in enumerate(spec.data.targets)
                          if t.name in names and ("targets", str(i), "target") in spec.tree.sources})
        source = "; ".join(sources)
        note = (f"Fitted by `microsim population calibrate` to {', '.join(names)}; "
                f"largest remaining error {max(abs(r[3]) for r in self.rows):.2%}.")
        lines = ["income:"]
        for name in RES:
            a, q, e = self.shapes[name]
            lines.append(f"  {name}:")
            for key, value in (("shape_a", a), ("shape_q", q), ("size_elasticity", e)):
                lines.append(f"    {key}: {{value: {value:.4f}, source: \"{source}\", note: \"{note}\"}}")
        return "\n".join(lines)


def _statistics(spec: PopulationSpec, shapes, targets) -> np.ndarray:
    model = income_model(spec, shapes)
    cache: dict = {}
    out = []
    for t in targets:
        if t.statistic == "income_median":
            out.append(model.median(t.residence))
        else:
            if t.residence not in cache:
                cache[t.residence] = model.quintile_means(t.residence)
            out.append(cache[t.residence][int(t.quintile[1]) - 1])
    return np.array(out)


def fit_income(spec: PopulationSpec, max_iter: int = 4000) -> Fit:
    """Shapes that bring the spec's income medians and quintile means closest to target."""
    targets = [t for t in spec.data.targets if t.statistic in FITTED]
    if not targets:
        raise InputError(spec.path, "no income_median or income_quintile_mean targets to fit",
                         key="targets")
    want = np.array([t.target for t in targets])
    x0 = np.array([v for r in RES for v in (getattr(spec.data.income, r).shape_a,
                                             getattr(spec.data.income, r).shape_q,
                                             getattr(spec.data.income, r).size_elasticity)])
    lo = np.array([b[0] for b in BOUNDS] * 2)
    hi = np.array([b[1] for b in BOUNDS] * 2)

    def shapes_of(x):
        return {r: (x[3 * i], x[3 * i + 1], x[3 * i + 2]) for i, r in enumerate(RES)}

    def objective(x):
        if np.any(x < lo) or np.any(x > hi) or x[0] * x[1] <= 1.0 or x[3] * x[4] <= 1.0:
            return 1e9
        try:
            err = np.log(_statistics(spec, shapes_of(x), targets) / want) / 0.01
        except (ValueError, RuntimeError, FloatingPointError):
            return 1e9
        pull = PULL * np.sum(((x - x0) / np.maximum(np.abs(x0), 0.1)) ** 2)
        return float(np.sum(np.abs(err) ** 8) ** 0.125 + pull)

    x = x0.copy()
    for _ in range(3):   # restarts refresh the simplex, which helps Nelder-Mead in 6 dimensions
        res = optimize.minimize(objective, x, method="Nelder-Mead",
                                options=dict(maxiter=max_iter, xatol=1e-6, fatol=1e-9))
        x = res.x
    fitted = _statistics(spec, shapes_of(x), targets)
    rows = [(t.name, float(t.target), float(v), float(v / t.target - 1.0))
            for t, v in zip(targets, fitted)]
    return Fit(shapes_of(x), rows)
