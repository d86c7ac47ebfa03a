"""Scale benchmark: persons per second and peak memory by population size, scenarios and cores.

    .venv/bin/python benchmarks/bench_scale.py [--persons 1e6 1e7 1e8] [--scenarios 1 2 4]
                                               [--cores 1 2] [--chunk-size 50000] [--out FILE]

Each configuration runs `microsim run` on a variant of experiments/china_full.yaml
(the national spec; 1 replicate; the number of households chosen so the
population has about the requested number of persons; scenarios are the
baseline and copies of the reform) in a fresh process, pinned to the
requested number of cores with `taskset`, after a warm-up that fills the numba
cache. It reports wall time, persons per second (persons / wall seconds, each
person settled under every scenario) and the peak resident memory of that
process (from /usr/bin/time). Results are printed as a Markdown table and,
with --out, written to a file. Timings are measured, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERSONS_PER_HOUSEHOLD = 2.62   # mean household size of the national spec (measured, see docs/performance.md)


def experiment_text(households: int, scenarios: int, chunk_size: int, output: Path) -> str:
    policy = ROOT / "policies" / "china" / "national_2023.yaml"
    reform = ROOT / "policies" / "reforms" / "raise_resident_inpatient_rates.yaml"
    lines = [f"  - {{name: baseline, policy: {policy}}}"]
    for i in range(1, scenarios):
        lines.append(f"  - {{name: reform{i}, policy: {policy}, reforms: [{reform}]}}")
    return (f"name: bench\npopulation: {{spec: {ROOT / 'populations' / 'china_2023.yaml'}, "
            f"households: {households}}}\nyear: 2023\nscenarios:\n" + "\n".join(lines) +
            f"\nreplicates: 1\nseed: 1\noutput: {output}\nchunk_size: {chunk_size}\n")


def run_one(households: int, scenarios: int, cores: int, chunk_size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.yaml"
        exp.write_text(experiment_text(households, scenarios, chunk_size, Path(tmp) / "out"))
        cpus = ",".join(str(c) for c in range(cores))
        cmd = ["/usr/bin/time", "-v", "taskset", "-c", cpus, sys.executable, "-m", "microsim",
               "run", str(exp), "--quiet", "--no-report"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"benchmark run failed:\n{proc.stderr[-2000:]}")
        peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
        persons = int(re.search(r"([\d,]+) persons x", proc.stdout).group(1).replace(",", ""))
        run_s = float(re.search(r"scenarios in ([\d.]+) s", proc.stdout).group(1))
    return {"persons": persons, "scenarios": scenarios, "cores": cores, "wall_s": wall,
            "run_s": run_s, "persons_per_s": persons / run_s, "peak_mib": peak_kib / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=float, nargs="+", default=[1e6, 1e7, 1e8])
    ap.add_argument("--scenarios", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--cores", type=int, nargs="+", default=[2])
    ap.add_argument("--chunk-size", type=int, default=50_000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    run_one(20_000, 2, max(args.cores), args.chunk_size)   # warm the numba cache
    rows = []
    header = "| persons | scenarios | cores | run s | wall s | persons/s | peak MiB |\n|---:|---:|---:|---:|---:|---:|---:|"
    print(header)
    for persons in args.persons:
        households = int(persons / PERSONS_PER_HOUSEHOLD)
        for scenarios in args.scenarios:
            for cores in args.cores:
                r = run_one(households, scenarios, cores, args.chunk_size)
                line = (f"| {r['persons']:,} | {scenarios} | {cores} | {r['run_s']:.1f} | {r['wall_s']:.1f} | "
                        f"{r['persons_per_s']:,.0f} | {r['peak_mib']:,.0f} |")
                print(line, flush=True)
                rows.append(line)
    if args.out:
        args.out.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
