"""Household composition: who lives with whom, and the head ages that reproduce the age structure.

Takes: a validated population spec (`composition`, `household_size`, `age`).
Gives: `Composition`, the arrays the synthesis kernel needs: for every
residence and household size, the distribution of the head's age (solved
here), the spouse probability, the member-type shares by head-age group and
the male share of heads and other members; and `member_age_range`, the
kernel's rule for a member's age given the head's.

A household of n members has a head aged `head_min_age`+; with probability
P(spouse | n) a spouse whose age is the head's plus a gap drawn uniformly from
`spouse_age_gap`; every other member is the head's parent, child or grandchild
with shares that depend on the head's age group, aged the head's age plus or
minus one or two generation gaps drawn uniformly from `generation_gap`
(ranges are cut at 0 and `max_age`). So a one-person household is an adult,
children live with a parent or grandparent, and old parents live with their
grown children.

The age structure of the spec (shares of persons by age band) is a target,
not an input to any single draw: the distribution of head ages h_n(H) for each
size n is solved so that the expected ages of all members match it exactly.
The expected number of members of each age in a household of size n whose
head is H is known in closed form (C_n[H, age]), so the band shares are linear
in h: sum_n P(n) h_n C_n B = shares x E[n]. Among the solutions we take the
one closest to the adult age distribution and smoothest in H
(`head_age_smoothing`), by bounded least squares; a spec whose composition
cannot produce its age structure is refused with the worst band named.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from microsim.errors import InputError
from microsim.population.income import household_size_table
from microsim.population.spec import PopulationSpec

SPOUSE, PARENT, CHILD, GRANDCHILD = 0, 1, 2, 3
RES = ("urban", "rural")


@nb.njit(cache=True, nogil=True)
def member_age_range(kind: int, head_age: int, spouse_lo: int, spouse_hi: int, gen_lo: int,
                     gen_hi: int, head_min_age: int, max_age: int) -> tuple[int, int]:
    """Inclusive [lo, hi] of a member's age (uniform on the integers) given the head's age."""
    h = head_age
    if kind == SPOUSE:
        lo = min(max(h + spouse_lo, head_min_age), max_age)
        hi = min(max(h + spouse_hi, head_min_age), max_age)
    elif kind == PARENT:
        lo = min(h + gen_lo, max_age)
        hi = min(h + gen_hi, max_age)
    elif kind == CHILD:
        lo = max(h - gen_hi, 0)
        hi = max(h - gen_lo, 0)
    else:
        lo = max(h - 2 * gen_hi, 0)
        hi = max(h - 2 * gen_lo, 0)
    return lo, hi


@dataclass(frozen=True)
class Composition:
    """Composition arrays for the kernel (index 0 urban, 1 rural)."""

    head_min_age: int
    max_age: int
    head_age_cdf: np.ndarray     # (2, S, K) CDF over head ages head_min_age .. max_age
    spouse_prob: np.ndarray      # (2, S + 1) by size (index n); 0 for n = 1
    group_edges: np.ndarray      # (G,) lower edges of head-age groups
    type_cdf: np.ndarray         # (2, G, 3) CDF over (parent, child, grandchild)
    gaps: np.ndarray             # (4,) spouse lo, spouse hi, generation lo, generation hi
    male_head: np.ndarray        # (2,) P(head is male); the spouse is of the other sex
    male_other: np.ndarray       # (2,) P(male) of parents, children and grandchildren
    age_shares: np.ndarray       # (2, n bands) expected band shares of the solution


def _band_matrix(bands: list[int], max_age: int) -> np.ndarray:
    """(max_age + 1, n bands) indicator of each single age's band."""
    ages = np.arange(max_age + 1)
    idx = np.searchsorted(np.asarray(bands), ages, side="right") - 1
    out = np.zeros((max_age + 1, len(bands)))
    out[ages, idx] = 1.0
    return out


def _uniform(lo: int, hi: int, width: int) -> np.ndarray:
    v = np.zeros(width)
    v[lo: hi + 1] = 1.0 / (hi - lo + 1)
    return v


def expected_members(spec: PopulationSpec, r: int, n: int, spouse_p: float) -> np.ndarray:
    """(K, max_age + 1): expected members of each age in a size-n household, by head age."""
    d = spec.data
    c = d.composition
    top = d.age.max_age
    heads = np.arange(c.head_min_age, top + 1)
    groups = np.asarray(c.head_age_groups)
    types = np.asarray(getattr(c.member_types, RES[r]), float)
    gl, gh = c.spouse_age_gap
    ml, mh = c.generation_gap
    out = np.zeros((heads.size, top + 1))
    others = max(n - 1 - spouse_p, 0.0)
    for k, h in enumerate(heads):
        out[k, h] += 1.0
        if n >= 2 and spouse_p > 0:
            lo, hi = member_age_range(SPOUSE, h, gl, gh, ml, mh, c.head_min_age, top)
            out[k] += spouse_p * _uniform(lo, hi, top + 1)
        if others > 0:
            g = np.searchsorted(groups, h, side="right") - 1
            for t, kind in enumerate((PARENT, CHILD, GRANDCHILD)):
                if types[g, t] > 0:
                    lo, hi = member_age_range(kind, h, gl, gh, ml, mh, c.head_min_age, top)
                    out[k] += others * types[g, t] * _uniform(lo, hi, top + 1)
    return out


def _spouse_table(spec: PopulationSpec, width: int) -> np.ndarray:
    out = np.zeros((2, width + 1))
    for r, name in enumerate(RES):
        vals = list(getattr(spec.data.composition.spouse, name))
        for n in range(2, width + 1):
            out[r, n] = vals[min(n - 2, len(vals) - 1)]
    return out


