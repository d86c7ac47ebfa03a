"""Synthesis throughput and peak memory, and Parquet write and read-back speed.

    .venv/bin/python benchmarks/bench_population.py [populations/china_2023.yaml]
        [--households 1000000] [--chunk 50000] [--repeat 3] [--parquet]

Synthesises the population chunk by chunk on one thread (after one warm-up
chunk that loads the cached numba kernels) and prints households and persons
per second (best of --repeat passes) and the process's peak resident memory;
with --parquet it also writes the population with `write_population` into a
temporary folder and reads it back chunk by chunk, as a microdata run does.
Timings are measured, never asserted; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from microsim.population.microdata import open_microdata, read_households, write_population
from microsim.population.spec import load_population_spec
from microsim.population.synth import synth_params, synthesize

ROOT = Path(__file__).resolve().parents[1]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", type=Path, nargs="?", default=ROOT / "populations" / "china_2023.yaml")
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parquet", action="store_true")
    args = ap.parse_args()
    spec = load_population_spec(args.spec)
    start = time.perf_counter()
    params = synth_params(spec)
    setup = time.perf_counter() - start
    synthesize(spec, 0, min(1000, args.households), args.households, 1, 0, params)   # warm-up
    n, chunk = args.households, args.chunk
    times = []
    persons = 0
    for _ in range(args.repeat):
        begin = time.perf_counter()
        persons = 0
        for lo in range(0, n, chunk):
            _, p = synthesize(spec, lo, min(lo + chunk, n), n, 1, 0, params)
            persons += len(p)
        times.append(time.perf_counter() - begin)
    best = min(times)
    print(f"spec {spec.name}: {n:,} households ({persons:,} persons), chunks of {chunk:,}, one thread")
    print(f"spec to kernel parameters (head ages solved, take-up rates): {setup:.2f} s")
    print(f"synthesis passes (s): {', '.join(f'{t:.2f}' for t in times)}")
    print(f"households per second (best): {n / best:,.0f}; persons per second: {persons / best:,.0f}")
    print(f"peak resident memory after synthesis: {peak_mib():,.0f} MiB")
    if args.parquet:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pop"
            begin = time.perf_counter()
            chunks = (synthesize(spec, lo, min(lo + chunk, n), n, 1, 0, params)
                      for lo in range(0, n, chunk))
            write_population(out, chunks, spec, {"seed": 1, "replicate": 0, "households": n})
            write = time.perf_counter() - begin
            size = sum(f.stat().st_size for f in out.iterdir())
            begin = time.perf_counter()
            md = open_microdata(out)
            check = time.perf_counter() - begin
            begin = time.perf_counter()
            for lo in range(0, n, chunk):
                read_households(md, lo, min(lo + chunk, n))
            read = time.perf_counter() - begin
            print(f"synthesise + write Parquet: {write:.2f} s ({n / write:,.0f} households/s), "
                  f"{size / 2**20:,.0f} MiB on disk")
            print(f"check (validate every column and key): {check:.2f} s; "
                  f"read back in chunks: {read:.2f} s ({n / read:,.0f} households/s)")
            print(f"peak resident memory after Parquet: {peak_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
