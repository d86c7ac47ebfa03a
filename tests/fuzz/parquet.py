"""Microdata fuzzers: damaged Parquet folders through the reader, a run's chunk pipeline and the CLI.

The base input is a small synthetic population written by `write_population`
(two row groups). Each attempt damages one or both files:

- in their tables: a column dropped, renamed, repeated, added or cast to
  another type; a value set to NaN, an infinity, a negative, zero, a huge
  number, an out-of-range code or null; a row repeated (duplicate ids) or
  deleted (persons without their household, a household short of persons);
  rows shuffled; a household pointed at a missing id; both files emptied;
  the metadata replaced by invalid JSON;
- in their bytes: truncated, bytes flipped, the footer zeroed, random bytes,
  an empty file, a folder in place of the file, the file deleted.

The entry point opens the folder (`open_microdata`, which checks it), reads
it in two chunks (`read_households`) and puts the chunk through the run's
pipeline: the year's illness, settlement under the national policy with the
conservation check, the accumulators and their range check. An accepted
folder must get through all of it.
"""

from __future__ import annotations

import functools
import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from microsim.population.microdata import HOUSEHOLDS_FILE, PERSONS_FILE
from tests.fuzz.fuzzers import (CORPUS, NATIONAL, SPEC, Target, _source_tree, dump, judge,
                                mutate_bytes, mutate_tree, load_experiment_fully)

BASE = "base"
HOUSEHOLDS = 60
FILES = (HOUSEHOLDS_FILE, PERSONS_FILE)
ODD_CELLS = [math.nan, math.inf, -math.inf, -1, 0, 1e300, -1e300, 2**62, 2**31, 255, 127, -128,
             32767, 121, 5, 4, 1e13, 1e9, None]


def write_base(folder: Path) -> Path:
    """A valid microdata folder of HOUSEHOLDS synthetic households in two row groups."""
    from microsim.population.microdata import write_population
    from microsim.population.spec import load_population_spec
    from microsim.population.synth import synthesize
    out = folder / BASE
    if not out.exists():
        spec = load_population_spec(SPEC)
        half = HOUSEHOLDS // 2
        chunks = [synthesize(spec, 0, half, HOUSEHOLDS, 3, 0),
                  synthesize(spec, half, HOUSEHOLDS, HOUSEHOLDS, 3, 0)]
        write_population(out, chunks, spec, {"seed": 3, "replicate": 0, "households": HOUSEHOLDS})
    return out


def _set_cell(table: pa.Table, rng: random.Random) -> pa.Table:
    i = rng.randrange(table.num_columns)
    field = table.schema.field(i)
    values = table.column(i).to_pylist()
    if not values:
        return table
    values[rng.randrange(len(values))] = rng.choice(ODD_CELLS)
    try:
        arr = pa.array(values, type=field.type)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        try:
            arr = pa.array(values)       # the value does not fit: the column changes type
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            arr = pa.array([None if v is None else str(v) for v in values])
    return table.set_column(i, pa.field(field.name, arr.type), arr)


def _cast(table: pa.Table, rng: random.Random) -> pa.Table:
    i = rng.randrange(table.num_columns)
    field = table.schema.field(i)
    to = rng.choice([pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.float32(),
                     pa.float64(), pa.string(), pa.bool_(), pa.large_string()])
    try:
        arr = table.column(i).cast(to, safe=False)
    except (pa.ArrowException, ValueError):
        arr = pa.array([str(v) for v in table.column(i).to_pylist()])
    return table.set_column(i, pa.field(field.name, arr.type), arr)


def _rows(table: pa.Table, rng: random.Random) -> pa.Table:
    n = table.num_rows
    if n == 0:
        return table
    kind = rng.randrange(5)
    if kind == 0:                                   # a row repeated: duplicate ids
        k = rng.randrange(n)
        return pa.concat_tables([table.slice(0, k + 1), table.slice(k, n - k)])
    if kind == 1:                                   # a row deleted
        k = rng.randrange(n)
        return pa.concat_tables([table.slice(0, k), table.slice(k + 1)])
    if kind == 2:                                   # shuffled
        return table.take(pa.array(rng.sample(range(n), n)))
    if kind == 3:                                   # emptied
        return table.slice(0, 0)
    return table.slice(0, rng.randrange(n))         # cut short


def _columns(table: pa.Table, rng: random.Random) -> pa.Table:
    i = rng.randrange(table.num_columns)
    name = table.column_names[i]
    kind = rng.randrange(4)
    if kind == 0:
        return table.remove_column(i)
    if kind == 1:
        return table.rename_columns([c if c != name else name + "_x" for c in table.column_names])
    if kind == 2:
        return table.append_column(name, table.column(i))          # the column twice
    return table.append_column("extra", pa.array(np.arange(table.num_rows)))


def _metadata(table: pa.Table, rng: random.Random) -> pa.Table:
    meta = dict(table.schema.metadata or {})
    key = rng.choice([b"microsim.spec", b"microsim.draw", b"microsim.schema"])
    meta[key] = rng.choice([b"{not json", b"[]", b"null", b"{}", b'{"values": 1}', b"\xff\xfe",
                            json.dumps({"values": {}, "sources": {"a": 1}}).encode()])
    return table.replace_schema_metadata(meta)


