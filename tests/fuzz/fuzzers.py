"""Input fuzzers: mutate shipped input files and check every loader refuses bad input cleanly.

A target is a loader (experiment, population spec, policy, reform overlay)
and a shipped file it accepts. Each attempt mutates the file's YAML tree or
its raw bytes (drop, add or retype a key, put NaN, infinity, negatives, huge
numbers, wrong containers, duplicate keys, truncation, invalid UTF-8, random
bytes), writes it, and calls the loader. An attempt ends in one of:

- accepted: the loader returned (the mutation happened to be valid);
- refused: a `MicrosimError` whose message names the mutated file;
- crashed: anything else (another exception, or a refusal that does not name
  the file). A crash is a bug.

`run(target, attempts, seed)` returns counts and the crashing inputs; the
tests run a bounded number of attempts, and `python -m tests.fuzz` runs
longer campaigns and prints the table of docs/reliability.md.
"""

from __future__ import annotations

import copy
import math
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from microsim.errors import MicrosimError

ROOT = Path(__file__).resolve().parents[2]

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, -1e9, 1e300, math.nan, math.inf, -math.inf, 1.5, 2, 10**19,
    "", "x", "none", "-0.5", [], [1, 2], {}, {"a": 1}, {"value": 1}, {"value": 2, "source": ""},
    {"value": 0.5, "source": "assumption", "extra": 1}, "../../etc/passwd", "\u4e2d\u6587", "\x00",
]


@dataclass
class Outcome:
    tried: int = 0
    accepted: int = 0
    refused: int = 0
    crashed: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)   # (input excerpt, error)


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


def mutate_tree(tree: dict, rng: random.Random) -> dict:
    """One to three random edits of a parsed YAML tree."""
    tree = copy.deepcopy(tree)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(tree) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = _parent(tree, path)
        key = path[-1]
        action = rng.random()
        if action < 0.25 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.4 and isinstance(parent, dict):
            parent[rng.choice(["colour", "rate_typo", "annual_cap2", "value", "source", "inherits"])] = \
                rng.choice(ODD_VALUES)
        elif action < 0.55 and isinstance(parent, list) and parent:
            parent.append(copy.deepcopy(rng.choice(parent)) if rng.random() < 0.5 else rng.choice(ODD_VALUES))
        elif action < 0.7:
            old = parent[key]
            if isinstance(old, (int, float)) and not isinstance(old, bool):
                parent[key] = rng.choice([-old, old * 1e6, old + 1, -1e-9, math.nan, math.inf, str(old)])
            else:
                parent[key] = rng.choice(ODD_VALUES)
        else:
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return tree


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Byte-level damage: truncation, flips, invalid UTF-8, duplicated lines, tabs, random bytes."""
    kind = rng.randrange(6)
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
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))


@dataclass
class Target:
    name: str
    source: Path                               # a shipped file the loader accepts
    load: Callable[[Path], object]             # the loader under test
    filename: str = "input.yaml"


def _absolutise(tree: Any, base: Path) -> Any:
    """Make relative file references absolute so a mutated copy elsewhere still finds them."""
    if isinstance(tree, dict):
        return {k: _absolutise(v, base) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_absolutise(v, base) for v in tree]
    if isinstance(tree, str) and tree.endswith((".yaml", ".yml")) and not tree.startswith("/"):
        return str((base / tree).resolve())
    return tree


def attempt(target: Target, rng: random.Random, folder: Path) -> tuple[str, bytes, str]:
    """One mutated input through the loader: ('accepted'|'refused'|'crashed', input, error)."""
    original = target.source.read_bytes()
    tree = _absolutise(yaml.safe_load(original), target.source.parent)
    if rng.random() < 0.7:
        mutated = yaml.safe_dump(mutate_tree(tree, rng), allow_unicode=True, sort_keys=False).encode("utf-8")
    else:
        mutated = mutate_bytes(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False).encode("utf-8"), rng)
    path = folder / target.filename
    path.write_bytes(mutated)
    try:
        target.load(path)
    except MicrosimError as exc:
        if target.filename in str(exc) or path.name in str(exc):
            return "refused", mutated, ""
        return "crashed", mutated, f"refusal does not name the file: {exc}"
    except Exception as exc:  # noqa: BLE001 - any other exception is a crash by definition
        return "crashed", mutated, f"{type(exc).__name__}: {exc}"
    return "accepted", mutated, ""


def run(target: Target, attempts: int, seed: int = 0) -> Outcome:
    rng = random.Random(f"{target.name}-{seed}")
    out = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(attempts):
            verdict, data, error = attempt(target, rng, Path(tmp))
            out.tried += 1
            setattr(out, verdict, getattr(out, verdict) + 1)
            if verdict == "crashed" and len(out.crashes) < 10:
                out.crashes.append((data[:300].decode("utf-8", "replace"), error))
    return out


def targets() -> list[Target]:
    from microsim.experiment import load_experiment
    from microsim.policy.load import load_policy
    from microsim.population.spec import load_population_spec
    national = ROOT / "policies" / "china" / "national_2023.yaml"
    out = [
        Target("experiment", ROOT / "experiments" / "quickstart.yaml", load_experiment, "experiment.yaml"),
        Target("population spec", ROOT / "populations" / "china_2023.yaml", load_population_spec, "spec.yaml"),
        Target("policy", national, load_policy, "policy.yaml"),
    ]
    for reform in sorted((ROOT / "policies" / "reforms").glob("*.yaml"))[:3]:
        out.append(Target(f"reform overlay ({reform.stem})", reform,
                          lambda p, _n=national: load_policy(_n, [p]), "overlay.yaml"))
    return out
