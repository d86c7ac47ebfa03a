"""Input fuzzers: mutate valid inputs and check every entry point accepts them or refuses them cleanly.

A target is one entry point (a loader, a reader or a command) and the valid
input it starts from. Each attempt damages that input, feeds it to the entry
point and ends in one of:

- accepted: the entry point returned (the damage happened to be valid, and
  everything downstream of it ran: a policy settles a test chunk and keeps
  conservation, a population spec synthesises households and their illness,
  microdata is read and settled);
- refused: a `MicrosimError` whose message names the damaged file (or, for a
  command, a clean message and a non-zero exit code);
- crashed: anything else: another exception, a refusal that does not name
  the file, a command that prints a traceback or "internal error", or an
  attempt that hangs. A crash is a bug.

YAML inputs (experiments, population specs, policies, reform overlays,
calculator cases) are damaged in their parsed tree (drop, add, retype or
repeat a key; NaN, infinities, negatives, huge and tiny numbers, wrong
containers, broken citations) or in their bytes (truncation, flipped bytes,
invalid UTF-8, duplicated lines, tabs, random bytes). Parquet microdata,
results files and the command line have their own mutators
(`tests/fuzz/parquet.py`, `tests/fuzz/results.py`, `tests/fuzz/cli.py`).

`run(target, attempts, seed)` returns the counts and the first crashing
inputs; the tests run a bounded number of attempts, and `python -m
tests.fuzz` runs longer campaigns and prints the table of docs/reliability.md.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from microsim.errors import MicrosimError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
HANG_SECONDS = 60          # an attempt that takes longer than this is a crash (a hang)

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, -1e9, 1e300, math.nan, math.inf, -math.inf, 1.5, 2, 10**19,
    "", "x", "none", "-0.5", [], [1, 2], {}, {"a": 1}, {"value": 1}, {"value": 2, "source": ""},
    {"value": 0.5, "source": "assumption", "extra": 1}, "../../etc/passwd", "\u4e2d\u6587", "\x00",
    {"value": {"value": 1, "source": "x"}, "source": "x"}, [[[]]], "1e400", -0.0, 1e-320,
]
# Extreme but valid numbers: a mutation to one of these should usually be accepted and
# then has to run through everything downstream of the loader.
EDGE_NUMBERS: list[float] = [0, 0.0, 1, 1.0, 0.5, 1e-9, 1e8, 2, 100, 120]


@dataclass
class Outcome:
    tried: int = 0
    accepted: int = 0
    refused: int = 0
    crashed: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)   # (input excerpt, error)


@dataclass
class Target:
    """An entry point under fuzzing.

    `attempt(rng, folder)` damages the input, runs the entry point and returns
    (verdict, input excerpt, error); `prepare(folder)` runs once before the
    attempts (to write a base input, compile kernels, ...)."""

    name: str
    entry: str                                                  # what is called, for the table
    attempt: Callable[[random.Random, Path], tuple[str, str, str]]
    prepare: Callable[[Path], None] | None = None
    share: float = 1.0      # share of a campaign's attempts (slow entry points get fewer)

    def attempts(self, n: int) -> int:
        return max(1, round(n * self.share))


def judge(call: Callable[[], object], names: tuple[str, ...]) -> tuple[str, str]:
    """Run `call`: ('accepted', ''), ('refused', '') for a MicrosimError naming one of
    `names`, or ('crashed', why)."""
    try:
        call()
    except MicrosimError as exc:
        text = str(exc)
        if any(n in text for n in names):
            return "refused", ""
        return "crashed", f"refusal does not name {names[0]}: {text}"
    except RecursionError:
        return "crashed", "RecursionError"
    except Exception as exc:  # noqa: BLE001 - any other exception is a crash by definition
        return "crashed", f"{type(exc).__name__}: {exc}"
    return "accepted", ""


# ---------------------------------------------------------------------------- YAML mutations

def _paths(node: Any, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _parent(tree: Any, path: tuple) -> Any:
    node = tree
    for p in path[:-1]:
        node = node[p]
    return node


def mutate_tree(tree: dict, rng: random.Random, new_keys: tuple[str, ...] = ()) -> dict:
    """One to three random edits of a parsed YAML tree."""
    tree = copy.deepcopy(tree)
    keys = ["colour", "rate_typo", "annual_cap2", "value", "source", "note", "inherits",
            *new_keys]
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(tree) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = _parent(tree, path)
        key = path[-1]
        action = rng.random()
        if action < 0.2 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.3 and isinstance(parent, dict):
            parent[rng.choice(keys)] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action < 0.4 and isinstance(parent, list) and parent:
            if rng.random() < 0.5:
                parent.append(copy.deepcopy(rng.choice(parent)))
            elif rng.random() < 0.5:
                parent.clear()
            else:
                parent.append(copy.deepcopy(rng.choice(ODD_VALUES)))
        elif action < 0.6:
            old = parent[key]
            if isinstance(old, (int, float)) and not isinstance(old, bool):
                parent[key] = rng.choice([-old, old * 1e6, old + 1, -1e-9, math.nan, math.inf,
                                          str(old), old * 1e300 if old else 1e300])
            elif isinstance(old, str):
                parent[key] = rng.choice(["", old + "x", old.upper(), old[: len(old) // 2],
                                          " " + old, rng.choice(ODD_VALUES)])
            else:
                parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action < 0.8:
            old = parent[key]
            if isinstance(old, (int, float)) and not isinstance(old, bool):
                parent[key] = rng.choice(EDGE_NUMBERS)
            else:
                parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return tree


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Byte-level damage: truncation, flips, invalid UTF-8, duplicated lines, tabs, random bytes."""
    kind = rng.randrange(7)
    if kind == 0 and data:
        return data[: rng.randrange(len(data))]
    if kind == 1 and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == 2:
        return data + b"\n\xff\xfe bad: \xc3\x28\n"
    if kind == 3:
        lines = data.splitlines(keepends=True)
        if lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        return b"".join(lines)
    if kind == 4:
        return data.replace(b"  ", b"\t", rng.randint(1, 5))
    if kind == 5:
        return rng.choice([b"", b"\n", b"---\n...\n", b"[1, 2]", b"a: &a [*a]", b"\xef\xbb\xbf",
                           b"key: !!python/object/apply:os.system ['true']",
                           b"a: " + b"[" * 5000, b"x: 1\n" * 3, b"- - - -"])
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))