def _hh_pointer(table: pa.Table, rng: random.Random) -> pa.Table:
    """A person pointed at a household id that does not exist, or at another household."""
    if "hh_id" not in table.column_names or table.num_rows == 0:
        return table
    i = table.column_names.index("hh_id")
    values = table.column(i).to_pylist()
    values[rng.randrange(len(values))] = rng.choice([10**12, -3, values[0], values[-1]])
    return table.set_column(i, table.schema.field(i), pa.array(values, pa.int64()))


TABLE_MUTATIONS = (_set_cell, _set_cell, _set_cell, _cast, _rows, _rows, _columns, _metadata,
                   _hh_pointer)


def damage(folder: Path, rng: random.Random) -> str:
    """Damage a copy of the base folder in place; returns what was done."""
    done = []
    for name in rng.sample(FILES, rng.randint(1, 2)):
        path = folder / name
        if rng.random() < 0.75:
            table = pq.read_table(path)
            mutation = rng.choice(TABLE_MUTATIONS)
            table = mutation(table, rng)
            pq.write_table(table, path, row_group_size=rng.choice([7, 30, 1000]))
            done.append(f"{name}: {mutation.__name__}")
            continue
        kind = rng.randrange(5)
        if kind == 0:
            path.unlink()
            done.append(f"{name}: deleted")
        elif kind == 1:
            path.unlink()
            path.mkdir()
            done.append(f"{name}: a folder")
        else:
            data = path.read_bytes()
            if kind == 2:
                data = data[: rng.randrange(len(data))]
            elif kind == 3:                         # the footer (schema and row groups) damaged
                b = bytearray(data)
                for _ in range(rng.randint(1, 16)):
                    b[len(b) - 1 - rng.randrange(min(len(b), 2000))] = rng.randrange(256)
                data = bytes(b)
            else:
                data = mutate_bytes(data, rng)
            path.write_bytes(data)
            done.append(f"{name}: bytes")
    return "; ".join(done)


@functools.lru_cache(maxsize=1)
def _pipeline():
    from microsim.health.events import health_params
    from microsim.policy.arrays import build_arrays
    from microsim.policy.load import load_policy
    from microsim.population.spec import load_population_spec
    spec = load_population_spec(SPEC)
    return spec, health_params(spec), build_arrays(load_policy(NATIONAL))


def read_and_settle(folder: Path) -> None:
    """Open (and check) microdata, read it in two chunks and put each through a run's pipeline."""
    from microsim.engine.run import build_context  # noqa: F401 - the engine's imports, as in a run
    from microsim.health.events import draw_events
    from microsim.metrics.accumulate import (accumulate, check_range, income_bin_edges,
                                             new_accumulators)
    from microsim.metrics.indicators import load_catalogue, make_layout
    from microsim.population.microdata import open_microdata, read_households
    from microsim.settlement.settle import check_conservation, settle
    spec, health, policy = _pipeline()
    md = open_microdata(folder)
    layout = make_layout(load_catalogue(("dibao",)), [("dibao", (9000.0, 7000.0))],
                         income_bin_edges())
    acc = new_accumulators(layout)
    half = md.n_households // 2
    for start, stop in ((0, half), (half, md.n_households)):
        hh, ps = read_households(md, start, stop)
        ev = draw_events(hh, ps, spec, 1, 0, health)
        claims = settle(policy, hh, ps, ev, 1, 0)
        check_conservation(ev, claims)
        accumulate(acc, layout, hh, ps, ev, claims)
    check_range(acc)
    md.embedded_spec()


def microdata_attempt(entry, names=(HOUSEHOLDS_FILE, PERSONS_FILE)):
    def attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
        work = folder / "md"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(folder / BASE, work)
        what = damage(work, rng)
        verdict, error = judge(lambda: entry(work), names + (str(work),))
        return verdict, what, error
    return attempt


def _experiment_source(folder: Path) -> Path:
    """The microdata experiment of the corpus, pointed at the base folder."""
    path = folder / "experiment_microdata_source.yaml"
    if not path.exists():
        text = (CORPUS / "experiment_microdata.yaml").read_text(encoding="utf-8")
        root = CORPUS.parents[2]
        text = text.replace("ROOT/", f"{root}/").replace("MICRODATA", str(folder / BASE))
        path.write_text(text, encoding="utf-8")
    return path


def microdata_experiment_attempt(rng: random.Random, folder: Path) -> tuple[str, str, str]:
    """An experiment on microdata: its YAML damaged, or its microdata damaged."""
    source = _experiment_source(folder)
    if rng.random() < 0.5:
        mutated = dump(mutate_tree(_source_tree(source), rng, ("poverty_lines", "households")))
        path = folder / "experiment.yaml"
        path.write_bytes(mutated)
        verdict, error = judge(lambda: load_experiment_fully(path), ("experiment.yaml",))
        return verdict, mutated[:300].decode("utf-8", "replace"), error
    work = folder / "md"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(folder / BASE, work)
    what = damage(work, rng)
    path = folder / "experiment.yaml"
    path.write_text(source.read_text(encoding="utf-8").replace(str(folder / BASE), str(work)),
                    encoding="utf-8")
    verdict, error = judge(lambda: load_experiment_fully(path), FILES + (str(work),))
    return verdict, what, error


def microdata_targets() -> list[Target]:
    return [
        Target("microdata (Parquet)", "open_microdata + read_households + settle + accumulate",
               microdata_attempt(read_and_settle), write_base),
        Target("experiment (microdata)", "load_experiment + build_context",
               microdata_experiment_attempt, write_base),
    ]
