"""Where the time goes: CPU time of each step of a chunk, per person, on one thread.

    .venv/bin/python benchmarks/bench_stages.py [experiments/quickstart.yaml] [--households 50000] [--repeat 5]

Runs the population pass of `engine.prepass` (when the experiment needs its
population-wide lines) and the steps of `engine.chunk.simulate_chunk` one by one on a chunk of the
experiment's population (after a warm-up that loads the numba cache) and
prints, for each step, the best thread CPU time over the repeats, nanoseconds
per person and persons per second. CPU time rather than wall time, so that
other work on the machine disturbs the numbers less. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from microsim.engine.chunk import histogram_chunk, population_chunk
from microsim.engine.plan import Task
from microsim.engine.run import build_context
from microsim.experiment import load_experiment
from microsim.health.events import draw_events
from microsim.metrics.accumulate import accumulate, new_accumulators
from microsim.settlement.settle import settle

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", nargs="?", type=Path, default=ROOT / "experiments" / "quickstart.yaml")
    ap.add_argument("--households", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    exp = load_experiment(args.experiment)
    ctx, _ = build_context(exp)
    n = min(args.households, exp.households)
    task = Task(0, 0, 0, n)
    best: dict[str, float] = {}

    def timed(name, fn, *a, **k):
        t = time.thread_time()
        out = fn(*a, **k)
        dt = time.thread_time() - t
        best[name] = min(best.get(name, float("inf")), dt)
        return out

    for i in range(args.repeat + 1):
        if ctx.population_pass is not None and ctx.population_pass.needs_pass:
            timed("population pass (lines)", histogram_chunk, ctx, task)
        households, persons = timed("population", population_chunk, ctx, task)
        events = timed("events", draw_events, households, persons, ctx.spec, ctx.seed, 0, ctx.health)
        claims = None
        for s, policy in enumerate(ctx.policies):
            claims = timed(f"settle[{s}]", settle, policy, households, persons, events, ctx.seed, 0,
                           out=claims)
            acc = timed(f"new accumulators[{s}]", new_accumulators, ctx.layout)
            timed(f"accumulate[{s}]", accumulate, acc, ctx.layout, households, persons, events,
                  claims, 0)
        if i == 0:
            best.clear()   # the first round loads kernels from the cache
    m = len(persons)
    total = sum(best.values())
    print(f"{n:,} households, {m:,} persons, {events.n_admissions:,} admissions, "
          f"{len(ctx.policies)} scenarios; best of {args.repeat} (thread CPU time)")
    print("| step | ms | ns/person | persons/s |\n|---|---:|---:|---:|")
    for name, dt in best.items():
        print(f"| {name} | {dt * 1e3:.1f} | {dt / m * 1e9:.0f} | {m / dt:,.0f} |")
    print(f"| all steps | {total * 1e3:.1f} | {total / m * 1e9:.0f} | {m / total:,.0f} |")


if __name__ == "__main__":
    main()
