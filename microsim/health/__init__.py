"""Health events: a year of admissions and outpatient spending for every person.

Takes: persons and households of a chunk, the spec's health parameters, the
seed and replicate. Gives: `Events` (admissions as a CSR table, outpatient
spending per person and kind, general visits by level, latent severity), each
bill split into policy-range, class-B self-pay and out-of-catalogue parts.

Modules: `params` (the spec flattened for the kernels, with the closed forms
that keep calibrated means exact), `events` (the kernels), `describe`
(simulated statistics beside the spec's targets). Equations: docs/health.md.
"""

from microsim.health.events import Events, draw_events

__all__ = ["Events", "draw_events"]
