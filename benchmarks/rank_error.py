"""Grid against exact ranking on a full synthetic population: how far apart, and the bound.

    .venv/bin/python benchmarks/rank_error.py experiments/quickstart.yaml [--households N]

Simulates one replicate of the experiment's baseline scenario chunk by chunk,
keeps each household's per-capita income, consumption, OOP, contributions and
catastrophic flags (a few numbers per household, so a population of a few
hundred thousand households ranks in memory), and prints for each rank-based
indicator and for the quintile shares of OOP: the value from the merged grid,
the exact value from sorting households, the difference and the stated bound
(`indicators.concentration`). Measured, not asserted.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from microsim.engine.plan import make_plan
from microsim.engine.prepass import population_pass
from microsim.engine.run import build_context
from microsim.experiment import load_experiment
from microsim.health.events import draw_events
from microsim.metrics.accumulate import accumulate, new_accumulators
from microsim.metrics.indicators import compute_all, quintile_weights, group_sums
from microsim.population.synth import synthesize
from microsim.settlement.settle import settle


def exact_concentration(y, rank_by, persons):
    """C = 2 sum y_i r_i / Y - 1, r_i the mid-point of the household's cumulative person share
    when households are sorted by rank_by (ties share their group's mid-point)."""
    order = np.argsort(rank_by, kind="stable")
    y, x, p = y[order], rank_by[order], persons[order]
    cum = np.cumsum(p)
    total = cum[-1]
    r = (cum - p / 2.0) / total
    # tied values share the mid-point of their group
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    ends = np.r_[starts[1:], x.size]
    for s, e in zip(starts, ends):
        if e - s > 1:
            lo = cum[s] - p[s]
            r[s:e] = (lo + (cum[e - 1] - lo) / 2.0) / total
    return 2.0 * np.sum(y * r) / np.sum(y) - 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", type=Path)
    ap.add_argument("--households", type=int, default=None)
    args = ap.parse_args()
    exp = load_experiment(args.experiment)
    ctx, catalogue = build_context(exp)
    n_households = args.households or exp.households
    ctx = type(ctx)(**{**ctx.__dict__, "n_households": n_households})
    tasks = [t for t in make_plan(n_households, exp.file.chunk_size, 1)]
    ctx, _ = population_pass(ctx, tasks, "threads")
    acc = new_accumulators(ctx.layout)
    cols = {k: [] for k in ("w", "n", "inc", "cons", "oop", "contrib", "che10", "che25_inc")}
    for t in tasks:
        hh, ps = synthesize(ctx.spec, t.start, t.stop, n_households, ctx.seed, 0, ctx.synth)
        ev = draw_events(hh, ps, ctx.spec, ctx.seed, 0, ctx.health)
        cl = settle(ctx.policies[0], hh, ps, ev, ctx.seed, 0)
        accumulate(acc, ctx.layout, hh, ps, ev, cl, 0)
        person_oop = np.zeros(len(ps))
        np.add.at(person_oop, np.repeat(np.arange(len(ps)), np.diff(ev.adm_offsets)),
                  cl.admission_paid[:, 5])
        person_oop += cl.outpatient_paid[:, :, 5].sum(1)
        oop = np.bincount(ps.hh, person_oop, minlength=len(hh))
        contrib = np.bincount(ps.hh, cl.finance[:, 0] + cl.finance[:, 4] + cl.finance[:, 5],
                              minlength=len(hh))
        base = np.where(hh.consumption > 0, hh.consumption, hh.income)
        cols["w"].append(hh.weight)
        cols["n"].append(hh.size.astype(float))
        cols["inc"].append(hh.income)
        cols["cons"].append(hh.consumption)
        cols["oop"].append(oop)
        cols["contrib"].append(contrib)
        cols["che10"].append(((oop > 0) & (oop > 0.10 * base)).astype(float))
        cols["che25_inc"].append(((oop > 0) & (oop > 0.25 * hh.income)).astype(float))
    c = {k: np.concatenate(v) for k, v in cols.items()}
    persons = c["w"] * c["n"]
    pc_inc = c["inc"] / c["n"]
    pc_cons = c["cons"] / c["n"]
    got = compute_all(catalogue, ctx.layout, acc, 0)
    cell = (2, 5, 6 - 1)   # residence all, quintile all, status all

    def erreygers(flag, rank_by):
        mean = np.sum(persons * flag) / persons.sum()
        return 4.0 * mean * exact_concentration(c["w"] * flag * c["n"], rank_by, persons)

    exact = {
        "ci_oop": exact_concentration(c["w"] * c["oop"], pc_inc, persons),
        "ci_oop_by_consumption": exact_concentration(c["w"] * c["oop"], pc_cons, persons),
        "erreygers_che10": erreygers(c["che10"], pc_inc),
        "erreygers_che25_income": erreygers(c["che25_inc"], pc_inc),
        "gini_income": exact_concentration(c["w"] * c["inc"], pc_inc, persons),
        "gini_consumption": exact_concentration(c["w"] * c["cons"], pc_cons, persons),
        "gini_income_after_oop": exact_concentration(c["w"] * (c["inc"] - c["oop"]),
                                                     (c["inc"] - c["oop"]) / c["n"], persons),
        "kakwani_financing": exact_concentration(c["w"] * (c["contrib"] + c["oop"]), pc_inc, persons)
        - exact_concentration(c["w"] * c["inc"], pc_inc, persons),
    }
    print(f"{n_households:,} households, {persons.sum() / c['w'][0]:,.0f} persons, one replicate, "
          f"{ctx.layout.n_bins} income bins")
    print(f"{'indicator':26s} {'grid':>10s} {'exact':>10s} {'difference':>11s} {'bound':>9s}")
    for name, value in exact.items():
        g = float(got.values[name][cell])
        b = float(got.bounds[name][cell])
        print(f"{name:26s} {g:10.5f} {value:10.5f} {g - value:11.2e} {b:9.5f}")
    # Quintile shares of OOP: grid (bins split in proportion) against exact ranking.
    order = np.argsort(pc_inc, kind="stable")
    cum = np.cumsum(persons[order]) / persons.sum()
    lower = np.r_[0.0, cum[:-1]]
    oop_sorted = (c["w"] * c["oop"])[order]
    hh_index = {s: i for i, s in enumerate(ctx.layout.hh_stats)}
    grid = acc.hh.astype(float) / 1024.0
    qw = quintile_weights(grid[hh_index["persons"]].sum(axis=(0, 1)))
    sums = group_sums(grid[[hh_index["oop"]]], qw)[0, 2, :5, 5]
    print(f"{'OOP share by quintile':26s} {'grid':>10s} {'exact':>10s} {'difference':>11s}")
    for k in range(5):
        lo, hi = k / 5, (k + 1) / 5
        frac = np.clip((np.minimum(cum, hi) - np.maximum(lower, lo)) / (cum - lower), 0, 1)
        e = float(np.sum(frac * oop_sorted) / oop_sorted.sum())
        g = float(sums[k] / sums.sum())
        print(f"{'Q' + str(k + 1):26s} {g:10.5f} {e:10.5f} {g - e:11.2e}")


if __name__ == "__main__":
    main()