def _absolutise(tree: Any, base: Path) -> Any:
    """Make relative file references absolute so a mutated copy elsewhere still finds them."""
    if isinstance(tree, dict):
        return {k: _absolutise(v, base) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_absolutise(v, base) for v in tree]
    if isinstance(tree, str) and (tree.endswith((".yaml", ".yml")) or tree.startswith("../")) \
            and not tree.startswith("/"):
        return str((base / tree).resolve())
    return tree


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump(tree: Any) -> bytes:
    return yaml.dump(tree, Dumper=_DUMPER, allow_unicode=True, sort_keys=False).encode("utf-8")


@functools.lru_cache(maxsize=None)
def _parsed(source: Path, _mtime: int) -> Any:
    raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_LOADER)
    return _absolutise(raw, source.parent)


def _source_tree(source: Path) -> Any:
    """The source file parsed (once per version of the file), relative paths made absolute."""
    return _parsed(source, source.stat().st_mtime_ns)


def yaml_target(name: str, entry: str, source: Path | Callable[[Path], Path],
                load: Callable[[Path], object], filename: str,
                new_keys: tuple[str, ...] = (), prepare: Callable[[Path], None] | None = None
                ) -> Target:
    """A YAML loader: `source` is a valid file (or a function of the fuzz folder giving one)."""

    def attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
        src = source(folder) if callable(source) else source
        tree = _source_tree(src)
        if rng.random() < 0.7:
            mutated = dump(mutate_tree(tree, rng, new_keys))
        else:
            mutated = mutate_bytes(dump(tree), rng)
        path = folder / filename
        path.write_bytes(mutated)
        verdict, error = judge(lambda: load(path), (filename,))
        return verdict, mutated[:400].decode("utf-8", "replace"), error

    return Target(name, entry, attempt, prepare)


# ---------------------------------------------------------------------------- running

class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang(f"no answer within {HANG_SECONDS} s")