def _solve_head_ages(spec: PopulationSpec, r: int, sizes: np.ndarray, spouse: np.ndarray,
                     band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Head-age distributions (S, K) for residence r and the band shares they give."""
    d = spec.data
    c = d.composition
    target = np.asarray(getattr(d.age, RES[r]), float)
    heads = np.arange(c.head_min_age, d.age.max_age + 1)
    k = heads.size
    n_sizes = sizes.size
    mean_size = float((sizes * np.arange(1, n_sizes + 1)).sum())
    # Prior: the adult age distribution (band shares spread evenly within bands).
    width = band.sum(axis=0)
    per_age = band @ (target / np.maximum(width, 1))
    prior = per_age[c.head_min_age:]
    prior = prior / prior.sum() if prior.sum() > 0 else np.full(k, 1.0 / k)
    active = [i for i in range(n_sizes) if sizes[i] > 0]
    m = len(active)
    weight = 1e4
    d2 = np.diff(np.eye(k), n=2, axis=0)
    smooth = np.sqrt(c.head_age_smoothing)
    rows = []
    rhs = []
    band_rows = np.zeros((band.shape[1], m * k))
    for j, i in enumerate(active):
        n = i + 1
        cb = expected_members(spec, r, n, spouse[n]) @ band      # (K, bands)
        band_rows[:, j * k:(j + 1) * k] = sizes[i] * cb.T
    rows.append(weight * band_rows)
    rhs.append(weight * target * mean_size)
    for j, i in enumerate(active):
        block = np.zeros((1, m * k))
        block[0, j * k:(j + 1) * k] = 1.0
        rows.append(weight * block)
        rhs.append(np.array([weight]))
        sm = np.zeros((d2.shape[0], m * k))
        sm[:, j * k:(j + 1) * k] = smooth * np.sqrt(sizes[i]) * d2 * k
        rows.append(sm)
        rhs.append(np.zeros(d2.shape[0]))
        pr = np.zeros((k, m * k))
        pr[:, j * k:(j + 1) * k] = np.sqrt(sizes[i]) * np.eye(k) * k
        rows.append(pr)
        rhs.append(np.sqrt(sizes[i]) * prior * k)
    a = np.vstack(rows)
    b = np.concatenate(rhs)
    from scipy import optimize   # imported here: scipy takes a second to import
    x, _ = optimize.nnls(a, b, maxiter=50 * a.shape[1])
    dist = np.tile(prior, (n_sizes, 1))
    for j, i in enumerate(active):
        block = x[j * k:(j + 1) * k]
        dist[i] = block / block.sum()
    shares = band_rows @ np.concatenate([dist[i] for i in active]) / mean_size
    return dist, shares


def _last_file(spec: PopulationSpec, *paths: tuple[str, ...]) -> str:
    """Of the files that set these keys, the one loaded last (a rule across keys names it)."""
    order = {f: i for i, f in enumerate(spec.tree.files)}
    return max((spec.tree.file_of(p) for p in paths), key=lambda f: order.get(f, -1))


def composition(spec: PopulationSpec) -> Composition:
    """Solve head ages and sex shares for a spec (pure arithmetic, no draws)."""
    d = spec.data
    c = d.composition
    sizes = household_size_table(d)
    width = sizes.shape[1]
    spouse = _spouse_table(spec, width)
    band = _band_matrix(d.age.bands, d.age.max_age)
    k = d.age.max_age - c.head_min_age + 1
    cdf = np.zeros((2, width, k))
    shares = np.zeros((2, len(d.age.bands)))
    male_head = np.zeros(2)
    male_other = np.zeros(2)
    for r, name in enumerate(RES):
        dist, shares[r] = _solve_head_ages(spec, r, sizes[r], spouse[r], band)
        target = np.asarray(getattr(d.age, name), float)
        worst = int(np.argmax(np.abs(shares[r] - target)))
        if abs(shares[r, worst] - target[worst]) > 2e-4:
            raise InputError(
                _last_file(spec, ("composition",), ("household_size",), ("age",)),
                f"the household composition cannot reproduce the {name} age structure: age band "
                f"{d.age.bands[worst]}+ needs a share of {target[worst]:.4f} of persons but the "
                f"closest the composition allows is {shares[r, worst]:.4f}; change "
                f"composition.member_types, composition.spouse or household_size",
                key="composition")
        cdf[r] = np.cumsum(dist, axis=1)
        cdf[r, :, -1] = 1.0
        n = np.arange(1, width + 1)
        e_spouse = float((sizes[r] * spouse[r, 1:]).sum())
        e_size = float((sizes[r] * n).sum())
        e_other = e_size - 1.0 - e_spouse
        x = (d.age.male_share * e_size - e_spouse) / (1.0 + e_other - e_spouse)
        if not 0.0 <= x <= 1.0:
            raise InputError(_last_file(spec, ("age", "male_share"), ("household_size",),
                                        ("composition", "spouse")),
                             f"no male share of heads gives {d.age.male_share} of {name} persons "
                             "male when every spouse is of the other sex", key="age.male_share")
        male_head[r] = male_other[r] = x
    type_cdf = np.array([np.cumsum(np.asarray(getattr(c.member_types, r), float), axis=1)
                         for r in RES])
    type_cdf[:, :, -1] = 1.0
    return Composition(
        head_min_age=c.head_min_age, max_age=d.age.max_age, head_age_cdf=cdf,
        spouse_prob=spouse, group_edges=np.asarray(c.head_age_groups, np.int64),
        type_cdf=type_cdf,
        gaps=np.array([*c.spouse_age_gap, *c.generation_gap], np.int64),
        male_head=male_head, male_other=male_other, age_shares=shares)
