"""Metrics: mergeable accumulators and the indicators derived from them.

Takes: a chunk's households, persons, events and claims. Gives: additive
integer-valued sums on a fixed grid of group cells (residence x status x
per-capita income bin, and x scheme for person sums), merged by addition, and
the indicator catalogue computed from merged sums.
"""

from microsim.metrics.accumulate import Accumulators, Layout, accumulate, new_accumulators
from microsim.metrics.indicators import Catalogue, load_catalogue

__all__ = ["Accumulators", "Catalogue", "Layout", "accumulate", "load_catalogue",
           "new_accumulators"]
