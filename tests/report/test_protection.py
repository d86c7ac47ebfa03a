"""The financial-protection section (ADePT Health tables) of the report in both languages: its
tables carry the summaries they come from, the paint-drip figure is drawn at 300 dpi with the
labels of the report's language, and a results file without the new parts leaves them out."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import microsim
from microsim.report.content import build_content
from microsim.report.protection import drip_points, paint_drip, protection_section
from tests.engine.test_adept_run import experiment


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return microsim.run(experiment(tmp_path_factory.mktemp("protection"), 3000), write=False)


def section(report):
    (sec,) = [s for s in report.sections if s.key == "protection"]
    return sec


def png_dpi(png: bytes) -> float:
    """Dots per inch from a PNG's pHYs chunk (pixels per metre)."""
    at = png.index(b"pHYs")
    x_per_m, _, unit = struct.unpack(">IIB", png[at + 4:at + 13])
    assert unit == 1 and zlib.crc32(png[at:at + 13]) == struct.unpack(">I", png[at + 13:at + 17])[0]
    return x_per_m * 0.0254


@pytest.mark.parametrize("lang, title, caption, threshold_head", [
    ("en", "Financial protection (ADePT Health tables)", "Paint-drip chart", "Threshold"),
    ("zh", "财务风险保护（世界银行卫生公平分析标准表）", "滴漆图", "阈值"),
])
def test_the_section_in_each_language(ds, lang, title, caption, threshold_head):
    sec = section(build_content(ds, lang))
    assert sec.title == title
    kinds = [t.kind for t in sec.tables]
    assert kinds == ["adept_grid", "adept_grid_quintile", "adept_grid", "adept_grid_quintile",
                     "adept_poverty", "adept_winners"]
    grid = sec.tables[0]
    assert grid.columns[0] == threshold_head
    assert [r[0].text for r in grid.rows] == ["5%", "10%", "15%", "25%", "40%"]
    (fig,) = sec.figures
    assert fig.name == "paint_drip" and caption in fig.caption
    assert round(png_dpi(fig.png)) == 300


def test_the_tables_carry_the_means_of_the_results(ds):
    sec = section(build_content(ds, "en"))
    mean = ds.sel(residence="all", quintile="all", status="all").mean("replicate")
    # Baseline grid table, row 10%: headcount H by consumption in the first value column.
    shown = float(sec.tables[0].rows[1][1].text.replace(",", ""))
    assert shown == pytest.approx(float(mean["che_grid_10"].sel(scenario="baseline")), abs=0.06)
    # Winners and losers: one row per decile and one for all; the last row's winners column.
    wl = sec.tables[5]
    assert [r[0].text for r in wl.rows] == [f"D{k}" for k in range(1, 11)] + ["all"]
    winners = float(wl.rows[-1][1].text)
    assert winners == pytest.approx(
        float(mean["winners_share"].sel(scenario="resident_rates_plus5")), abs=0.06)


def test_drip_points_are_ranked_and_fall_by_the_oop(ds):
    p = drip_points(ds, "baseline")
    assert (np.diff(p["pre"]) >= 0).all() and (np.diff(p["x"]) > 0).all()
    size = ds["drip_size"].values.astype(float)
    order = np.argsort(ds["drip_income"].values / size, kind="stable")
    drop = (ds["drip_oop"].sel(scenario="baseline").values / size)[order]
    assert np.allclose(p["pre"] - p["post"], drop)
    assert 0 < p["x"][0] < p["x"][-1] < 1


def test_results_without_the_new_parts_have_no_section(ds):
    bare = ds.drop_vars([v for v in ds.data_vars if str(v).startswith(
        ("che_grid_", "overshoot_grid_", "mpo_grid_", "winners_", "losers_", "unchanged_",
         "payment_change", "oop_change", "drip_", "poverty_"))])
    assert paint_drip(bare, "en", {}) is None
    from microsim.report.content import labels
    assert protection_section(bare, "en", labels("en")) is None
