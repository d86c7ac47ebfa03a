"""Report figures: matplotlib charts of a results Dataset, as PNG bytes, in either language.

Takes: a results Dataset, a language and the report labels. Gives: `Figure`s
(name, caption, PNG). Chinese labels need a CJK font (Noto Sans CJK, from
Debian's fonts-noto-cjk); without one a Chinese figure is refused with a
clear error rather than drawn with empty boxes.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from microsim.engine.summary import summarize  # noqa: E402
from microsim.errors import MicrosimError  # noqa: E402
from microsim.report.content import Figure, indicator_name, scenario_names, units  # noqa: E402

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "SimHei", "Microsoft YaHei")
DPI = 110


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


def oop_by_quintile(ds: xr.Dataset, s: xr.Dataset, lang: str, lab: dict) -> bytes | None:
    name = "oop_share_income"
    if name not in ds or ds.sizes.get("quintile", 1) < 6:
        return None
    residences = [r for r in ("urban", "rural", "all") if r in ds.residence.values and r != "all"] or ["all"]
    names = scenario_names(ds, lang)
    quint = [q for q in ds.quintile.values if q != "all"]
    fig, axes = plt.subplots(1, len(residences), figsize=(5.2 * len(residences), 3.8), sharey=True,
                             squeeze=False)
    width = 0.8 / ds.sizes["scenario"]
    for ax, res in zip(axes[0], residences):
        for i, sc in enumerate(ds.scenario.values):
            da = s[name].sel(scenario=sc, residence=res, status="all", quintile=quint)
            mean = da.sel(stat="mean").values
            err = np.vstack([mean - da.sel(stat="lower").values, da.sel(stat="upper").values - mean])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.bar(np.arange(len(quint)) + (i - (ds.sizes["scenario"] - 1) / 2) * width, mean, width,
                   yerr=err, capsize=2, label=names[str(sc)])
        ax.set_xticks(np.arange(len(quint)), quint)
        ax.set_title(lab.get(res, res))
        ax.set_xlabel(lab["quintile"])
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(indicator_name(ds, name, lang) + f" ({lab['percent']})")
    axes[0][-1].legend(fontsize=8)
    return _png(fig)


def protection_by_scenario(ds: xr.Dataset, s: xr.Dataset, lang: str, lab: dict) -> bytes | None:
    names_ = [n for n in ("che10", "che25") if n in ds] + \
        [n for n in ds.data_vars if str(n).startswith("impoverished_")]
    if not names_:
        return None
    scen = scenario_names(ds, lang)
    fig, axes = plt.subplots(1, len(names_), figsize=(3.6 * len(names_), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names_):
        da = s[name].sel(residence="all", quintile="all", status="all")
        mean = da.sel(stat="mean").values
        err = np.vstack([mean - da.sel(stat="lower").values, da.sel(stat="upper").values - mean])
        err = np.where(np.isfinite(err), err, 0.0)
        x = np.arange(ds.sizes["scenario"])
        ax.bar(x, mean, 0.6, yerr=err, capsize=3, color=plt.cm.tab10(x % 10))
        ax.set_xticks(x, [scen[str(sc)] for sc in ds.scenario.values], rotation=20, ha="right", fontsize=8)
        ax.set_title(indicator_name(ds, name, lang), fontsize=9, wrap=True)
        ax.set_ylabel(units(ds, name, lab))
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


FIGURES = (("oop_by_quintile", "fig_oop_quintile", oop_by_quintile),
           ("protection_by_scenario", "fig_che", protection_by_scenario))


def figure_slots(ds: xr.Dataset, lang: str, lab: dict) -> list[Figure]:
    s = summarize(ds)
    out = []
    with plt.rc_context(_style(lang)):
        for name, caption, draw in FIGURES:
            png = draw(ds, s, lang, lab)
            if png is not None:
                out.append(Figure(name, lab[caption], png))
    return out
