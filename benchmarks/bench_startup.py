"""Start-up time: seconds from launching `microsim run` in a new process to its first chunk.

    .venv/bin/python benchmarks/bench_startup.py [--cold]

Runs a tiny experiment (2,000 households) through the CLI in a fresh Python
process and reports the time from process launch to the start of the first
chunk (imports, loading and validating the experiment, building the kernel
parameters, loading compiled kernels), and the whole run. With --cold the
numba cache of the package is deleted first, so kernels are compiled: the
first-ever run after installation. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import sys, time
import microsim.engine.chunk as chunk
original = chunk.population_chunk
def first_chunk(ctx, task):
    if not getattr(first_chunk, "seen", False):
        first_chunk.seen = True
        print(f"FIRST_CHUNK {time.time():.6f}", flush=True)
    return original(ctx, task)
chunk.population_chunk = first_chunk
from microsim.cli import app
app(["run", sys.argv[1], "--quiet", "--no-report"], standalone_mode=False)
print(f"DONE {time.time():.6f}", flush=True)
"""


def measure(exp: Path) -> tuple[float, float]:
    start = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, str(exp)], capture_output=True, text=True,
                         cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    stamps = {line.split()[0]: float(line.split()[1]) for line in out.stdout.splitlines()
              if line.startswith(("FIRST_CHUNK", "DONE"))}
    return stamps["FIRST_CHUNK"] - start, stamps["DONE"] - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold", action="store_true", help="delete the numba cache first")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    text = (ROOT / "experiments" / "quickstart.yaml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        text = text.replace("../", f"{ROOT}/").replace("households: 100000", "households: 2000")
        text = text.replace(f"output: {ROOT}/results/quickstart", f"output: {tmp}/out")
        exp = Path(tmp) / "tiny.yaml"
        exp.write_text(text.replace("replicates: 5", "replicates: 1"), encoding="utf-8")
        if args.cold:
            for cache in (ROOT / "microsim").rglob("__pycache__"):
                for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
                    f.unlink()
            first, total = measure(exp)
            print(f"cold (kernels compiled): {first:.2f} s to the first chunk, {total:.2f} s in all")
            shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
        for _ in range(args.repeat):
            first, total = measure(exp)
            print(f"warm (kernels cached): {first:.2f} s to the first chunk, {total:.2f} s in all")
            shutil.rmtree(Path(tmp) / "out", ignore_errors=True)


if __name__ == "__main__":
    main()
