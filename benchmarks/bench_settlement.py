"""Throughput of the settlement kernel alone: admissions and persons settled per second.

    .venv/bin/python benchmarks/bench_settlement.py [--households 200000] [--repeat 5]
        [--policy policies/china/national_2023.yaml] [--reform R ...]
        [--population populations/china_2023.yaml]

Draws one chunk of households, persons and a year of events from the
population spec (not timed), then settles it under the policy `--repeat`
times on one thread, after a warm-up call that loads the cached numba
kernels: first allocating new claims arrays each time, then rewriting the
last claims (`settle(..., out=claims)`). Prints each run's time and the best
run's admissions per second and persons per second, with the largest
conservation gap as a check that the run was sound. Timings are measured,
never asserted; on a shared machine they vary from run to run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from microsim.health.events import draw_events
from microsim.policy.arrays import build_arrays
from microsim.policy.load import load_policy
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize
from microsim.settlement import check_conservation, settle

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--policy", type=Path, default=ROOT / "policies/china/national_2023.yaml")
    ap.add_argument("--reform", type=Path, action="append", default=[])
    ap.add_argument("--population", type=Path, default=ROOT / "populations/china_2023.yaml")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    spec = load_population_spec(args.population)
    households, persons = synthesize(spec, 0, args.households, args.households, args.seed, 0)
    events = draw_events(households, persons, spec, args.seed, 0)
    q = build_arrays(load_policy(args.policy, args.reform))

    claims = settle(q, households, persons, events, args.seed, 0)    # warm-up: load the kernels
    n_p, n_a = len(persons), events.n_admissions
    print(f"policy {args.policy.name}" + "".join(f" + {r.name}" for r in args.reform))
    print(f"chunk: {len(households):,} households, {n_p:,} persons, {n_a:,} admissions "
          f"({events.n_admissions / n_p:.3f} per person)")
    # New claims arrays every time (as the engine does), then the last claims reused (out=).
    for label, out in (("new claims arrays", None), ("claims reused", claims)):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            claims = settle(q, households, persons, events, args.seed, 0, out=out)
            times.append(time.perf_counter() - start)
        best = min(times)
        print(f"{label}: runs (s) {', '.join(f'{t:.3f}' for t in times)}; best run "
              f"{n_a / best:,.0f} admissions/s, {n_p / best:,.0f} persons/s")
    print(f"largest conservation gap: {check_conservation(events, claims):.2e} yuan")


if __name__ == "__main__":
    main()