def run(target: Target, attempts: int, seed: int = 0) -> Outcome:
    """`attempts` damaged inputs through one target."""
    rng = random.Random(f"{target.name}-{seed}")
    out = Outcome()
    use_alarm = hasattr(signal, "SIGALRM")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if target.prepare is not None:
            target.prepare(folder)
        for _ in range(attempts):
            previous = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
            if use_alarm:
                signal.alarm(HANG_SECONDS)
            try:
                verdict, data, error = target.attempt(rng, folder)
            except Hang as exc:
                verdict, data, error = "crashed", "", str(exc)
            finally:
                if use_alarm:
                    signal.alarm(0)
                    signal.signal(signal.SIGALRM, previous)
            out.tried += 1
            setattr(out, verdict, getattr(out, verdict) + 1)
            if verdict == "crashed" and len(out.crashes) < 10:
                out.crashes.append((data[:300], error))
    return out


# ---------------------------------------------------------------------------- the YAML targets

NATIONAL = ROOT / "policies" / "china" / "national_2023.yaml"
SIMPLE_POLICY = ROOT / "tests" / "fixtures" / "policy_simple.yaml"
SPEC = ROOT / "populations" / "china_2023.yaml"
EXPERIMENT_KEYS = ("targets", "poverty_lines", "societal_poverty_line", "subsistence_line",
                   "chunk_size", "format", "compute", "groups", "description")


def load_experiment_fully(path: Path) -> None:
    """What `microsim run` does before its first chunk: load and validate the experiment and
    every file it references, then build the run's context (catalogue, layout, parameters)."""
    from microsim.engine.run import build_context
    from microsim.experiment import load_experiment
    build_context(load_experiment(path))


@functools.lru_cache(maxsize=1)
def test_chunk():
    """A few hand-built households covering every scheme, status and kind of bill."""
    from tests.builders import build, household, person
    kinds = {"general_primary": (300, 20, 10), "general_tertiary": (2000, 100, 50),
             "hypertension": (900, 0, 0), "diabetes": (1500, 30, 0),
             "special_chronic": (12000, 500, 300), "special_drugs": (40000, 0, 20000)}
    adm = [("primary", 3000, 100, 50), ("secondary", 20000, 1500, 800, True, False),
           ("tertiary", 150000, 9000, 30000, False, True)]
    members = []
    for i, scheme in enumerate(("uninsured", "uebmi_employed", "uebmi_retired", "urrbmi")):
        members.append(person(scheme=scheme, age=20 + 20 * i, wage=60000.0 if i == 1 else 0.0,
                              chronic=i % 4, disabled=i == 2, supplementary=i == 3,
                              admissions=adm[: i + 1], outpatient=kinds))
    hhs = [household(residence=res, status=status, income=income, members=members[k:k + 2])
           for k, (res, status, income) in enumerate(
               [("urban", "general", 90000.0), ("rural", "dibao", 6000.0),
                ("rural", "tekun", 0.0)])]
    hhs.append(household(residence="urban", status="monitored", income=30000.0,
                         members=members))
    hhs.append(household(residence="rural", status="dibian", income=12000.0,
                         members=members[:1]))
    return build(hhs)


def settle_test_chunk(policy) -> None:
    """Settle the test chunk under a policy and check conservation (any failure is a crash)."""
    from microsim.policy.arrays import build_arrays
    from microsim.settlement.settle import check_conservation, settle
    hh, ps, ev = test_chunk()
    claims = settle(build_arrays(policy), hh, ps, ev, seed=1, replicate=0)
    check_conservation(ev, claims)


def load_and_settle_policy(path: Path, reforms: tuple[Path, ...] = ()) -> None:
    from microsim.policy.load import load_policy
    settle_test_chunk(load_policy(path, list(reforms)))


def load_and_settle_overlay(base: Path, path: Path) -> None:
    load_and_settle_policy(base, (path,))


def load_and_synthesise_spec(path: Path) -> None:
    """Load a spec, synthesise a few households, draw their year of illness, settle it under
    the national policy (with the conservation check) and add it into the accumulators."""
    from microsim.health.events import draw_events, health_params
    from microsim.engine.results import check_exact
    from microsim.metrics.accumulate import accumulate, income_bin_edges, new_accumulators
    from microsim.metrics.indicators import load_catalogue, make_layout
    from microsim.policy.arrays import build_arrays
    from microsim.population.spec import load_population_spec
    from microsim.population.synth import synth_params, synthesize
    from microsim.settlement.settle import check_conservation, settle
    spec = load_population_spec(path)
    hh, ps = synthesize(spec, 0, 40, 40, 1, 0, synth_params(spec))
    ev = draw_events(hh, ps, spec, 1, 0, health_params(spec))
    claims = settle(build_arrays(_policy(NATIONAL)), hh, ps, ev, 1, 0)
    check_conservation(ev, claims)
    layout = make_layout(load_catalogue(("dibao",)), [("dibao", (9000.0, 7000.0))],
                         income_bin_edges())
    acc = new_accumulators(layout)
    accumulate(acc, layout, hh, ps, ev, claims)
    check_exact(acc, 0, path)          # as the engine does: sums out of range are refused


