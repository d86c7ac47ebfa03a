"""The engine: plan the chunks, run them as dask tasks, merge, and write the results.

Takes: an `Experiment`. Gives: an `xarray.Dataset` of indicators by scenario,
replicate and group, written atomically to the experiment's output folder.
"""
