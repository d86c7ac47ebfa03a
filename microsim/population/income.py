"""The income model: per-capita disposable income by residence and household size.

Takes: a validated population spec (its `residence`, `household_size` and
`income` sections). Gives: `IncomeModel`, the model in closed form: the share
of households and the Singh-Maddala scale of every (residence, size) cell, and
exact population statistics (means over persons, household medians, NBS
quintile means, shares of persons in an income zone) that calibration and
poverty-status take-up use; and `sm_quantile`, the kernel's inverse CDF.

Per-capita income y of a household of n members in residence r is
Singh-Maddala (Burr XII) distributed:

    F(y) = 1 - (1 + (y / b_rn)**a_r)**(-q_r),   b_rn = b_r * n**e_r

with e_r the size elasticity (larger households are poorer per head when
e_r < 0) and b_r set so that the mean over persons, sum_n P(n) n E[y|n] /
sum_n P(n) n, equals the spec's mean. Its mean is b Γ(1+1/a) Γ(q-1/a) / Γ(q),
finite when a q > 1; the upper tail is Pareto with index a q.

NBS conventions (see docs/populations.md): the national median and the
quintile (五等份) groups rank *households* by per-capita income; a group's
figure is its total income over its persons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from microsim.population.spec import PopulationFile, PopulationSpec

RES = ("urban", "rural")


@nb.njit(cache=True, nogil=True)
def sm_quantile(u: float, a: float, q: float) -> float:
    """Standard Singh-Maddala (scale 1) quantile: ((1-u)**(-1/q) - 1)**(1/a), stable for small u."""
    return math.exp(math.log(math.expm1(-math.log1p(-u) / q)) / a)


def sm_moment(order: float, a, q):
    """E[y**order] of a standard Singh-Maddala (scale 1); needs -a < order < a q."""
    from scipy import special   # imported here: scipy takes a second to import
    return np.exp(special.gammaln(1.0 + order / a) + special.gammaln(q - order / a)
                  - special.gammaln(q))


def sm_cdf(t, a, b, q):
    """Singh-Maddala CDF at t (broadcasts over arrays of t, a, b, q)."""
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        x = np.where(t > 0, (np.maximum(t, 1e-300) / b) ** a, 0.0)
        return np.where(np.isinf(t), 1.0, -np.expm1(-q * np.log1p(x)))


def sm_partial_mean(t, a, b, q):
    """E[y 1{y < t}] of Singh-Maddala(a, b, q) (broadcasts)."""
    t = np.asarray(t, dtype=float)
    mean = b * sm_moment(1.0, a, q)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        x = (np.maximum(t, 1e-300) / b) ** a
        z = np.where(np.isinf(x), 1.0, x / (1.0 + x))
    z = np.where(np.isinf(t), 1.0, np.where(t > 0, z, 0.0))
    from scipy import special
    return mean * special.betainc(1.0 + 1.0 / a, q - 1.0 / a, z)


def household_size_table(data: PopulationFile) -> np.ndarray:
    """(2, max size) shares of households of 1, 2, ... members, padded with zeros."""
    sizes = [np.asarray(getattr(data.household_size, r), float) for r in RES]
    width = max(s.size for s in sizes)
    out = np.zeros((2, width))
    for i, s in enumerate(sizes):
        out[i, : s.size] = s / s.sum()
    return out


def urban_household_share(data: PopulationFile) -> float:
    """Share of households that are urban, from the urban share of persons and mean sizes."""
    sizes = household_size_table(data)
    n = np.arange(1, sizes.shape[1] + 1)
    mean = sizes @ n
    share = data.residence.urban_person_share
    hu, hr = share / mean[0], (1.0 - share) / mean[1]
    return float(hu / (hu + hr)) if hu + hr > 0 else 0.0


@dataclass(frozen=True)
class IncomeModel:
    """Closed-form per-capita income of every (residence, size) cell."""

    p_urban: float            # share of households that are urban
    size_share: np.ndarray    # (2, S) P(n | r)
    a: np.ndarray             # (2,)
    q: np.ndarray             # (2,)
    scale: np.ndarray         # (2, S) b_rn

    @property
    def sizes(self) -> np.ndarray:
        return np.arange(1, self.size_share.shape[1] + 1)

    def cell_weights(self, residence: str = "all") -> np.ndarray:
        """(2, S) household shares of the cells in `residence` (all: of every household)."""
        w = self.size_share * np.array([[self.p_urban], [1.0 - self.p_urban]])
        if residence != "all":
            keep = np.zeros((2, 1))
            keep[RES.index(residence)] = 1.0
            w = w * keep
        return w / w.sum()

    def cdf(self, t: float, residence: str = "all") -> float:
        """Share of households in `residence` with per-capita income below t."""
        w = self.cell_weights(residence)
        return float((w * sm_cdf(t, self.a[:, None], self.scale, self.q[:, None])).sum())

    def household_quantile(self, p: float, residence: str = "all") -> float:
        hi = float(self.scale.max()) * 10.0
        while self.cdf(hi, residence) < p:
            hi *= 10.0
        from scipy import optimize
        return float(optimize.brentq(lambda t: self.cdf(t, residence) - p, 0.0, hi,
                                     xtol=1e-9, rtol=1e-13, maxiter=500))

    def _persons_between(self, lo: float, hi: float, residence: str, max_size: int | None,
                         income: bool) -> float:
        """Per household of `residence`: E[n 1{lo <= y < hi, n <= max_size}] (times y if income)."""
        w = self.cell_weights(residence) * self.sizes
        if max_size is not None:
            w = w * (self.sizes <= max_size)
        a, q = self.a[:, None], self.q[:, None]
        if income:
            part = sm_partial_mean(hi, a, self.scale, q) - sm_partial_mean(lo, a, self.scale, q)
        else:
            part = sm_cdf(hi, a, self.scale, q) - sm_cdf(lo, a, self.scale, q)
        return float((w * part).sum())

    def persons_per_household(self, residence: str = "all") -> float:
        return float((self.cell_weights(residence) * self.sizes).sum())

    def person_share_between(self, lo: float, hi: float, residence: str,
                             max_size: int | None = None) -> float:
        """Share of the persons of `residence` in households with lo <= y < hi (and n <= max_size)."""
        return self._persons_between(lo, hi, residence, max_size, False) / \
            self.persons_per_household(residence)

    def mean(self, residence: str = "all") -> float:
        """Mean per-capita income over persons."""
        return self._persons_between(0.0, math.inf, residence, None, True) / \
            self.persons_per_household(residence)

    def median(self, residence: str = "all") -> float:
        """NBS median: per-capita income of the middle household."""
        return self.household_quantile(0.5, residence)

    def quintile_means(self, residence: str = "all") -> np.ndarray:
        """NBS quintile means: fifths of households ranked by per-capita income; income / persons."""
        cuts = [0.0] + [self.household_quantile(k / 5, residence) for k in range(1, 5)] + [math.inf]
        return np.array([
            self._persons_between(cuts[k], cuts[k + 1], residence, None, True)
            / self._persons_between(cuts[k], cuts[k + 1], residence, None, False)
            for k in range(5)])

    def moment_over_persons(self, order: float, residence: str) -> float:
        """Mean over the persons of `residence` of y**order."""
        w = self.cell_weights(residence)
        r = RES.index(residence)
        num = sum(w[r, i] * n * self.scale[r, i] ** order * sm_moment(order, self.a[r], self.q[r])
                  for i, n in enumerate(self.sizes) if w[r, i] > 0)
        return num / self.persons_per_household(residence)


def income_model(spec: PopulationSpec | PopulationFile, shapes: dict | None = None) -> IncomeModel:
    """The income model of a spec; `shapes` {residence: (a, q, elasticity)} overrides the spec's
    shapes (calibration tries candidate shapes this way)."""
    data = spec.data if isinstance(spec, PopulationSpec) else spec
    size_share = household_size_table(data)
    n = np.arange(1, size_share.shape[1] + 1)
    a = np.zeros(2)
    q = np.zeros(2)
    scale = np.zeros_like(size_share)
    for r, name in enumerate(RES):
        inc = getattr(data.income, name)
        a[r], q[r], e = (inc.shape_a, inc.shape_q, inc.size_elasticity) if shapes is None \
            else shapes[name]
        rel = n ** e
        # mean over persons = b * m1 * sum P(n) n n**e / sum P(n) n
        per_b = sm_moment(1.0, a[r], q[r]) * (size_share[r] * n * rel).sum() / (size_share[r] * n).sum()
        scale[r] = inc.mean / per_b * rel
    return IncomeModel(urban_household_share(data), size_share, a, q, scale)
