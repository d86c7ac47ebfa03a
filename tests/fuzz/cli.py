"""Command-line fuzzers: every `microsim` command with damaged files and odd option values.

Each attempt picks a command, builds its arguments from valid, damaged,
missing or misplaced inputs (a file where a folder is expected and the other
way round) and from valid and invalid option values, runs it in-process and
judges it like `tests/fuzz/results.py`: exit 0 accepted; a clean message
naming the damaged input (or a usage error) and a non-zero exit refused;
"internal error", a traceback or an escaping exception crashed.

`microsim run` gets tiny experiments (at most 400 households, two
replicates) so that accepted attempts stay quick; `summary`, `compare` and
`report` are the results target's.
"""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path
from typing import Callable

from tests.fuzz.fuzzers import (CORPUS, NATIONAL, ROOT, SIMPLE_POLICY, SPEC, Target,
                                _source_tree, dump, mutate_bytes, mutate_tree)
from tests.fuzz.parquet import BASE as MICRODATA_BASE
from tests.fuzz.parquet import damage, write_base
from tests.fuzz.results import judge_cli

Args = tuple[list[str], tuple[str, ...], str]     # arguments, names a refusal must show, what


def _clamp_experiment(tree: dict, folder: Path) -> dict:
    """Keep a damaged experiment small enough to run in a second or two."""
    pop = tree.get("population")
    if isinstance(pop, dict) and isinstance(pop.get("households"), int) and \
            not isinstance(pop.get("households"), bool) and pop["households"] > 400:
        pop["households"] = 400
    if isinstance(tree.get("replicates"), int) and tree["replicates"] > 2:
        tree["replicates"] = 2
    tree["output"] = str(folder / "out")
    return tree


def yaml_input(rng: random.Random, folder: Path, source: Path, name: str,
               clamp: Callable[[dict, Path], dict] | None = None) -> tuple[Path, str]:
    """A YAML input: valid, damaged in its tree or bytes, missing, or a folder."""
    path = folder / name
    if path.is_dir():
        shutil.rmtree(path)
    roll = rng.random()
    tree = _source_tree(source)
    if roll < 0.1:
        path.unlink(missing_ok=True)
        return path, "missing"
    if roll < 0.15:
        path.unlink(missing_ok=True)
        path.mkdir()
        return path, "a folder"
    if roll < 0.35:
        data, what = dump(clamp(copy.deepcopy(tree), folder) if clamp else tree), "valid"
    elif roll < 0.8:
        mutated = mutate_tree(tree, rng)
        if clamp and isinstance(mutated, dict):
            mutated = clamp(mutated, folder)
        data, what = dump(mutated), "tree damaged"
    else:
        data, what = mutate_bytes(dump(clamp(copy.deepcopy(tree), folder) if clamp else tree), rng), \
            "bytes damaged"
    path.write_bytes(data)
    return path, what


def microdata_input(rng: random.Random, folder: Path) -> tuple[Path, str]:
    work = folder / "md"
    if work.is_file():
        work.unlink()
    shutil.rmtree(work, ignore_errors=True)
    roll = rng.random()
    if roll < 0.1:
        return work, "missing"
    if roll < 0.15:
        work.write_text("not a folder")
        return work, "a file"
    shutil.copytree(folder / MICRODATA_BASE, work)
    if roll < 0.3:
        return work, "valid"
    return work, damage(work, rng)


def _choice(rng, *values):
    return [str(v) for v in rng.choice(values)]


def run_args(rng, folder) -> Args:
    exp, what = yaml_input(rng, folder, ROOT / "experiments" / "quickstart.yaml",
                           "experiment.yaml", _clamp_experiment)
    shutil.rmtree(folder / "out", ignore_errors=True)
    opts = ["--quiet"]
    opts += rng.choice([[], ["--no-report"], ["--lang", "en"], ["--lang", "fr"]])
    extra = rng.choice([[], [], ["--scheduler", "synchronous"], ["--scheduler", "threads"],
                        ["--scheduler", "bogus"], ["--scheduler", "local-cluster:0"],
                        ["--scheduler", "local-cluster:x"], ["--force"], ["--resume"]])
    names = (exp.name,) + tuple(extra[1:])            # a refused scheduler is named by value
    return ["run", str(exp)] + opts + extra, names, what


def validate_args(rng, folder) -> Args:
    source = rng.choice([ROOT / "experiments" / "quickstart.yaml",
                         CORPUS / "experiment_every_key.yaml"])
    # Clamped like `run`'s: the output inside the fuzz folder (an experiment may write only
    # inside its own project), so that valid experiments are accepted.
    exp, what = yaml_input(rng, folder, source, "experiment.yaml", _clamp_experiment)
    return ["validate", str(exp)], (exp.name,), what


def health_args(rng, folder) -> Args:
    spec, what = yaml_input(rng, folder, SPEC, "spec.yaml")
    opts = ["--households"] + _choice(rng, [20], [40], [19], [0], [-5], ["x"])
    opts += rng.choice([[], ["--json"], ["--check"], ["--seed", "-1"], ["--replicate", "3"],
                        ["--seed", str(2**64)]])
    return ["health", "describe", str(spec)] + opts, (spec.name,), what


def synth_args(rng, folder) -> Args:
    spec, what = yaml_input(rng, folder, SPEC, "spec.yaml")
    out = folder / "synth_out"
    if rng.random() < 0.8:
        shutil.rmtree(out, ignore_errors=True)
    opts = ["--households"] + _choice(rng, [30], [1], [0], [-1], ["many"])
    opts += ["--out", str(out)]
    opts += rng.choice([[], ["--row-group", "7"], ["--row-group", "0"], ["--seed", "-3"],
                        ["--force"], ["--replicate", "2"]])
    return ["population", "synth", str(spec)] + opts, (spec.name, out.name), what


