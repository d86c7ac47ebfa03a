"""Exports of results for publication: tidy tables as CSV, Parquet, Excel or Stata files.

Takes: a results Dataset (dims scenario, [year,] replicate, residence, quintile, status) and a
format. Gives:

- `long_table`: one row per (scenario, [year,] replicate, residence, quintile, status,
  indicator) with the value, its unit, the indicator's English and Chinese names and family,
  and the scenario's labels in both languages.
- `summary_table`: the same without `replicate`, with the mean, standard error and interval
  across replicates as `microsim.engine.summary.summarize` computes them (nothing is
  recomputed here).
- `write_export`: writes either table as csv (UTF-8 with a byte-order mark, so that Excel reads
  the Chinese labels), parquet, xlsx (a sheet per indicator family, English and Chinese header
  rows, number formats) or dta (Stata 14+, format 118: one variable per indicator under a
  short unique name, variable labels, value labels for the categorical columns). The file is
  written under a temporary name and renamed into place; an existing file is kept unless
  `force`.

`stata_names` gives the Stata name of every indicator: the name itself when it is a valid
Stata name of at most 32 characters, otherwise its words shortened, followed by four
characters of a hash of the full name, so a name's short form never depends on which other
indicators are exported.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from microsim.engine.results import publish
from microsim.errors import InputError, RunError

FORMATS = ("csv", "xlsx", "dta", "parquet")
GROUP_DIMS = ("residence", "quintile", "status")
STATS = ("mean", "se", "lower", "upper")
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80

# column -> (English header, Chinese header); the columns of both tables, in order
HEADERS = {
    "scenario": ("Scenario", "情景"),
    "scenario_label": ("Scenario label", "情景名称（英文）"),
    "scenario_label_zh": ("Scenario label (Chinese)", "情景名称"),
    "year": ("Year", "年份"),
    "replicate": ("Replicate", "重复样本"),
    "residence": ("Residence", "城乡"),
    "quintile": ("Income quintile", "收入五等分组"),
    "status": ("Status", "身份类别"),
    "family": ("Indicator family", "指标类别"),
    "indicator": ("Indicator", "指标代码"),
    "long_name": ("Indicator name", "指标名称（英文）"),
    "long_name_zh": ("Indicator name (Chinese)", "指标名称"),
    "unit": ("Unit", "单位"),
    "value": ("Value", "数值"),
    "mean": ("Mean", "均值"),
    "se": ("Standard error", "标准误"),
    "lower": ("Interval, lower", "区间下限"),
    "upper": ("Interval, upper", "区间上限"),
    "level": ("Interval level", "置信水平"),
    "replicates": ("Replicates", "重复样本数"),
}
ID_LABELS = {"scenario": "Scenario 情景", "year": "Year 年份", "replicate": "Replicate 重复样本",
             "residence": "Residence 城乡", "quintile": "Income quintile 收入五等分组",
             "status": "Status 身份类别", "stat": "Statistic 统计量",
             "scenario_label": "Scenario label", "scenario_label_zh": "情景名称"}
COUNT_UNITS = ("persons", "households")


def indicator_names(ds: xr.Dataset) -> list[str]:
    """The indicators of a results Dataset: variables over scenario and replicate."""
    return [str(v) for v in ds.data_vars
            if "scenario" in ds[v].dims and "replicate" in ds[v].dims]


def _cells(ds: xr.Dataset, names: list[str], stat_dim: str | None) -> pd.DataFrame:
    """One row per cell and indicator: the id columns and the value (or one column per stat)."""
    parts = []
    groups: dict[tuple, list[str]] = {}
    for name in names:
        groups.setdefault(ds[name].dims, []).append(name)
    for dims, group in groups.items():
        arr = ds[group].to_array("indicator")
        if stat_dim:
            frame = arr.to_dataset(dim=stat_dim).to_dataframe()
        else:
            frame = arr.to_dataframe(name="value")
        frame = frame.reset_index()
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    keep = [c for c in frame.columns if c in HEADERS or c in STATS]
    return frame[keep]


def _describe(frame: pd.DataFrame, ds: xr.Dataset, names: list[str]) -> pd.DataFrame:
    """Add the scenario labels and the indicator's names, family and unit; order the columns."""
    scenarios = [str(s) for s in ds.scenario.values]
    for coord in ("scenario_label", "scenario_label_zh"):
        values = ([str(v) for v in ds[coord].values] if coord in ds.coords else scenarios)
        frame[coord] = frame["scenario"].astype(str).map(dict(zip(scenarios, values)))
    attrs = {n: ds[n].attrs for n in names}
    for column, key in (("long_name", "long_name"), ("long_name_zh", "long_name_zh"),
                        ("family", "family"), ("unit", "units")):
        frame[column] = frame["indicator"].map({n: str(a.get(key, "")) for n, a in attrs.items()})
    frame["scenario"] = frame["scenario"].astype(str)
    for dim in GROUP_DIMS:
        if dim in frame:
            frame[dim] = frame[dim].astype(str)
    if "year" in frame:
        frame["year"] = frame["year"].astype("int64")
    if "replicate" in frame:
        frame["replicate"] = frame["replicate"].astype("int64")
    order = [c for c in HEADERS if c in frame.columns]
    return frame[order].reset_index(drop=True)


