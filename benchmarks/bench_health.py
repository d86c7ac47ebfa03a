"""Throughput and memory of health-event generation (`microsim.health.draw_events`).

    .venv/bin/python benchmarks/bench_health.py [populations/china_2023.yaml]
        [--households 200000] [--repeat 5] [--threads 1]

Synthesises the households once, warms the cached numba kernels up on a small
chunk, then times `draw_events` on the whole chunk `--repeat` times (with
`--threads N`, the chunk is cut into N pieces drawn in parallel threads; the
kernels release the GIL). Prints persons per second of wall time and of CPU time (best and median
run; CPU time is less disturbed by other work on a shared machine),
Philox calls per person, the bytes of `Events` per person, the peak of
memory allocated while drawing (tracemalloc, which sees numpy arrays) and the
process's peak resident memory. Timings are measured, never asserted; on a
shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import numpy as np

from microsim.health.events import draw_events
from microsim.health.params import health_params
from microsim.population.spec import load_population_spec
from microsim.population.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]


def events_bytes(events) -> int:
    return sum(getattr(events, f.name).nbytes for f in fields(events)
               if getattr(events, f.name) is not None)


def philox_calls_per_person(events, chronic: np.ndarray) -> float:
    """Severity, visits, visit costs (if any visit), chronic (if any flag), one per admission;
    the extra chronic draw (special drugs, rare disease) is counted from spending."""
    n = chronic.size
    any_visit = (events.visits.sum(axis=1) > 0).mean()
    any_flag = (chronic > 0).mean()
    extra = (events.outpatient[:, 6].sum(axis=1) > 0).sum() / n
    return 2.0 + any_visit + any_flag + extra + events.n_admissions / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", type=Path, nargs="?", default=ROOT / "populations" / "china_2023.yaml")
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    spec = load_population_spec(args.spec)
    params = health_params(spec)
    hh, ps = synthesize(spec, 0, args.households, args.households, args.seed, 0)
    small_h, small_p = synthesize(spec, 0, 1000, args.households, args.seed, 0)
    draw_events(small_h, small_p, spec, args.seed, 0, params)      # load the cached kernels

    pieces = []
    cuts = np.linspace(0, args.households, args.threads + 1).astype(int)
    for a, b in zip(cuts[:-1], cuts[1:]):
        pieces.append(synthesize(spec, int(a), int(b), args.households, args.seed, 0))

    def draw_all():
        if args.threads == 1:
            return [draw_events(hh, ps, spec, args.seed, 0, params)]
        with ThreadPoolExecutor(args.threads) as pool:
            return list(pool.map(lambda hp: draw_events(hp[0], hp[1], spec, args.seed, 0, params),
                                 pieces))

    times, cpu_times = [], []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        out = draw_all()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    tracemalloc.start()
    out = draw_all()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n = len(ps)
    ev = out[0] if args.threads == 1 else None
    best, median = min(times), statistics.median(times)
    print(f"spec {args.spec.name}: {args.households:,} households, {n:,} persons, "
          f"threads {args.threads}")
    print(f"draw_events runs (s): {', '.join(f'{t:.3f}' for t in times)}")
    print(f"persons per second (wall): best {n / best:,.0f}, median {n / median:,.0f}")
    print(f"persons per CPU-second (all threads): best {n / min(cpu_times):,.0f}, "
          f"median {n / statistics.median(cpu_times):,.0f}")
    if ev is not None:
        print(f"admissions: {ev.n_admissions:,} ({ev.n_admissions / n:.3f} per person); "
              f"Philox calls per person: {philox_calls_per_person(ev, ps.chronic):.2f}")
        print(f"Events memory: {events_bytes(ev) / n:.0f} bytes per person "
              f"({events_bytes(ev) / 2**20:,.0f} MiB)")
    print(f"peak memory allocated while drawing (tracemalloc): {peak / 2**20:,.0f} MiB "
          f"({peak / n:.0f} bytes per person)")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory: {peak_rss:,.0f} MiB")


if __name__ == "__main__":
    main()
