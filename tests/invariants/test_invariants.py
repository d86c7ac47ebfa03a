"""Invariants on every shipped experiment (experiments/*.yaml, found when the tests run), at small
size: conservation of every bill, annual caps, monotonicity of generous reforms, group margins
that add up to `all`, and results that do not depend on the chunk size or the scheduler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import microsim
from microsim.experiment import load_experiment
from microsim.metrics.indicators import load_catalogue
from microsim.settlement.settle import check_conservation
from tests.extremes import assert_dataset_finite_or_explained
from tests.invariants.experiments import (cap_violations, chunks, first_changed_layer,
                                          generous_changes, household_left_after,
                                          household_oop, household_paid,
                                          one_base_households, shipped_experiments,
                                          small_copy)

EXPERIMENTS = shipped_experiments()
HOUSEHOLDS = 1500
GROUPS = {"residence": ["urban", "rural"], "quintile": ["Q1", "Q2", "Q3", "Q4", "Q5"],
          "status": ["general", "tekun", "dibao", "dibian", "monitored"]}


def test_at_least_the_quickstart_and_the_full_national_run_are_shipped():
    names = {p.stem for p in EXPERIMENTS}
    assert {"quickstart", "china_full"} <= names


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """Per experiment: the loaded small copy and every chunk, settled under every scenario."""
    cache: dict[Path, tuple] = {}

    def get(path: Path):
        if path not in cache:
            folder = tmp_path_factory.mktemp(path.stem)
            exp = load_experiment(small_copy(path, folder, households=HOUSEHOLDS))
            by_task: dict = {}
            for task, s, hh, ps, ev, claims in chunks(exp):
                by_task.setdefault(task.key, (hh, ps, ev, []))[3].append(claims)
            cache[path] = (exp, by_task)
        return cache[path]
    return get


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Per experiment and (chunk size, scheduler): the results of a small run."""
    cache: dict[tuple, object] = {}

    def get(path: Path, chunk_size: int, compute: str):
        key = (path, chunk_size, compute)
        if key not in cache:
            folder = tmp_path_factory.mktemp(f"{path.stem}_{chunk_size}_{compute}")
            small = small_copy(path, folder, households=HOUSEHOLDS, chunk_size=chunk_size,
                               compute=compute, name=f"{chunk_size}_{compute}")
            cache[key] = microsim.run(small, write=False)
        return cache[key]
    return get


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_bill_is_conserved_and_no_layer_pays_above_its_caps(path, settled):
    exp, by_task = settled(path)
    bills = 0
    for key, (hh, ps, ev, claims) in by_task.items():
        for scen, c in zip(exp.scenarios, claims):
            # Each bill = the sum of its payers, to 0.01 yuan; no payer pays a negative amount.
            assert check_conservation(ev, c, tolerance=0.01) <= 0.01
            problems = cap_violations(scen.policy.data, hh, ps, ev, c)
            assert not problems, f"{key}, {scen.name}: " + "; ".join(problems[:5])
            bills += ev.n_admissions + int((ev.outpatient.sum(2) > 0).sum())
    assert bills > 0


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_generous_reforms_never_raise_a_household_out_of_pocket(path, settled):
    """Where a scenario only raises rates or caps or lowers deductibles, thresholds, rate cuts
    or out-of-pocket caps relative to the baseline, every household is checked.

    Exact for every household: the layers before the first changed one pay exactly what they
    paid, and the changed layer pays no less, so what is left after it (out of pocket plus
    what the later layers pay) never rises. This holds when basic insurance or critical
    illness is the first changed layer: basic insurance pays a non-decreasing function of its
    own rates, deductibles and caps on a bill no other layer touches before it
    (kernels.basic_inpatient, basic_outpatient), and critical illness pays, on an unchanged
    base, a non-decreasing function of its rates and caps, with a slope of at most 1 in its
    base (kernels.critical_illness).

    Out of pocket itself never rises for a household whose assistance group is unchanged and
    whose layers after basic insurance work on one base. The two exceptions are the ones
    docs/policy.md derives from the kernels: illness hardship is a cliff (a household that
    falls below the threshold loses its assistance group), and where critical illness or a
    supplementary liability counts class-B or out-of-catalogue spending and assistance does
    not, a smaller policy-range remainder lowers the critical-illness payment, which is taken
    first from the policy-range part (kernels.take), so more of the class-B part is left to
    a layer that does not cover it. Household totals are compared, since a household
    out-of-pocket cap shares the capped amount."""
    exp, by_task = settled(path)
    base = exp.scenarios[0]
    generous = []
    for s, scen in enumerate(exp.scenarios):
        ok, changes = generous_changes(base.policy.tree.values, scen.policy.tree.values)
        if s > 0 and ok:
            generous.append((s, scen, first_changed_layer(changes)))
    if not generous:
        pytest.skip(f"{path.name}: no scenario is a purely generous change of its baseline")
    for s, scen, layer in generous:
        households = changed = 0
        for key, (hh, ps, ev, claims) in by_task.items():
            before = household_oop(ps, hh, ev, claims[0])
            after = household_oop(ps, hh, ev, claims[s])
            if layer is not None:
                # Layers before the changed one: the same payments, household by household.
                for earlier in range(layer):
                    np.testing.assert_allclose(household_paid(ps, hh, ev, claims[s], earlier),
                                               household_paid(ps, hh, ev, claims[0], earlier),
                                               rtol=0, atol=1e-6, err_msg=f"{key} {scen.name}")
                left_before = household_left_after(ps, hh, ev, claims[0], layer)
                left_after = household_left_after(ps, hh, ev, claims[s], layer)
                rises = left_after > left_before + 0.01
                assert not rises.any(), (
                    f"{key}, {scen.name}: household {int(np.argmax(rises))} has "
                    f"{left_after[rises][0]:.2f} > {left_before[rises][0]:.2f} left after "
                    f"layer {layer}")
            one_base = (claims[0].group == claims[s].group) \
                & one_base_households(base.policy.data, hh, ps, ev) \
                & one_base_households(scen.policy.data, hh, ps, ev)
            worse = after > before + 0.01
            bad = worse & one_base
            assert not bad.any(), (f"{key}, {scen.name}: household {int(np.argmax(bad))} "
                                   f"pays {after[bad][0]:.2f} > {before[bad][0]:.2f}")
            households += len(hh)
            changed += int((np.abs(after - before) > 0.01).sum())
        # The reform is not vacuous: it changes the out of pocket of at least 5% of the
        # households (measured: quickstart and china_full's +5-point resident rates 23%,
        # weihai_2021's two-disease caps 17%), and every household is checked.
        assert changed >= 0.05 * households, (scen.name, changed, households)