def describe_args(rng, folder) -> Args:
    if rng.random() < 0.5:
        spec, what = yaml_input(rng, folder, SPEC, "spec.yaml")
        opts = ["--households"] + _choice(rng, [30], [1], [0], [-2])
        return ["population", "describe", str(spec)] + opts + rng.choice(
            [[], ["--json"], ["--strict"]]), (spec.name,), what
    md, what = microdata_input(rng, folder)
    opts = rng.choice([[], ["--json"], ["--strict"]])
    names: tuple[str, ...] = (md.name, "households.parquet", "persons.parquet")
    if rng.random() < 0.3:
        spec, spec_what = yaml_input(rng, folder, SPEC, "spec.yaml")
        opts += ["--spec", str(spec)]
        names += (spec.name,)
        what += f"; --spec {spec_what}"
    return ["population", "describe", str(md)] + opts, names, what


def check_args(rng, folder) -> Args:
    md, what = microdata_input(rng, folder)
    return ["population", "check", str(md)], (md.name, "households.parquet",
                                              "persons.parquet"), what


IMPORT_EXAMPLE = ROOT / "tests" / "fixtures" / "import"


def _survey_file(rng: random.Random, folder: Path, name: str) -> tuple[Path, str]:
    """A survey CSV of the import example: valid, damaged in its bytes, missing, or a folder."""
    path = folder / name
    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    roll = rng.random()
    if roll < 0.05:
        return path, "missing"
    if roll < 0.1:
        path.mkdir()
        return path, "a folder"
    data = (IMPORT_EXAMPLE / name).read_bytes()
    if roll < 0.6:
        path.write_bytes(data)
        return path, "valid"
    path.write_bytes(mutate_bytes(data, rng))
    return path, "bytes damaged"


def import_args(rng, folder) -> Args:
    mapping, what = yaml_input(rng, folder, IMPORT_EXAMPLE / "mapping.yaml", "mapping.yaml")
    households, what_h = _survey_file(rng, folder, "households.csv")
    persons, what_p = _survey_file(rng, folder, "persons.csv")
    out = folder / "imported"
    if rng.random() < 0.8:
        shutil.rmtree(out, ignore_errors=True)
    opts = rng.choice([[], ["--force"], ["--chunk-rows", "2"], ["--row-group", "1"],
                       ["--chunk-rows", "0"]])
    return ["population", "import", str(mapping), "--households", str(households), "--persons",
            str(persons), "--out", str(out)] + opts, \
        (mapping.name, households.name, persons.name, out.name), \
        f"mapping {what}; households {what_h}; persons {what_p}"


def calibrate_args(rng, folder) -> Args:
    spec, what = yaml_input(rng, folder, rng.choice([SPEC, ROOT / "populations" /
                                                     "xinjiang_2016.yaml"]), "spec.yaml")
    return ["population", "calibrate", str(spec)], (spec.name,), what


def show_args(rng, folder) -> Args:
    policy, what = yaml_input(rng, folder, rng.choice([NATIONAL, ROOT / "policies" / "zhejiang" /
                                                       "jiaxing_2025_plan.yaml"]), "policy.yaml")
    args = ["policy", "show", str(policy)]
    names = (policy.name,)
    if rng.random() < 0.4:
        overlay, o_what = yaml_input(rng, folder, ROOT / "policies" / "reforms" /
                                     "oop_cap_poor_families.yaml", "overlay.yaml")
        args += ["--reform", str(overlay)]
        names += (overlay.name,)
        what += f"; --reform {o_what}"
    return args, names, what


def diff_args(rng, folder) -> Args:
    a, what_a = yaml_input(rng, folder, NATIONAL, "a.yaml")
    if rng.random() < 0.5:
        b, what_b = yaml_input(rng, folder, ROOT / "policies" / "reforms" /
                               "raise_resident_inpatient_rates.yaml", "b.yaml")
    else:
        b, what_b = yaml_input(rng, folder, ROOT / "policies" / "shandong" / "weihai_2021.yaml",
                               "b.yaml")
    return ["policy", "diff", str(a), str(b)], (a.name, b.name), f"A {what_a}; B {what_b}"


def settle_args(rng, folder) -> Args:
    policy, what_p = yaml_input(rng, folder, rng.choice([NATIONAL, SIMPLE_POLICY]), "policy.yaml")
    case, what_c = yaml_input(rng, folder, CORPUS / "case_every_key.yaml", "case.yaml")
    opts = rng.choice([[], ["--json"]])
    return ["settle", str(policy), str(case)] + opts, (policy.name, case.name), \
        f"policy {what_p}; case {what_c}"


COMMANDS: dict[str, Callable[[random.Random, Path], Args]] = {
    "microsim run": run_args,
    "microsim validate": validate_args,
    "microsim health describe": health_args,
    "microsim population synth": synth_args,
    "microsim population describe": describe_args,
    "microsim population check": check_args,
    "microsim population import": import_args,
    "microsim population calibrate": calibrate_args,
    "microsim policy show": show_args,
    "microsim policy diff": diff_args,
    "microsim settle": settle_args,
}


# Slow commands get a share of a campaign's attempts: a run or a calibration takes seconds.
SHARES = {"microsim run": 0.4, "microsim population calibrate": 0.15}


def command_target(command: str, make_args: Callable[[random.Random, Path], Args]) -> Target:
    def attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
        args, names, what = make_args(rng, folder)
        verdict, error = judge_cli(args, names)
        return verdict, f"{what}; {' '.join(args)}", error
    return Target(command, command, attempt, write_base, SHARES.get(command, 1.0))


def cli_targets() -> list[Target]:
    return [command_target(name, make) for name, make in COMMANDS.items()]
