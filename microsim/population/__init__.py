"""Populations: households and their members, synthesised from a spec or read from microdata.

Takes: a population spec (`populations/*.yaml`) or a microdata folder, a
household range and a random key. Gives: `Households` and `Persons`, struct
of arrays in the data contract of DESIGN.md (see `tables.py`).

Modules: `spec` (the YAML spec), `income` and `composition` (the model in
closed form), `synth` (the kernel), `microdata` (Parquet: write, check,
read), `importer` (survey CSV or .dta files converted by a column mapping:
`import_mapping`, `import_sources`, `import_convert`), `describe` (targets beside simulated values), `calibrate` (income
shapes fitted to targets). See docs/populations.md.
"""

from microsim.population.spec import PopulationSpec, load_population_spec
from microsim.population.tables import Households, Persons

__all__ = ["Households", "Persons", "PopulationSpec", "load_population_spec"]