def long_table(ds: xr.Dataset, names: list[str] | None = None) -> pd.DataFrame:
    """Every indicator's value in every scenario, year, replicate and group cell."""
    names = names or indicator_names(ds)
    return _describe(_cells(ds, names, None), ds, names)


def summary_table(ds: xr.Dataset, names: list[str] | None = None,
                  level: float = 0.95) -> pd.DataFrame:
    """Every indicator's mean, standard error and `level` interval across replicates."""
    from microsim.engine.summary import summarize
    names = names or indicator_names(ds)
    s = summarize(ds[names], level)
    frame = _describe(_cells(s, names, "stat"), ds, names)
    frame["level"] = float(level)
    frame["replicates"] = int(ds.sizes["replicate"])
    return frame


# --- Stata names --------------------------------------------------------------------------

def _reserved() -> set[str]:
    """Words Stata refuses as variable names (pandas keeps the list)."""
    from pandas.io.stata import StataParser
    return set(StataParser().RESERVED_WORDS) | {"_all", "_b", "_n", "_N", "_pi", "_se"}


def _shorten(name: str) -> str:
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:4]
    room = STATA_NAME_MAX - len(digest) - 1
    words = name.split("_")
    while len("_".join(words)) > room:
        longest = max(range(len(words)), key=lambda i: (len(words[i]), -i))
        if len(words[longest]) <= 1:
            words = words[:-1]
        else:
            words[longest] = words[longest][:-1]
    return f"{'_'.join(words)}_{digest}"


def stata_names(names: list[str], taken: tuple[str, ...] = ()) -> dict[str, str]:
    """Indicator name -> Stata variable name (at most 32 characters, unique, deterministic)."""
    reserved = _reserved()
    valid = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
    result: dict[str, str] = {}
    for name in names:
        short = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not valid.match(short):
            short = f"v_{short}"
        if short in reserved or short in taken:
            short = f"v_{short}"
        result[name] = _shorten(short) if len(short) > STATA_NAME_MAX else short
    seen: dict[str, str] = {}
    for name, short in result.items():
        if short in seen:
            raise RunError(f"the indicators {seen[short]!r} and {name!r} shorten to the same "
                           f"Stata name {short!r}; rename one of them")
        seen[short] = name
    return result


def _label(*parts: str) -> str:
    """A Stata variable label: the parts joined, cut to 80 characters."""
    text = " ".join(p for p in parts if p)
    return text if len(text) <= STATA_LABEL_MAX else text[:STATA_LABEL_MAX - 1] + "…"


def stata_frame(table: pd.DataFrame, ds: xr.Dataset) -> tuple[pd.DataFrame, dict[str, str]]:
    """A long table as Stata likes it: one row per cell (and statistic, for a summary), one
    variable per indicator; the categorical columns as pandas categoricals (value labels)."""
    summary = "mean" in table.columns
    ids = [c for c in ("scenario", "year", "replicate", "residence", "quintile", "status")
           if c in table.columns]
    names = list(dict.fromkeys(table["indicator"]))
    short = stata_names(names, taken=tuple(ids) + ("stat", "scenario_label",
                                                   "scenario_label_zh"))
    if summary:
        stacked = table.melt(id_vars=ids + ["indicator"], value_vars=list(STATS),
                             var_name="stat", value_name="value")
        ids = ids + ["stat"]
    else:
        stacked = table
    wide = stacked.pivot(index=ids, columns="indicator", values="value")
    wide = wide[names].rename(columns=short).reset_index()
    wide.columns.name = None
    orders = {"scenario": [str(s) for s in ds.scenario.values], "stat": list(STATS)}
    for dim in GROUP_DIMS:
        if dim in ds.coords:
            orders[dim] = [str(v) for v in ds[dim].values]
    for column, order in orders.items():
        if column in wide:
            wide[column] = pd.Categorical(wide[column], categories=order, ordered=True)
    wide = wide.sort_values(ids).reset_index(drop=True)
    scen = table.drop_duplicates("scenario").set_index("scenario")
    wide.insert(1, "scenario_label", wide["scenario"].astype(str).map(scen["scenario_label"]))
    wide.insert(2, "scenario_label_zh",
                wide["scenario"].astype(str).map(scen["scenario_label_zh"]))
    for column in ("year", "replicate"):
        if column in wide:
            wide[column] = wide[column].astype("int32")
    labels = {c: ID_LABELS[c] for c in wide.columns if c in ID_LABELS}
    attrs = table.drop_duplicates("indicator").set_index("indicator")
    for name in names:
        a = attrs.loc[name]
        unit = f"({a['unit']})" if a["unit"] else ""
        labels[short[name]] = _label(a["long_name_zh"], a["long_name"], unit)
    return wide, labels


