"""Fuzzing campaigns: python -m tests.fuzz [--attempts N] [--seed S] [--only NAME ...].

Runs every target (tests/fuzz/fuzzers.py) for N attempts and prints the
Markdown table of docs/reliability.md: per target, the entry point,
attempts tried, accepted, refused cleanly, crashed, and seconds; then a
total row, then the first crashing inputs (there should be none). Exits 1
if anything crashed.
"""

from __future__ import annotations

import argparse
import time

from tests.fuzz.fuzzers import Outcome, run, targets


def table(rows: list[tuple[str, str, Outcome, float]]) -> str:
    lines = ["| target | entry point | tried | accepted | refused cleanly | crashed | seconds |",
             "|---|---|---:|---:|---:|---:|---:|"]
    total = Outcome()
    seconds = 0.0
    for name, entry, out, secs in rows:
        lines.append(f"| {name} | {entry} | {out.tried:,} | {out.accepted:,} | {out.refused:,} | "
                     f"{out.crashed:,} | {secs:.0f} |")
        for attr in ("tried", "accepted", "refused", "crashed"):
            setattr(total, attr, getattr(total, attr) + getattr(out, attr))
        seconds += secs
    lines.append(f"| **all** | | **{total.tried:,}** | **{total.accepted:,}** | "
                 f"**{total.refused:,}** | **{total.crashed:,}** | **{seconds:.0f}** |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attempts", type=int, default=500,
                    help="attempts per target (slow targets run a stated share of them)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the mutations")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only the targets whose name contains one of these words")
    args = ap.parse_args()
    rows = []
    crashes = []
    for target in targets():
        if args.only and not any(word in target.name for word in args.only):
            continue
        start = time.perf_counter()
        out = run(target, target.attempts(args.attempts), args.seed)
        rows.append((target.name, target.entry, out, time.perf_counter() - start))
        print(f"{target.name}: {out.tried} tried, {out.accepted} accepted, {out.refused} refused, "
              f"{out.crashed} crashed", flush=True)
        crashes += [(target.name, data, error) for data, error in out.crashes]
    print()
    print(table(rows))
    for name, data, error in crashes:
        print(f"\nCRASH in {name}: {error}\n  input: {data!r}")
    raise SystemExit(1 if crashes else 0)


if __name__ == "__main__":
    main()