@functools.lru_cache(maxsize=None)
def _policy(path: Path):
    from microsim.policy.load import load_policy
    return load_policy(path)


def load_and_settle_case(path: Path) -> None:
    """Load a calculator case and settle it under two policies (what `microsim settle` does)."""
    from microsim.settlement.cases import load_case, settle_case
    case = load_case(path)
    for policy in (SIMPLE_POLICY, NATIONAL):
        settle_case(_policy(policy), case)


def _overlay_base(overlay: Path) -> Path:
    applies_to = yaml.load(overlay.read_text(encoding="utf-8"), Loader=_LOADER).get("applies_to")
    if isinstance(applies_to, list):            # several files: the first one
        applies_to = applies_to[0] if applies_to else None
    return (overlay.parent / applies_to).resolve() if applies_to else NATIONAL


def yaml_targets() -> list[Target]:
    out = [
        yaml_target("experiment (quickstart)", "load_experiment + build_context",
                    ROOT / "experiments" / "quickstart.yaml", load_experiment_fully,
                    "experiment.yaml", EXPERIMENT_KEYS),
        yaml_target("experiment (every key)", "load_experiment + build_context",
                    CORPUS / "experiment_every_key.yaml", load_experiment_fully,
                    "experiment.yaml", EXPERIMENT_KEYS),
        yaml_target("population spec (national)", "load_population_spec + synthesize + settle",
                    SPEC, load_and_synthesise_spec, "spec.yaml"),
        yaml_target("population spec (inheriting)", "load_population_spec + synthesize + settle",
                    ROOT / "populations" / "zhejiang_lishui_2020.yaml", load_and_synthesise_spec,
                    "spec.yaml"),
        yaml_target("policy (national)", "load_policy + build_arrays + settle",
                    NATIONAL, load_and_settle_policy, "policy.yaml"),
        yaml_target("policy (inheriting, Weihai 2021)", "load_policy + build_arrays + settle",
                    ROOT / "policies" / "shandong" / "weihai_2021.yaml", load_and_settle_policy,
                    "policy.yaml"),
        yaml_target("policy (dual track, Xinjiang 2017)", "load_policy + build_arrays + settle",
                    ROOT / "policies" / "xinjiang" / "xinjiang_2017_pre_integration.yaml",
                    load_and_settle_policy, "policy.yaml"),
        yaml_target("policy (Jiaxing 2025 plan)", "load_policy + build_arrays + settle",
                    ROOT / "policies" / "zhejiang" / "jiaxing_2025_plan.yaml",
                    load_and_settle_policy, "policy.yaml"),
    ]
    for reform in sorted((ROOT / "policies" / "reforms").glob("*.yaml")):
        base = _overlay_base(reform)
        out.append(yaml_target(f"reform overlay ({reform.stem})",
                               "load_policy(base, [overlay]) + settle", reform,
                               functools.partial(load_and_settle_overlay, base), "overlay.yaml",
                               ("remove", "changes", "add", "applies_to")))
    for case in (ROOT / "tests" / "fixtures" / "cases" / "dibao_two_admissions.yaml",
                 CORPUS / "case_every_key.yaml"):
        out.append(yaml_target(f"calculator case ({case.stem})", "load_case + settle_case",
                               case, load_and_settle_case, "case.yaml"))
    return out


def targets() -> list[Target]:
    """Every target, in the order of the table in docs/reliability.md."""
    from tests.fuzz.checkpoint import checkpoint_targets
    from tests.fuzz.cli import cli_targets
    from tests.fuzz.hostile import hostile_targets
    from tests.fuzz.parquet import microdata_targets
    from tests.fuzz.results import results_targets
    return (yaml_targets() + microdata_targets() + results_targets() + checkpoint_targets()
            + cli_targets() + hostile_targets())
