"""Hostile files: families of inputs built to hang, exhaust memory or mislead, through the loaders
and the command line. Each attempt must be refused (or accepted) within REFUSAL_SECONDS, with
the input named; a slower answer is a crash, as is anything the fuzzers count as one.

Families (one target each, in the table of docs/reliability.md):

- alias bombs: anchors nested in anchors, and merge keys of merges, in a random file kind, with
  random depth and fan-out (from harmless to 1e12 values once expanded);
- markup in names: console markup (`[bold]`, `[/x]`, `[v2]`, `[red]...`) in a scenario label,
  a poverty line's label or the output folder: `microsim validate` must accept it and print
  the text literally (a refusal must print the path literally);
- booleans and non-finite numbers: a number of an experiment or policy replaced by true/false,
  .nan, .inf, -.inf or the text "nan": refused (a cap's .inf, no cap, may be accepted);
- special files and link loops: a FIFO, a device, a folder or a loop of links where the
  experiment, a policy, the population spec or a microdata file is expected;
- long inherits chains: 17 to 400 files each inheriting the next (one short message);
- plans that cannot run: random households, replicates and chunk sizes up to 2e13 tasks.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from tests.fuzz.fuzzers import NATIONAL, SPEC, Target, judge

REFUSAL_SECONDS = 2.0
MARKUP = ["[bold]", "[/x]", "[v2]", "[red]a[/red]", "[/]", "[link=x]y", "\\[x]", "[#fff]"]


def _timed(verdict_error: tuple[str, str], start: float) -> tuple[str, str]:
    verdict, error = verdict_error
    seconds = time.perf_counter() - start
    if seconds > REFUSAL_SECONDS:
        return "crashed", f"took {seconds:.1f} s (more than {REFUSAL_SECONDS} s): {error}"
    return verdict, error


def _experiment_text(folder: Path, households: int = 1000, replicates: int = 1,
                     chunk: int = 1000, extra: str = "", label: str = "base",
                     output: str = "out", spec: Path = SPEC, policy: Path = NATIONAL) -> str:
    return (f"name: hostile\npopulation: {{spec: {spec}, households: {households}}}\n"
            f"year: 2023\nscenarios:\n  - name: baseline\n    label: {json.dumps(label)}\n"
            f"    policy: {policy}\nreplicates: {replicates}\nseed: 1\n"
            f"output: {json.dumps(output)}\nchunk_size: {chunk}\n{extra}")


def _load_experiment(path: Path) -> None:
    import microsim
    microsim.validate(path)


def _load_policy(path: Path) -> None:
    from microsim.policy.load import load_policy
    load_policy(path)


def _load_spec(path: Path) -> None:
    from microsim.population.spec import load_population_spec
    load_population_spec(path)


LOADERS = {"experiment.yaml": _load_experiment, "policy.yaml": _load_policy,
           "spec.yaml": _load_spec}


# ---------------------------------------------------------------------------- alias bombs

def alias_bomb(rng: random.Random) -> str:
    levels, fan = rng.randint(2, 12), rng.randint(2, 10)
    if rng.random() < 0.5:
        lines = [f"a0: &a0 [{', '.join(['x'] * fan)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
        return "\n".join(lines) + f"\nname: *a{levels - 1}\n"
    lines = ["m0: &m0 {k0: 1}"]
    lines += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * fan)}], k{i}: 1}}"
              for i in range(1, levels)]
    return "\n".join(lines) + f"\nname: *m{levels - 1}\n"


def alias_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    name = rng.choice(list(LOADERS))
    text = alias_bomb(rng)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    verdict, error = _timed(judge(lambda: LOADERS[name](path), (name,)), start)
    return verdict, text, error


# ---------------------------------------------------------------------------- console markup

def markup_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    from typer.testing import CliRunner

    from microsim.cli import app
    where = rng.choice(["label", "line label", "output"] + ["missing experiment"] * 3)
    text = "".join(rng.choice(MARKUP + ["a", " ", "中"]) for _ in range(rng.randint(1, 6)))
    exp = folder / "exp.yaml"
    if where == "label":
        exp.write_text(_experiment_text(folder, label=text), encoding="utf-8")
    elif where == "line label":
        exp.write_text(_experiment_text(folder, extra=(
            f"poverty_lines:\n  - name: dibao\n    label: {json.dumps(text)}\n    yuan: 5000\n")),
            encoding="utf-8")
    elif where == "output":
        exp.write_text(_experiment_text(folder, output=f"out {text}"), encoding="utf-8")
    else:
        exp = folder / f"missing {text}.yaml"
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["validate", str(exp)])
    seconds = time.perf_counter() - start
    shown = " ".join(result.output.split())
    expect = {"output": str((folder / f"out {text}").resolve()), "missing experiment": str(exp)}
    if result.exit_code not in (0, 2) or "internal error" in result.output \
            or "Traceback" in result.output:
        return "crashed", text, f"exit {result.exit_code}: {result.output[-300:]}"
    if where in expect and " ".join(expect[where].split()) not in shown:
        return "crashed", text, f"the text is not shown literally: {result.output[-300:]}"
    if seconds > REFUSAL_SECONDS + 3:      # validate builds the run's context: allow for it
        return "crashed", text, f"took {seconds:.1f} s"
    return ("accepted" if result.exit_code == 0 else "refused"), text, ""


# ---------------------------------------------------------------------------- numbers

NUMBER_KEYS_EXPERIMENT = ["population.households", "replicates", "seed", "chunk_size", "year"]
BAD_NUMBERS = ["true", "false", "yes", "no", ".nan", ".inf", "-.inf", "'nan'", "'inf'",
               "'Infinity'", "1e400"]


def numbers_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    bad = rng.choice(BAD_NUMBERS)
    if rng.random() < 0.5:
        key = rng.choice(NUMBER_KEYS_EXPERIMENT + ["targets", "poverty_lines", "subsistence"])
        extra = ""
        households, replicates, chunk = "1000", "1", "1000"
        text = _experiment_text(folder)
        if key == "targets":
            extra = f"targets:\n  - {{indicator: che10, document: d, target: {bad}}}\n"
        elif key == "poverty_lines":
            extra = f"poverty_lines:\n  - {{name: dibao, yuan: {bad}}}\n"
        elif key == "subsistence":
            extra = f"subsistence_line: {{yuan: {bad}}}\n"
        else:
            text = text.replace({"population.households": f"households: {households}",
                                 "replicates": f"replicates: {replicates}", "seed": "seed: 1",
                                 "chunk_size": f"chunk_size: {chunk}",
                                 "year": "year: 2023"}[key],
                                key.split(".")[-1] + f": {bad}")
        path = folder / "experiment.yaml"
        path.write_text(text + extra, encoding="utf-8")
        load, name = _load_experiment, "experiment.yaml"
    else:
        leaf = rng.choice(["basic: {urrbmi: {inpatient: {rate: {primary: %s}}}}",
                           "basic: {urrbmi: {inpatient: {deductible: {secondary: %s}}}}",
                           "basic: {urrbmi: {inpatient: {annual_cap: %s}}}"])
        text = f"inherits: {NATIONAL}\nname: hostile\n" + leaf % bad + "\n"
        path = folder / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        load, name = _load_policy, "policy.yaml"
    start = time.perf_counter()
    verdict, error = _timed(judge(lambda: load(path), (name,)), start)
    if verdict == "accepted" and not ("annual_cap" in text and bad in (".inf", "'inf'",
                                                                         "'Infinity'", "1e400")):
        return "crashed", text, f"{bad} was accepted as a number"
    return verdict, text, error


# ---------------------------------------------------------------------------- special files

def special_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    import shutil
    work = folder / f"w{rng.randrange(10**9)}"
    work.mkdir()
    role = rng.choice(["experiment", "policy", "spec", "households.parquet", "persons.parquet"])
    kind = rng.choice(["fifo", "device", "folder", "loop"])
    target = work / ("thing.yaml" if not role.endswith("parquet") else role)
    if role.endswith("parquet"):
        md = work / "md"
        md.mkdir()
        other = "persons.parquet" if role == "households.parquet" else "households.parquet"
        (md / other).write_bytes(b"PAR1\x00\x00\x00\x00PAR1")
        target = md / role
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/zero")
    elif kind == "folder":
        target.mkdir()
    else:
        loop_b = target.with_name(target.name + ".b")
        target.symlink_to(loop_b)
        loop_b.symlink_to(target)
    name = target.name
    if role == "experiment":
        call, names = (lambda: _load_experiment(target)), (name,)
    elif role in ("policy", "spec"):
        exp = work / "exp.yaml"
        exp.write_text(_experiment_text(work, **{role: target}), encoding="utf-8")
        call, names = (lambda: _load_experiment(exp)), (name, "exp.yaml")
    else:
        from microsim.population.microdata import check_microdata
        call, names = (lambda: check_microdata(target.parent)), (name, "md")
    start = time.perf_counter()
    verdict, error = _timed(judge(call, names), start)
    if verdict == "accepted":
        verdict, error = "crashed", f"a {kind} as the {role} was accepted"
    shutil.rmtree(work, ignore_errors=True)
    return verdict, f"{kind} as the {role}", error


# ---------------------------------------------------------------------------- inherits chains

def chain_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    from microsim.yamltree import load_tree
    work = folder / f"c{rng.randrange(10**9)}"
    work.mkdir()
    n = rng.randint(17, 400)
    for i in range(n):
        text = f"inherits: f{i + 1}.yaml\nk{i}: {i}\n" if i < n - 1 else "k: 1\n"
        (work / f"f{i}.yaml").write_text(text, encoding="utf-8")
    start = time.perf_counter()
    verdict, error = _timed(judge(lambda: load_tree(work / "f0.yaml"), ("f0.yaml",)), start)
    if verdict == "refused":
        try:
            load_tree(work / "f0.yaml")
        except Exception as exc:  # noqa: BLE001
            if len(str(exc)) > 500:
                verdict, error = "crashed", f"a message of {len(str(exc))} characters"
    elif verdict == "accepted":
        verdict, error = "crashed", f"a chain of {n} files was followed to its end"
    return verdict, f"a chain of {n} files", error


# ---------------------------------------------------------------------------- plans

def plan_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    from microsim.experiment import load_experiment
    households = rng.choice([1, 1000, 10**6, 10**8, 2 * 10**9])
    replicates = rng.choice([1, 10, 1000, 10_000])
    chunk = rng.choice([1, 10, 1000, 10**5, 10**7])
    path = folder / "experiment.yaml"
    path.write_text(_experiment_text(folder, households, replicates, chunk,
                                     output=str(folder / "out")), encoding="utf-8")
    exp = load_experiment(path)
    start = time.perf_counter()
    # The plan's refusal comes before anything is simulated: run it only when it is refused.
    from microsim.engine.run import check_plan
    verdict, error = _timed(judge(lambda: check_plan(exp, None, "threads"),
                                  ("experiment.yaml",)), start)
    excerpt = f"{households} households x {replicates} replicates / chunk {chunk}"
    if verdict == "accepted":
        return "accepted", excerpt, ""      # a plan that fits: not run here (it could be long)
    if (folder / "out").exists():
        return "crashed", excerpt, "the refused plan created its output"
    return verdict, excerpt, error


def hostile_targets() -> list[Target]:
    return [
        Target("alias bombs (nested anchors, merges)", "load experiment / policy / spec",
               alias_attempt),
        Target("console markup in labels and paths", "microsim validate", markup_attempt,
               share=0.2),
        Target("booleans and non-finite numbers", "load experiment / policy", numbers_attempt),
        Target("special files and link loops", "load experiment / microdata check",
               special_attempt),
        Target("long inherits chains", "load_tree", chain_attempt, share=0.3),
        Target("plans that cannot run", "check_plan", plan_attempt),
    ]

