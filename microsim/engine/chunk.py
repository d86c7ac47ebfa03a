"""One task: a chunk's population, its year of illness, and every scenario's settlement.

Takes: a `Context` (everything a worker needs, built once per run) and a
`Task`. Gives: `Accumulators` with a leading scenario axis. This is the only
code that runs on workers; it imports the rooms of the flow in order.

`population_chunk` is the task of the population pass that runs before the
main pass (`engine/prepass.py`): the chunk's households alone, added into
histograms from which population-wide lines are derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microsim.engine.plan import Task
from microsim.health.events import HealthParams, draw_events
from microsim.metrics.accumulate import Accumulators, Layout, accumulate, new_accumulators
from microsim.metrics.population import (PassParams, PopulationHistograms, add_households,
                                         new_histograms)
from microsim.policy.arrays import PolicyArrays
from microsim.population.microdata import Microdata, read_households
from microsim.population.spec import PopulationSpec
from microsim.population.synth import SynthParams, synthesize
from microsim.settlement.settle import settle


@dataclass(frozen=True)
class Context:
    spec: PopulationSpec
    synth: SynthParams
    health: HealthParams
    policies: tuple[PolicyArrays, ...]
    layout: Layout
    seed: int
    n_households: int
    microdata: Microdata | None = None   # read households from Parquet instead of synthesising
    population_pass: PassParams | None = None


def population_chunk(ctx: Context, task: Task):
    """The task's households and persons: read from microdata, or synthesised from the spec."""
    if ctx.microdata is not None:
        return read_households(ctx.microdata, task.start, task.stop)
    return synthesize(ctx.spec, task.start, task.stop, ctx.n_households, ctx.seed,
                      task.replicate, ctx.synth)


def simulate_chunk(ctx: Context, task: Task) -> tuple[Accumulators, int]:
    """Accumulators (scenario axis first) and the number of persons of one task.

    Scenarios share the chunk's people and illnesses; each is settled into the same claims
    arrays in turn (rewritten in full) and added into its slice of the accumulators."""
    households, persons = population_chunk(ctx, task)
    events = draw_events(households, persons, ctx.spec, ctx.seed, task.replicate, ctx.health)
    acc = new_accumulators(ctx.layout, len(ctx.policies))
    claims = None
    for s, policy in enumerate(ctx.policies):
        claims = settle(policy, households, persons, events, ctx.seed, task.replicate, out=claims)
        accumulate(acc.scenario(s), ctx.layout, households, persons, events, claims, task.replicate)
    return acc, len(persons)


def histogram_chunk(ctx: Context, task: Task) -> PopulationHistograms:
    """The population pass of one task: its households added into histograms."""
    households, _ = population_chunk(ctx, task)
    hist = new_histograms(ctx.population_pass)
    add_households(hist, ctx.population_pass, households)
    return hist
