"""One task: a chunk's population, its year of illness, and every scenario's settlement.

Takes: a `Context` (everything a worker needs for one simulated year, built once
per run), or the tuple of every year's contexts of a projection, and a `Task`.
Gives: `Accumulators` with a leading scenario axis. This is the only code that
runs on workers; it imports the rooms of the flow in order: the population
(synthesised or read, aged to the task's year, moved to its prices and
incomes), its illness of the year, and each scenario's settlement.

`population_chunk` is the task of the population pass that runs before the
main pass (`engine/prepass.py`): the chunk's households alone, added into
histograms from which population-wide lines are derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microsim import rng
from microsim.engine.plan import Task
from microsim.health.events import HealthParams, draw_events
from microsim.metrics.accumulate import (Accumulators, Layout, accumulate, accumulate_changes,
                                        add_sample, new_accumulators, new_sample)
from microsim.metrics.population import (PassParams, PopulationHistograms, add_households,
                                         new_histograms)
from microsim.policy.arrays import PolicyArrays
from microsim.population.ageing import age_chunk
from microsim.population.demography import DemographyParams
from microsim.population.microdata import Microdata, read_households
from microsim.population.spec import PopulationSpec
from microsim.population.synth import SynthParams, synthesize
from microsim.population.uprate import Uprating, uprate_chunk
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
    year: int = 0                        # the simulated year (0: not stated)
    offset: int = 0                      # years since the first simulated year
    uprating: Uprating | None = None     # from the population's base year to `year`
    demography: DemographyParams | None = None   # deaths and births (projections)


Contexts = Context | tuple[Context, ...]


def context_of(ctx: Contexts, task: Task) -> Context:
    """The context of the task's year (a projection hands every year's context to tasks)."""
    return ctx[task.year] if isinstance(ctx, tuple) else ctx


def population_chunk(ctx: Contexts, task: Task):
    """The task's households and persons in its year: read from microdata or synthesised from
    the spec, aged from the first simulated year, and moved from the population's base year
    to the simulated year's incomes and prices."""
    ctx = context_of(ctx, task)
    if ctx.microdata is not None:
        households, persons = read_households(ctx.microdata, task.start, task.stop)
    else:
        households, persons = synthesize(ctx.spec, task.start, task.stop, ctx.n_households,
                                         ctx.seed, task.replicate, ctx.synth)
        if ctx.offset:
            households, persons = age_chunk(households, persons, ctx.synth, ctx.demography,
                                            ctx.offset, ctx.seed, task.replicate)
    if ctx.uprating is not None:
        uprate_chunk(households, persons, ctx.uprating)
    return households, persons


def simulate_chunk(ctx: Contexts, task: Task) -> tuple[Accumulators, int]:
    """Accumulators (scenario axis first) and the number of persons of one task.

    Scenarios share the chunk's people and illnesses; each is settled into the same claims
    arrays in turn (rewritten in full) and added into its slice of the accumulators. The
    year's illnesses are drawn with the year's key (`rng.year_key`): new illnesses each year,
    the same ones for every scenario. The baseline's (first scenario's) payments of each
    household are kept, and every scenario's winners and losers against them are added (the
    baseline's against itself: no winner, no loser). A task of replicate 0 in the first
    simulated year whose households include some of the first `layout.drip_households` adds
    them to the paint-drip sample."""
    ctx = context_of(ctx, task)
    households, persons = population_chunk(ctx, task)
    events = draw_events(households, persons, ctx.spec, rng.year_key(ctx.seed, ctx.offset),
                         task.replicate, ctx.health)
    acc = new_accumulators(ctx.layout, len(ctx.policies))
    claims = None
    base = None
    sampled = (task.replicate == 0 and ctx.offset == 0 and task.start < ctx.layout.drip_households)
    if sampled:
        acc.sample = new_sample(ctx.layout, len(ctx.policies))
    for s, policy in enumerate(ctx.policies):
        claims = settle(policy, households, persons, events, ctx.seed, task.replicate, out=claims)
        pay = accumulate(acc.scenario(s), ctx.layout, households, persons, events, claims,
                         task.replicate)
        base = pay if base is None else base
        accumulate_changes(acc.scenario(s), ctx.layout, households, base, pay)
        if sampled:
            add_sample(acc.sample, households, task.start, s, pay)
    return acc, len(persons)


def histogram_chunk(ctx: Contexts, task: Task) -> PopulationHistograms:
    """The population pass of one task: its households added into histograms."""
    ctx = context_of(ctx, task)
    households, _ = population_chunk(ctx, task)
    hist = new_histograms(ctx.population_pass)
    add_households(hist, ctx.population_pass, households)
    return hist
