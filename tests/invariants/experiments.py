"""Shipped experiments at small size, their chunk pipeline step by step, and the invariants of
settlement that must hold for every household of every scenario.

- `shipped_experiments()`: every `experiments/*.yaml`, found when the tests run.
- `small_copy(path, folder, ...)`: a copy with fewer households and replicates, another chunk
  size and scheduler, and the output in `folder` (relative paths made absolute); a projection
  becomes a one-year run of its last year, where its scenarios' policies differ most.
- `chunks(exp)`: for every task and scenario, the chunk's households, persons, events and
  claims, exactly as a run computes them (`engine.run.build_context`,
  `engine.chunk.population_chunk`, `health.events.draw_events`, `settlement.settle`).
- `cap_violations(policy, ...)`: layer payments above their annual caps.
- `household_paid`, `household_oop`, `household_left_after`: per-household sums of payer
  columns; `first_changed_layer(changes)`: the first layer a reform touches.
- `generous_changes(before, after)`: whether every value a scenario changes moves in the
  generous direction (rates and caps up; deductibles, thresholds, rate cuts and
  out-of-pocket caps down; financing, names and texts left aside), and the changes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import yaml

from microsim import codes
from microsim.policy.schema import PolicyFile

ROOT = Path(__file__).resolve().parents[2]
B, CII, MA, SUP, ACC, OOP = range(6)
GROUP_NAMES = ("none",) + codes.STATUS[1:] + ("illness_hardship",)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def shipped_experiments() -> list[Path]:
    return sorted((ROOT / "experiments").glob("*.yaml"))


def _absolute(value: str, base: Path) -> str:
    return value if value.startswith("/") else str((base / value).resolve())


def small_copy(path: Path, folder: Path, households: int = 600, replicates: int = 2,
               chunk_size: int = 150, compute: str = "threads", name: str = "small") -> Path:
    """A small copy of an experiment in `folder`, writing its output there. A projection
    (`until`) is cut to a one-year run of its last year: its schedules give that year's
    policies, the population is moved to that year by its index series, and its targets are
    kept where they are checked in that year."""
    tree = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    if tree.get("until") is not None:
        last = tree["year"] = tree.pop("until")
        targets = [t for t in tree.get("targets", []) if last in t.get("years", [last])]
        for t in targets:
            t.pop("years", None)
        tree["targets"] = targets
    base = path.parent
    pop = tree["population"]
    for key in ("spec", "microdata"):
        if key in pop:
            pop[key] = _absolute(pop[key], base)
    if "households" in pop:
        pop["households"] = min(int(pop["households"]), households)
    for scen in tree["scenarios"]:
        policy = scen["policy"]
        scen["policy"] = ({year: _absolute(f, base) for year, f in policy.items()}
                          if isinstance(policy, dict) else _absolute(policy, base))
        scen["reforms"] = [_absolute(r, base) for r in scen.get("reforms", [])]
    tree["replicates"] = min(int(tree.get("replicates", 1)), replicates)
    tree["chunk_size"] = chunk_size
    tree["compute"] = compute
    tree["output"] = str(folder / f"out_{name}")
    out = folder / f"{path.stem}_{name}.yaml"
    out.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def chunks(exp) -> Iterator[tuple]:
    """(task, scenario index, households, persons, events, claims) of every chunk of a run."""
    from microsim.engine.chunk import population_chunk
    from microsim.engine.plan import make_plan
    from microsim.engine.run import build_context
    from microsim.health.events import draw_events
    from microsim.settlement.settle import settle
    ctx, _ = build_context(exp)
    for task in make_plan(exp.households, exp.file.chunk_size, exp.file.replicates):
        hh, ps = population_chunk(ctx, task)
        ev = draw_events(hh, ps, ctx.spec, ctx.seed, task.replicate, ctx.health)
        for s, policy in enumerate(ctx.policies):
            yield task, s, hh, ps, ev, settle(policy, hh, ps, ev, ctx.seed, task.replicate)


def _rules(pol: PolicyFile, scheme: str, residence: str):
    if scheme != "urrbmi" or pol.basic.urrbmi is not None:
        return getattr(pol.basic, scheme)
    return pol.basic.urbmi if residence == "urban" else pol.basic.ncms


def cap_violations(pol: PolicyFile, hh, ps, ev, c, tol: float = 0.01) -> list[str]:
    """Every annual cap a layer's payments exceed, person by person (empty when all hold)."""
    out = []
    ma = pol.medical_assistance
    for j in range(len(ps)):
        first, last = ev.adm_offsets[j], ev.adm_offsets[j + 1]
        adm, op = c.admission_paid[first:last], c.outpatient_paid[j]
        scheme = codes.SCHEME[ps.scheme[j]]
        residence = codes.RESIDENCE[hh.residence[ps.hh[j]]]
        status = codes.STATUS[hh.status[ps.hh[j]]]

        def over(paid: float, cap: float, what: str) -> None:
            if paid > cap + tol:
                out.append(f"person {j} ({scheme}, {status}): {what} {paid:.2f} > cap {cap:.2f}")

        if scheme == "uninsured":
            over(adm[:, B].sum() + op[:, B].sum(), 0.0, "basic")
            continue
        rules = _rules(pol, scheme, residence)
        if rules.inpatient.cap_on == "payout":
            over(adm[:, B].sum(), rules.inpatient.annual_cap, "basic inpatient")
        over(op[:3, B].sum(), rules.outpatient.annual_cap if rules.outpatient else 0.0,
             "basic outpatient pooling")
        td = rules.two_disease
        over(op[3, B], td.caps.hypertension if td else 0.0, "basic hypertension")
        over(op[4, B], td.caps.diabetes if td else 0.0, "basic diabetes")
        if td is not None and td.caps.combined is not None:
            over(op[3:5, B].sum(), td.caps.combined, "basic two diseases combined")
        over(op[5, B], rules.special_chronic.annual_cap if rules.special_chronic else 0.0,
             "basic special chronic")
        over(op[6, B], rules.special_drugs.annual_cap if rules.special_drugs else 0.0,
             "basic special drugs")
        cii = pol.critical_illness.employees if scheme.startswith("uebmi") else \
            pol.critical_illness.residents
        total_cii = adm[:, CII].sum() + op[:, CII].sum()
        if cii is None:
            over(total_cii, 0.0, "critical illness")
        elif not (status in cii.tilt and cii.tilt[status].no_cap):
            drugs = cii.special_drugs.annual_cap if cii.special_drugs else 0.0
            over(total_cii, cii.annual_cap + drugs, "critical illness")
        sup = adm[:, SUP].sum() + op[:, SUP].sum()
        if pol.supplementary is None or not c.enrolled[j]:
            over(sup, 0.0, "supplementary")
        else:
            over(sup, sum(li.annual_cap for li in pol.supplementary.liabilities), "supplementary")
    if ma.oop_cap is None:          # an out-of-pocket cap makes assistance pay above its caps
        for j in range(len(ps)):
            first, last = ev.adm_offsets[j], ev.adm_offsets[j + 1]
            group = GROUP_NAMES[c.group[ps.hh[j]]]
            paid = c.admission_paid[first:last, MA].sum() + c.outpatient_paid[j, :, MA].sum()
            if group not in ma.groups:
                if paid > tol:
                    out.append(f"person {j}: assistance {paid:.2f} outside any group")
                continue
            g = ma.groups[group]
            cap = g.annual_cap + (0.0 if ma.shared_cap else (
                g.outpatient_cap if g.outpatient_cap is not None else g.annual_cap))
            cap += ma.tilted[group].annual_cap if group in ma.tilted else 0.0
            if paid > cap + tol:
                out.append(f"person {j} ({group}): assistance {paid:.2f} > caps {cap:.2f}")
    return out


