"""Free parameters: values of an experiment's inputs that a calibration or a sensitivity
analysis may move, and the experiment with them moved.

Takes: an `Experiment` and settings of parameters, each a key path of the population spec
or of the scenarios' policies. Gives: a new `Experiment` whose population spec and policies
carry the new values, validated exactly as the files would be, so a value the files could
not hold is refused the same way.

A parameter is one number set at one or more keys (`mode: value`: the fitted number
replaces each), a multiplier of numbers or lists of numbers (`mode: scale`: every number
under each key is multiplied by the fitted factor, so a profile keeps its shape and moves
its level), or a shift of them (`mode: shift`: the fitted amount is added to each number,
as a rate moved by some points at every level). Scale and shift act on the parameter's
`base` levels where it records them, so a fit does not depend on values an earlier fit
wrote. A policy key is changed in every scenario whose policy has it.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Literal

from microsim.errors import InputError
from microsim.experiment import Experiment
from microsim.policy.load import Policy
from microsim.policy.schema import PolicyFile
from microsim.population.spec import spec_from_tree
from microsim.schema import validate_tree
from microsim.yamltree import KeyPath, Tree, dotted

Input = Literal["population", "policy"]
Mode = Literal["value", "scale", "shift"]


@dataclass(frozen=True)
class Parameter:
    """A number (or a level of numbers) of one input, with the bounds it may move within."""

    name: str
    input: Input
    keys: tuple[KeyPath, ...]
    mode: Mode
    lower: float
    upper: float
    base: dict = dataclasses.field(default_factory=dict)   # scale mode: key path -> level x 1


def _node(values: dict, path: KeyPath):
    node = values
    for p in path:
        if isinstance(node, list):
            if not p.isdigit() or int(p) >= len(node):
                return None, False
            node = node[int(p)]
        elif isinstance(node, dict) and p in node:
            node = node[p]
        else:
            return None, False
    return node, True


def has_key(tree: Tree, key: KeyPath) -> bool:
    """Whether the resolved tree holds `key` (list items addressed by their index)."""
    return _node(tree.values, key)[1]


def value_at(tree: Tree, key: KeyPath):
    """The value at `key` in the resolved tree (None where it has no such key)."""
    return _node(tree.values, key)[0]


def _set(values: dict, path: KeyPath, new) -> None:
    parent, _ = _node(values, path[:-1])
    if isinstance(parent, list):
        parent[int(path[-1])] = new
    else:
        parent[path[-1]] = new


def as_type(old, x: float):
    """`x` as a value of the kind `old` is: a whole number where the file holds one (a count)."""
    return int(round(float(x))) if isinstance(old, int) and not isinstance(old, bool) \
        else float(x)


def moved(node, mode: str, x: float, where: str):
    """`node` (a number or nested lists of numbers) with every number scaled by `x` (scale)
    or `x` added to it (shift)."""
    if isinstance(node, bool) or node is None:
        raise ValueError(f"{where} is not a number")
    if isinstance(node, (int, float)):
        return float(node) * x if mode == "scale" else float(node) + x
    if isinstance(node, list):
        return [moved(v, mode, x, f"{where}.{i}") for i, v in enumerate(node)]
    raise ValueError(f"{where} holds {type(node).__name__}, not numbers")


def current(exp: Experiment, param: Parameter) -> float:
    """The parameter's value as the experiment's files hold it: the number (value mode), or
    the factor (scale) or amount (shift) that takes the first key's recorded base to the
    files' numbers, read on the first number whose base is not zero (NaN where none is)."""
    tree = _trees(exp, param)[0]
    key = param.keys[0]
    node = value_at(tree, key)
    if param.mode != "value":
        pairs = [(n, b) for n, b in zip(_flat(node), _flat(param.base[key]))
                 if b or param.mode == "shift"]
        if not pairs:
            return float("nan")
        node, base = pairs[0]
        return float(node) / float(base) if param.mode == "scale" else float(node) - float(base)
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise InputError(tree.file_of(key), f"parameter {param.name!r} must be one "
                         "number in value mode (use mode: scale for a list)",
                         key=dotted(key), value=node, has_value=True)
    return float(node)


def _flat(v) -> list:
    return [x for e in v for x in _flat(e)] if isinstance(v, list) else [v]


def _trees(exp: Experiment, param: Parameter) -> list[Tree]:
    """The trees holding every key of the parameter (the spec, or each policy that has it)."""
    if param.input == "population":
        if exp.population is None:
            raise InputError(exp.path, f"parameter {param.name!r} moves the population spec, "
                             "and the experiment has none")
        trees = [exp.population.tree]
    else:
        trees = [s.policy.tree for s in exp.scenarios
                 if all(_node(s.policy.tree.values, k)[1] for k in param.keys)]
    missing = [k for k in param.keys if not trees or not _node(trees[0].values, k)[1]]
    if missing:
        where = exp.population.path if param.input == "population" else exp.path
        raise InputError(where, f"parameter {param.name!r}: the {param.input} has no key "
                         f"'{dotted(missing[0])}'")
    return trees


def with_parameters(exp: Experiment, settings: list[tuple[Parameter, float]]) -> Experiment:
    """A copy of `exp` with each parameter set (value mode) or its keys scaled (scale mode),
    validated as the input files are."""
    spec_tree = copy.deepcopy(exp.population.tree) if exp.population is not None else None
    policy_trees = [copy.deepcopy(s.policy.tree) for s in exp.scenarios]
    touched = {"population": False, "policies": set()}
    for param, x in settings:
        if param.input == "population":
            targets = [spec_tree]
            touched["population"] = True
        else:
            have = [i for i, t in enumerate(policy_trees)
                    if all(_node(t.values, k)[1] for k in param.keys)]
            targets = [policy_trees[i] for i in have]
            touched["policies"].update(have)
        _trees(exp, param)            # refuses a key that no input has
        for tree in targets:
            for key in param.keys:
                old = param.base[key] if key in param.base else value_at(tree, key)
                try:
                    new = (as_type(old, x) if param.mode == "value"
                           else moved(old, param.mode, float(x), dotted(key)))
                except ValueError as exc:
                    raise InputError(tree.file_of(key), f"parameter {param.name!r}: {exc}",
                                     key=dotted(key)) from None
                _set(tree.values, key, new)
    population = exp.population
    if touched["population"]:
        population = spec_from_tree(exp.population.path, spec_tree)
    scenarios = list(exp.scenarios)
    for i in sorted(touched["policies"]):
        old = scenarios[i].policy
        data = validate_tree(PolicyFile, policy_trees[i], "policy")
        scenarios[i] = dataclasses.replace(scenarios[i], policy=Policy(
            data, policy_trees[i], old.files, old.reform_names))
    return dataclasses.replace(exp, population=population, scenarios=tuple(scenarios))
