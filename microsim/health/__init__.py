"""Health events: a year of admissions and outpatient spending for every person.

Takes: persons and households of a chunk, the spec's health parameters, the
seed and replicate. Gives: `Events` (admissions as a CSR table, outpatient
spending per person and kind), each bill split into policy-range, class-B
self-pay and out-of-catalogue parts.
"""

from microsim.health.events import Events, draw_events

__all__ = ["Events", "draw_events"]
