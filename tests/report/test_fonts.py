"""Fonts: Chinese figures draw on a machine with no system font (the shipped Noto Sans CJK),
with no glyph falling back to an empty box, and an installed system font is preferred."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from matplotlib import font_manager

from microsim.report import fonts

# Runs in a fresh interpreter with a fresh matplotlib cache; the font manager is left with
# matplotlib's own fonts only (no system font at all, so no system CJK font), then a Chinese
# and an English figure of the report are drawn with every warning recorded.
HIDDEN_SYSTEM_FONTS = r"""
import json, sys, warnings
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
from matplotlib import font_manager
own = str(Path(matplotlib.get_data_path()))
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist
                                    if f.fname.startswith(own)]
visible_before = sorted({f.name for f in font_manager.fontManager.ttflist})
from microsim.report import fonts
from microsim.report.figures import _new, _render, _style
out = {"visible_before": visible_before}
for lang in ("zh", "en"):
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(_style(lang)):
        warnings.simplefilter("always")
        fig = _new(3, 2)
        ax = fig.subplots()
        ax.set_title("因病致贫发生率（低保线，收入）特困 低边 防返贫监测")
        ax.set_xlabel("惠民保 supplementary (特困, 低保)")
        png = _render(fig).png
        out[lang] = {"png": png[:8].hex(), "warnings": [str(w.message) for w in caught],
                     "family": matplotlib.rcParams["font.family"]}
prop = font_manager.FontProperties(family=fonts.chinese_font())
out["file"] = font_manager.findfont(prop, fallback_to_default=False)
print(json.dumps(out))
"""


def test_chinese_figures_draw_with_no_system_font_and_no_missing_glyph(tmp_path):
    env = {"MPLCONFIGDIR": str(tmp_path / "mplconfig"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", HIDDEN_SYSTEM_FONTS], capture_output=True,
                          text=True, env=env, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [n for n in got["visible_before"] if "CJK" in n or "Hei" in n or "Han" in n]
    assert (tmp_path / "mplconfig").is_dir()            # a fresh cache was built there
    from noto_cjk_sans_otc import FONT_PATH
    assert Path(got["file"]) == Path(str(FONT_PATH))    # the shipped collection draws Chinese
    for lang, first in (("zh", "Noto Sans CJK SC"), ("en", "DejaVu Sans")):
        assert got[lang]["png"] == b"\x89PNG\r\n\x1a\n".hex()
        assert got[lang]["family"][0] == first
        missing = [w for w in got[lang]["warnings"] if "missing from font" in w]
        assert not missing, missing


def test_an_installed_system_font_is_preferred_to_the_shipped_one(monkeypatch):
    manager = font_manager.fontManager
    dejavu = next(f for f in manager.ttflist if f.name == "DejaVu Sans")
    # A font entry that stands for an installed WenQuanYi Zen Hei (its file does not matter here).
    monkeypatch.setattr(manager, "ttflist",
                        [f for f in manager.ttflist if f.name not in fonts.SYSTEM_FONTS]
                        + [dataclasses.replace(dejavu, name="WenQuanYi Zen Hei")])
    added = []
    monkeypatch.setattr(manager, "addfont", lambda path: added.append(path))
    assert fonts.chinese_font() == "WenQuanYi Zen Hei"
    assert fonts.figure_fonts("zh") == ["WenQuanYi Zen Hei", "DejaVu Sans"]
    assert fonts.figure_fonts("en") == ["DejaVu Sans", "WenQuanYi Zen Hei"]
    assert added == []                                   # the shipped font was not needed


def test_the_shipped_font_is_freely_licensed():
    from importlib.metadata import metadata
    meta = metadata("noto-cjk-sans-otc")
    assert meta["License-Expression"] == "OFL-1.1"
