"""The population pass: population-wide lines of each replicate, before the main pass.

Takes: a `Context` whose `population_pass` says what to compute, the plan's
tasks and a scheduler. Gives: the context with its layout's per-replicate
societal poverty line and subsistence line set (`Layout.spl`,
`Layout.subsistence`), and the `PopulationLines` of each replicate for the
results' provenance.

Some indicators classify a household against a statistic of the whole
population: the 2025 SDG 3.8.2 against the societal poverty line (half the
median consumption plus a constant), Xu's capacity to pay against the food
spending of households around the median food share. These statistics must
be known before any household is classified, so a first pass synthesises
every chunk's households (no illness, no settlement) and adds them into
mergeable integer histograms (`metrics/population.py`), summed per replicate
as tasks finish, on the same executor as the main pass (`engine/execute.py`). The pass is deterministic and cheap
(households only), so a resumed run simply repeats it; it is skipped when the
experiment fixes both lines.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from microsim.engine.chunk import Context, histogram_chunk
from microsim.engine.execute import run_tasks
from microsim.engine.plan import Task
from microsim.experiment import Experiment
from microsim.metrics.indicators import Catalogue
from microsim.population.uprate import Uprating
from microsim.metrics.population import (PassParams, PopulationHistograms, PopulationLines,
                                         consumption_bin_edges, new_histograms, population_lines)

def pass_params(exp: Experiment, catalogue: Catalogue, up: Uprating | None = None) -> PassParams:
    """What the pass computes: the catalogue's definitions and the experiment's choices, with
    the experiment's fixed amounts (of the population's base year) moved to the simulated
    year by prices (`up`, population/uprate.py)."""
    spl = exp.file.societal_poverty_line
    sub = exp.file.subsistence_line
    nan = float("nan")
    prices = 1.0 if up is None else up.prices
    return PassParams(
        consumption_edges=consumption_bin_edges(),
        equivalence_exponent=catalogue.ctp_exponent,
        food_percentiles=catalogue.food_percentiles,
        spl_floor_usd=catalogue.spl_floor_usd, spl_base_usd=catalogue.spl_base_usd,
        spl_median_share=catalogue.spl_median_share,
        ppp_factor=(spl.ppp_factor * prices if spl is not None and spl.ppp_factor is not None
                    else nan),
        fixed_spl=spl.yuan * prices if spl is not None and spl.yuan is not None else nan,
        fixed_subsistence=sub.yuan * prices if sub is not None else nan)


def _histograms(ctx: Context, tasks: list[Task], scheduler: str) -> dict[int, PopulationHistograms]:
    """Every task's histograms, summed per replicate as tasks finish (any scheduler)."""
    totals: dict[int, PopulationHistograms] = {}

    def add(task: Task, hist: PopulationHistograms) -> None:
        totals[task.replicate] = hist if task.replicate not in totals else totals[task.replicate] + hist
    run_tasks(ctx, tasks, scheduler, add, fn=histogram_chunk)
    return totals


def population_pass(ctx: Context, tasks: list[Task], scheduler: str = "threads"
                    ) -> tuple[Context, dict[int, PopulationLines]]:
    """Compute every replicate's population lines and put them into the context's layout."""
    params = ctx.population_pass
    if params is None or not tasks:
        return ctx, {}
    replicates = sorted({t.replicate for t in tasks})
    if params.needs_pass:
        hists = _histograms(ctx, tasks, scheduler)
    else:
        hists = {r: new_histograms(params) for r in replicates}
    lines = {r: population_lines(hists[r], params) for r in replicates}
    n = max(replicates) + 1
    spl = np.full(n, np.nan)
    subsistence = np.full(n, np.nan)
    for r, line in lines.items():
        spl[r] = line.spl
        subsistence[r] = line.subsistence
    layout = dataclasses.replace(ctx.layout, spl=spl, subsistence=subsistence)
    return dataclasses.replace(ctx, layout=layout), lines
