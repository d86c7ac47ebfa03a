"""Reports: tables (and, later in the flow, figures and documents) from a results Dataset.

Takes: a results `xarray.Dataset`. Gives: renderable tables for the terminal
(`table.headline_table`).
"""