# --- writers ------------------------------------------------------------------------------

def _number_format(unit: str) -> str:
    return "#,##0" if unit in COUNT_UNITS else "#,##0.000"


def _write_xlsx(table: pd.DataFrame, path: Path, ds: xr.Dataset) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    about = wb.create_sheet("about")
    for row in (("experiment", ds.attrs.get("experiment_name", "")),
                ("microsim version", ds.attrs.get("microsim_version", "")),
                ("created", ds.attrs.get("created", "")),
                ("rows", "one per scenario, year, replicate, group and indicator"
                 if "value" in table else "one per scenario, year, group and indicator: "
                 "mean and interval across replicates"),
                ("sheets", "one per indicator family; row 1 English, row 2 Chinese headers")):
        about.append([str(v) for v in row])
    columns = list(table.columns)
    numeric = {c for c in ("value", "mean", "se", "lower", "upper")}
    bold = Font(bold=True)
    families = list(dict.fromkeys(table["family"]))
    for family in families:
        part = table[table["family"] == family]
        ws = wb.create_sheet(str(family or "other")[:31])
        ws.freeze_panes = "A3"
        for lang in (0, 1):
            header = []
            for c in columns:
                cell = WriteOnlyCell(ws, value=HEADERS[c][lang])
                cell.font = bold
                header.append(cell)
            ws.append(header)
        formats = part["unit"].map(_number_format).tolist()
        records = part.itertuples(index=False, name=None)
        for fmt, record in zip(formats, records):
            row = []
            for column, value in zip(columns, record):
                if isinstance(value, float) and np.isnan(value):
                    value = None
                elif isinstance(value, np.generic):
                    value = value.item()
                if column in numeric:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = fmt
                    row.append(cell)
                elif column == "level":
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = "0.0%"
                    row.append(cell)
                else:
                    row.append(value)
            ws.append(row)
    wb.save(path)


def _write(table: pd.DataFrame, fmt: str, path: Path, ds: xr.Dataset) -> None:
    if fmt == "csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "parquet":
        table.to_parquet(path, index=False, engine="pyarrow")
    elif fmt == "xlsx":
        _write_xlsx(table, path, ds)
    elif fmt == "dta":
        wide, labels = stata_frame(table, ds)
        name = str(ds.attrs.get("experiment_name", ""))
        title = f"microsim: {name}"[:STATA_LABEL_MAX]
        wide.to_stata(path, write_index=False, version=118, variable_labels=labels,
                      data_label=title)
    else:  # pragma: no cover - checked by write_export
        raise ValueError(fmt)


def default_path(results: Path, fmt: str, summary: bool) -> Path:
    """Beside the results: export.FMT, or export_summary.FMT for the summary table."""
    folder = results if results.is_dir() else results.parent
    return folder / f"export{'_summary' if summary else ''}.{fmt}"


def write_export(ds: xr.Dataset, fmt: str, out: Path, *, summary: bool = False,
                 level: float = 0.95, force: bool = False,
                 names: list[str] | None = None) -> Path:
    """Write the long (or summary) table of `ds` to `out` in `fmt`; the path written."""
    if fmt not in FORMATS:
        raise InputError(None, f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})",
                         key="format")
    out = Path(out)
    if out.exists() and not force:
        raise InputError(out, "the export exists; pass --force to replace it", key="out")
    if not out.parent.is_dir():
        raise InputError(out, f"no folder {out.parent} to write the export into", key="out")
    table = summary_table(ds, names, level) if summary else long_table(ds, names)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        _write(table, fmt, tmp, ds)
        publish(tmp, out, force, lambda: InputError(
            out, "the export appeared while it was being written (another process wrote it); "
            "it was kept: pass --force to replace it", key="out"))
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
