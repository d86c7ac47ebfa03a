"""How much common random numbers narrow a reform's interval: paired against unpaired.

    .venv/bin/python benchmarks/paired_effects.py experiments/quickstart.yaml --replicates 20

Runs the experiment (without writing results) with the given number of
replicates, then prints, for each chosen indicator and residence, the reform's
effect on it (reform minus baseline) with its 95% interval computed two ways:
paired (the difference replicate by replicate, `microsim.effects(ds)`) and
unpaired (difference of the two means, Welch interval,
`microsim.effects(ds, paired=False)`), and the ratio of their widths. More
replicates than the experiment's own estimate both intervals better.
Numbers are measured, not asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import microsim
from microsim.experiment import load_experiment


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", type=Path)
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--households", type=int, default=None)
    ap.add_argument("--indicator", action="append", default=None,
                    help="indicator (repeatable; default che10, che25, oop_per_person)")
    args = ap.parse_args()
    names = args.indicator or ["che10", "che25", "oop_per_person"]
    path = args.experiment.resolve()
    exp = load_experiment(path)
    text = path.read_text(encoding="utf-8")
    text = text.replace(f"replicates: {exp.file.replicates}", f"replicates: {args.replicates}")
    if args.households:
        text = text.replace(f"households: {exp.households}", f"households: {args.households}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_exp = Path(tmp) / path.name
        tmp_exp.write_text(text.replace("../", f"{path.parent.parent}/"), encoding="utf-8")
        exp = load_experiment(tmp_exp)
        start = time.perf_counter()
        ds = microsim.run(tmp_exp, write=False)
        seconds = time.perf_counter() - start
    paired = microsim.effects(ds)
    unpaired = microsim.effects(ds, paired=False)
    print(f"experiment {path.name}: {exp.households:,} households x {ds.sizes['replicate']} "
          f"replicates, {ds.sizes['scenario']} scenarios, run in {seconds:.1f} s")
    print(f"{'indicator':16s} {'scenario':22s} {'residence':9s} {'effect':>10s} "
          f"{'paired 95% interval':>24s} {'unpaired 95% interval':>24s} {'width ratio':>11s}")
    for name in names:
        for scen in paired.scenario.values:
            for res in [r for r in ("all", "urban", "rural") if r in ds.residence.values]:
                cell = dict(scenario=scen, residence=res, quintile="all", status="all")
                p = paired[name].sel(**cell)
                u = unpaired[name].sel(**cell)
                pl, pu = float(p.sel(stat="lower")), float(p.sel(stat="upper"))
                ul, uu = float(u.sel(stat="lower")), float(u.sel(stat="upper"))
                ratio = (uu - ul) / (pu - pl) if pu > pl else float("inf")
                print(f"{name:16s} {str(scen):22s} {res:9s} {float(p.sel(stat='mean')):10.4f} "
                      f"[{pl:10.4f}, {pu:10.4f}] [{ul:10.4f}, {uu:10.4f}] {ratio:11.1f}")


if __name__ == "__main__":
    main()
