"""Years benchmark: a five-year projection against five one-year runs of the same population.

    .venv/bin/python benchmarks/bench_years.py [--households 200000] [--first 2021]
                                               [--last 2025] [--out FILE]

Runs, each in a fresh process after a warm-up that fills the numba cache, `microsim
run` on a variant of experiments/jiaxing_common_prosperity.yaml's population
(baseline + one reform, 1 replicate): once as a projection from --first to --last
(population aged, deaths and births, funds carried), and once per year as a plain
one-year run uprated to that year. It reports, for each, the run's own seconds,
person-years per second (persons simulated in every year, each settled under
every scenario) and the peak resident memory (from /usr/bin/time), and the ratio
of the projection's time to the sum of the one-year runs' times. Measured, never
asserted.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "populations" / "zhejiang_jiaxing_2021.yaml"
POLICY = ROOT / "policies" / "zhejiang" / "jiaxing_2021.yaml"
REFORM = ROOT / "policies" / "reforms" / "raise_resident_inpatient_rates.yaml"


def experiment_text(households: int, first: int, last: int | None, output: Path) -> str:
    until = f"until: {last}\n" if last is not None else ""
    return (f"name: bench\npopulation: {{spec: {SPEC}, households: {households}}}\n"
            f"year: {first}\n{until}scenarios:\n"
            f"  - {{name: baseline, policy: {POLICY}}}\n"
            f"  - {{name: reform, policy: {POLICY}, reforms: [{REFORM}]}}\n"
            f"replicates: 1\nseed: 1\noutput: {output}\nchunk_size: 50000\n")


def run_one(households: int, first: int, last: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.yaml"
        exp.write_text(experiment_text(households, first, last, Path(tmp) / "out"))
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "microsim", "run", str(exp),
               "--quiet", "--no-report", "--output", str(Path(tmp) / "out")]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"benchmark run failed:\n{proc.stderr[-2000:]}")
        peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                 proc.stderr).group(1))
        count = int(re.search(r"([\d,]+) person(?:s|-years) x", proc.stdout).group(1)
                    .replace(",", ""))
        run_s = float(re.search(r"scenarios in ([\d.]+) s", proc.stdout).group(1))
    return {"person_years": count, "wall_s": wall, "run_s": run_s,
            "per_s": count / run_s, "peak_mib": peak_kib / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--first", type=int, default=2021)
    ap.add_argument("--last", type=int, default=2025)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    run_one(2000, args.first, args.last)                    # warm-up: numba cache
    rows = [("projection", f"{args.first}-{args.last}",
             run_one(args.households, args.first, args.last))]
    for year in range(args.first, args.last + 1):
        rows.append(("one year", str(year), run_one(args.households, year, None)))
    singles = sum(r["run_s"] for kind, _, r in rows if kind == "one year")
    lines = [f"{args.households:,} households of {SPEC.name}, baseline + one reform, 1 replicate",
             "", "| run | years | person-years | run s | person-years/s | peak MiB |",
             "|---|---|---|---|---|---|"]
    for kind, years, r in rows:
        lines.append(f"| {kind} | {years} | {r['person_years']:,} | {r['run_s']:.1f} | "
                     f"{r['per_s']:,.0f} | {r['peak_mib']:,.0f} |")
    lines += ["", f"projection / sum of one-year runs: {rows[0][2]['run_s']:.1f} s / "
                  f"{singles:.1f} s = {rows[0][2]['run_s'] / singles:.2f}"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
