"""Report figures: matplotlib charts of a results Dataset, as PNG bytes, in either language.

Takes: a results Dataset, its `Summaries` (means and 95% intervals across
replicates), a language and the report labels. Gives: `Figure`s (name,
caption, PNG). Which indicators each figure shows is set in `labels.yaml`.
Chinese labels need a CJK font (Noto Sans CJK, from Debian's fonts-noto-cjk);
without one a Chinese figure is refused with a clear error rather than drawn
with empty boxes.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from microsim.errors import MicrosimError  # noqa: E402
from microsim.report.content import (Figure, Summaries, indicator_name, scenario_names,  # noqa: E402
                                     units)

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "SimHei", "Microsoft YaHei")
DPI = 100
QUINTILES = ["Q1", "Q2", "Q3", "Q4", "Q5"]


def cjk_font() -> str | None:
    """A CJK font matplotlib can use; rebuilds a font cache made before the font was installed."""
    for attempt in range(2):
        available = {f.name for f in font_manager.fontManager.ttflist}
        found = next((f for f in CJK_FONTS if f in available), None)
        if found or attempt:
            return found
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
    return None


def _style(lang: str) -> dict:
    if lang != "zh":
        return {"font.family": "DejaVu Sans"}
    font = cjk_font()
    if font is None:
        raise MicrosimError("Chinese figures need a CJK font and none is installed (Debian: "
                            "apt-get install fonts-noto-cjk); use --lang en meanwhile")
    return {"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _errors(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    mean = da.sel(stat="mean").values
    err = np.vstack([mean - da.sel(stat="lower").values, da.sel(stat="upper").values - mean])
    return mean, np.where(np.isfinite(err), err, 0.0)


def _has_quintiles(ds: xr.Dataset) -> bool:
    return set(QUINTILES) <= {str(q) for q in ds.quintile.values}


def oop_by_quintile(ds, sm: Summaries, lang, lab):
    name = "oop_share_income"
    if name not in ds or not _has_quintiles(ds):
        return None
    residences = [r for r in ("urban", "rural") if r in ds.residence.values] or ["all"]
    names = scenario_names(ds, lang)
    n_s = ds.sizes["scenario"]
    fig, axes = plt.subplots(1, len(residences), figsize=(5.0 * len(residences), 3.6), sharey=True,
                             squeeze=False)
    width = 0.8 / n_s
    for ax, res in zip(axes[0], residences):
        for i, sc in enumerate(ds.scenario.values):
            mean, err = _errors(sm.means[name].sel(scenario=sc, residence=res, status="all",
                                                   quintile=QUINTILES))
            ax.bar(np.arange(5) + (i - (n_s - 1) / 2) * width, mean, width, yerr=err, capsize=2,
                   label=names[str(sc)])
        ax.set_xticks(np.arange(5), QUINTILES)
        ax.set_title(lab.get(res, res))
        ax.set_xlabel(lab["quintile"])
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(indicator_name(ds, name, lang) + f" ({lab['percent']})")
    axes[0][-1].legend(fontsize=8)
    return _png(fig)


def protection_by_scenario(ds, sm: Summaries, lang, lab):
    names_ = [n for n in lab["protection_indicators"] if n in ds]
    if not names_:
        return None
    scen = scenario_names(ds, lang)
    cols = min(len(names_), 3)
    rows = -(-len(names_) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.7 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.flat[len(names_):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names_):
        mean, err = _errors(sm.means[name].sel(residence="all", quintile="all", status="all"))
        x = np.arange(ds.sizes["scenario"])
        ax.bar(x, mean, 0.6, yerr=err, capsize=3, color=plt.cm.tab10(x % 10))
        ax.set_xticks(x, [scen[str(sc)] for sc in ds.scenario.values], rotation=20, ha="right",
                      fontsize=7)
        ax.set_title(indicator_name(ds, name, lang), fontsize=8, wrap=True)
        ax.set_ylabel(units(ds, name, lab), fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def layers_by_quintile(ds, sm: Summaries, lang, lab):
    shares = [n for n in lab["layer_shares"] if n in ds]
    if not shares or not _has_quintiles(ds):
        return None
    scen = scenario_names(ds, lang)
    n_s = ds.sizes["scenario"]
    fig, axes = plt.subplots(1, n_s, figsize=(4.2 * n_s, 3.6), sharey=True, squeeze=False)
    for ax, sc in zip(axes[0], ds.scenario.values):
        bottom = np.zeros(5)
        for i, name in enumerate(shares):
            v = sm.means[name].sel(scenario=sc, residence="all", status="all", quintile=QUINTILES,
                                   stat="mean").values
            v = np.nan_to_num(v)
            ax.bar(np.arange(5), v, 0.7, bottom=bottom, color=plt.cm.tab10(i),
                   label=indicator_name(ds, name, lang))
            bottom += v
        ax.set_xticks(np.arange(5), QUINTILES)
        ax.set_title(scen[str(sc)], fontsize=9)
        ax.set_ylim(0, 100)
    axes[0][0].set_ylabel(lab["percent"])
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=7,
               bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return _png(fig)


def funds_by_scenario(ds, sm: Summaries, lang, lab):
    pairs = [(r, e) for r, e in lab["funds"] if r in ds and e in ds]
    if not pairs:
        return None
    scen = scenario_names(ds, lang)
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.6 * len(pairs), 3.5), squeeze=False)
    titles = {"urrbmi": lab["residents_fund"], "uebmi": lab["employees_fund"]}
    x = np.arange(ds.sizes["scenario"])
    # Fund indicators are in billion yuan; Chinese readers count in 亿 (1 billion = 10 亿).
    scale = 0.1 if lang == "zh" else 1.0
    for ax, (rev, exp_) in zip(axes[0], pairs):
        for j, (name, label) in enumerate(((rev, lab["revenue"]), (exp_, lab["expenditure"]))):
            mean, err = _errors(sm.means[name].sel(residence="all", quintile="all", status="all"))
            ax.bar(x + (j - 0.5) * 0.38, mean / scale, 0.38, yerr=err / scale, capsize=3, label=label)
        ax.set_xticks(x, [scen[str(sc)] for sc in ds.scenario.values], rotation=20, ha="right",
                      fontsize=7)
        ax.set_title(titles.get(rev.rsplit("_", 1)[-1], rev), fontsize=9)
        ax.set_ylabel(lab["billion_yuan"])
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def concentration_curves(ds, sm: Summaries, lang, lab):
    if "oop_per_person" not in ds or "population" not in ds or not _has_quintiles(ds):
        return None
    scen = scenario_names(ds, lang)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label=lab["equality"])
    for sc in ds.scenario.values:
        sel = dict(scenario=sc, residence="all", status="all", quintile=QUINTILES, stat="mean")
        pop = sm.means["population"].sel(**sel).values
        oop = sm.means["oop_per_person"].sel(**sel).values * pop
        x = np.concatenate([[0], np.cumsum(pop) / pop.sum()])
        y = np.concatenate([[0], np.cumsum(oop) / oop.sum()])
        label = scen[str(sc)]
        if "ci_oop" in ds:
            ci = float(sm.means["ci_oop"].sel(scenario=sc, residence="all", status="all",
                                              quintile="all", stat="mean"))
            label += f" (CI {ci:+.3f})"
        ax.plot(x, y, marker="o", ms=3, label=label)
    ax.set_xlabel(lab["cumulative_population"], fontsize=8)
    ax.set_ylabel(lab["cumulative_oop"], fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _png(fig)


FIGURES = (("oop_by_quintile", "fig_oop_quintile", oop_by_quintile),
           ("protection_by_scenario", "fig_che", protection_by_scenario),
           ("layers_by_quintile", "fig_layers", layers_by_quintile),
           ("funds_by_scenario", "fig_funds", funds_by_scenario),
           ("concentration_curves", "fig_concentration", concentration_curves))


def figure_slots(ds: xr.Dataset, sm: Summaries, lang: str, lab: dict) -> list[Figure]:
    out = []
    with plt.rc_context(_style(lang)):
        for name, caption, draw in FIGURES:
            png = draw(ds, sm, lang, lab)
            if png is not None:
                out.append(Figure(name, lab[caption], png))
    return out