# ---------------------------------------------------------------------------- generous reforms

UP = ("rate", "rate_bonus", "share_of_base", "age_bonus")
DOWN = ("deductible", "repeat_deductible", "threshold", "threshold_factor", "rate_cut",
        "oop_cap")
NEUTRAL = ("name", "name_zh", "description", "region", "financing", "funds", "premium", "note")


def _direction(path: tuple) -> str:
    """'up' or 'down': the generous direction of a number at this key path ('?' unknown)."""
    keys = [str(k) for k in path]
    if any(k in DOWN for k in keys):
        return "down"
    if any("cap" in k for k in keys) or any(k in UP for k in keys):
        return "up"
    return "?"


def _walk(before: Any, after: Any, path: tuple, changes: list) -> bool:
    """Collect changes; False as soon as one is not a generous move of a known knob."""
    if path and str(path[0]) in NEUTRAL:
        return True
    if isinstance(before, dict) and isinstance(after, dict):
        ok = True
        for k in set(before) | set(after):
            if k not in before or k not in after:
                if k == "no_cap" and after.get(k):
                    changes.append((path + (k,), None, True))
                    continue
                changes.append((path + (k,), before.get(k), after.get(k)))
                ok = False
                continue
            ok &= _walk(before[k], after[k], path + (k,), changes)
        return ok
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            changes.append((path, before, after))
            return False
        return all([_walk(b, a, path + (i,), changes) for i, (b, a) in enumerate(zip(before, after))])
    if before == after:
        return True
    changes.append((path, before, after))
    if isinstance(before, bool) or isinstance(after, bool):
        return path[-1] == "no_cap" and after is True
    if not (isinstance(before, (int, float)) and isinstance(after, (int, float))):
        return False
    direction = _direction(path)
    if direction == "up":
        return after >= before or math.isinf(after)
    if direction == "down":
        return after <= before
    return False


