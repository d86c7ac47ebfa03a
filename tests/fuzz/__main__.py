"""Long fuzzing campaigns: python -m tests.fuzz [--attempts N] [--seed S].

Prints, per target, attempts tried, accepted, refused cleanly and crashed,
and the first crashing inputs (there should be none)."""

from __future__ import annotations

import argparse
import time

from tests.fuzz.fuzzers import run, targets


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=int, default=2000, help="attempts per target")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print("| target | tried | accepted | refused cleanly | crashed | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    crashed = 0
    for target in targets():
        start = time.perf_counter()
        out = run(target, args.attempts, args.seed)
        crashed += out.crashed
        print(f"| {target.name} | {out.tried} | {out.accepted} | {out.refused} | {out.crashed} | "
              f"{time.perf_counter() - start:.0f} |", flush=True)
        for data, error in out.crashes:
            print(f"    CRASH: {error}\n      input: {data!r}")
    raise SystemExit(1 if crashed else 0)


if __name__ == "__main__":
    main()
