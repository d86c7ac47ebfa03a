"""End-to-end throughput and peak memory of an experiment run.

    .venv/bin/python benchmarks/bench_run.py experiments/quickstart.yaml [--households N] [--repeat 2]

Runs the experiment (without writing results) in this process, after one
warm-up run that loads the cached numba kernels, and prints persons per
second (persons x replicates / wall seconds; each person is settled under
every scenario) and the process's peak resident memory. Timings are measured,
never asserted.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import microsim
from microsim.experiment import load_experiment


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", type=Path)
    ap.add_argument("--households", type=int, default=None)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    path = args.experiment.resolve()
    text = path.read_text(encoding="utf-8")
    exp = load_experiment(path)
    if args.households:
        text = text.replace(f"households: {exp.households}", f"households: {args.households}")
    if args.chunk_size:
        text = text.replace(f"chunk_size: {exp.file.chunk_size}", f"chunk_size: {args.chunk_size}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_exp = Path(tmp) / path.name
        tmp_exp.write_text(text.replace("../", f"{path.parent.parent}/"), encoding="utf-8")
        exp = load_experiment(tmp_exp)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            ds = microsim.run(tmp_exp, write=False, scheduler=args.scheduler)
            times.append(time.perf_counter() - start)
    persons = ds.attrs["persons_per_replicate"] * ds.sizes["replicate"]
    best = min(times)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"experiment {path.name}: {exp.households:,} households x {exp.file.replicates} replicates, "
          f"{len(exp.scenarios)} scenarios, chunk {exp.file.chunk_size:,}")
    print(f"persons simulated: {persons:,}; runs (s): {', '.join(f'{t:.2f}' for t in times)}")
    print(f"persons per second (best run): {persons / best:,.0f}")
    print(f"peak resident memory: {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