def generous_changes(before: dict, after: dict) -> tuple[bool, list]:
    """(True if every change is a generous move, the list of (path, before, after))."""
    changes: list = []
    ok = _walk(before, after, (), changes)
    return ok and bool(changes), changes


def household_paid(ps, hh, ev, c, payers) -> np.ndarray:
    """What the payer column(s) `payers` (an index or a slice of codes.PAYER) paid, summed
    over every bill of each household."""
    per_person = c.outpatient_paid[:, :, payers].reshape(len(ps), -1).sum(1)
    owner = np.repeat(np.arange(len(ps)), np.diff(ev.adm_offsets))
    np.add.at(per_person, owner, c.admission_paid[:, payers].reshape(len(owner), -1).sum(1))
    out = np.zeros(len(hh))
    np.add.at(out, ps.hh, per_person)
    return out


def household_oop(ps, hh, ev, c) -> np.ndarray:
    return household_paid(ps, hh, ev, c, OOP)


def household_left_after(ps, hh, ev, c, layer: int) -> np.ndarray:
    """Per household, what is left after payer column `layer`: what the later layers and the
    household pay (codes.PAYER is in settlement order up to the account)."""
    return household_paid(ps, hh, ev, c, slice(layer + 1, OOP + 1))


LAYER_OF_SECTION = {"basic": B, "critical_illness": CII}


def first_changed_layer(changes: list) -> int | None:
    """The payer column of the first layer (in settlement order) that a list of changes
    from `generous_changes` touches, when that is basic insurance or critical illness (what
    they pay depends on no later layer); None when only later layers change (assistance,
    whose out-of-pocket cap is paid in its column but settled last, or supplementary)."""
    layers = [LAYER_OF_SECTION[str(path[0])] for path, _, _ in changes
              if str(path[0]) in LAYER_OF_SECTION]
    return min(layers) if layers else None


def one_base_households(pol: PolicyFile, hh, ps, ev) -> np.ndarray:
    """Households for which the layers after basic insurance work on one base: all of them
    when the policy's layers count the same parts, else those without class-B or
    out-of-catalogue spending (docs/policy.md: layers on different parts)."""
    cii_b = {r.include_class_b for r in (pol.critical_illness.residents,
                                         pol.critical_illness.employees) if r is not None}
    ma_b = {pol.medical_assistance.include_class_b}
    sup_bases = {li.base for li in pol.supplementary.liabilities} if pol.supplementary else set()
    if len(cii_b | ma_b) <= 1 and sup_bases <= {"policy_range_residual"}:
        return np.ones(len(hh), bool)
    other = ev.outpatient[:, :, 1:].sum(axis=(1, 2))
    owner = np.repeat(np.arange(len(ps)), np.diff(ev.adm_offsets))
    np.add.at(other, owner, ev.adm_cost[:, 1:].sum(1))
    per_household = np.zeros(len(hh))
    np.add.at(per_household, ps.hh, other)
    return per_household == 0.0