def _additive(ds) -> list[str]:
    """Indicators that are sums (a ratio with no denominator): population, totals, payouts."""
    import json
    lines = tuple(json.loads(ds.attrs["poverty_lines"]))
    catalogue = load_catalogue(lines)
    return [i.name for i in catalogue.indicators
            if i.kind == "ratio" and not i.denominator and i.name in ds.data_vars]


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_group_margins_of_additive_indicators_add_up_to_all(path, runs):
    ds = runs(path, 150, "threads")
    assert_dataset_finite_or_explained(ds)
    names = _additive(ds)
    assert "population" in names and "payout_basic" in names
    for name in names:
        da = ds[name]
        for dim, parts in GROUPS.items():
            present = [p for p in parts if p in list(da[dim].values)]
            if len(present) < 2:
                continue        # the experiment keeps only `all` of this dimension
            whole = da.sel({dim: "all"})
            np.testing.assert_allclose(da.sel({dim: present}).sum(dim), whole,
                                       rtol=1e-9, atol=1e-6, err_msg=f"{name} over {dim}")


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_results_do_not_depend_on_chunk_size_or_scheduler(path, runs):
    a = runs(path, 150, "threads")
    b = runs(path, 400, "threads")
    c = runs(path, 400, "synchronous")
    for other in (b, c):
        for name in a.data_vars:
            assert np.array_equal(a[name].values, other[name].values, equal_nan=True), name
