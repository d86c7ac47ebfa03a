"""Fonts for the report's figures: a Simplified Chinese font on any machine.

Takes: nothing (matplotlib's font manager). Gives: `chinese_font()`, the family
name of a Simplified Chinese font matplotlib can draw with, and
`figure_fonts(lang)`, the `font.family` list of a figure in either language.

An installed system font is preferred (the first of `SYSTEM_FONTS` the font
manager knows: Linux, macOS and Windows families). When there is none, the
font shipped by the `noto-cjk-sans-otc` package (Noto Sans CJK, SIL Open Font
License 1.1, a dependency of microsim) is added to the font manager with its
public `addfont`, so Chinese figures never need a system font. The package's
file is an OpenType collection (.ttc): matplotlib reads every face of a
collection from 3.11 on, which is why pyproject.toml sets that floor.
"""

from __future__ import annotations

from matplotlib import font_manager

from microsim.errors import MicrosimError

SYSTEM_FONTS = (
    # Linux (Debian/Ubuntu fonts-noto-cjk, Adobe's Source Han, WenQuanYi, Android's fallback)
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
    # macOS
    "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
    # Windows (fonts of the operating system, used where they are installed; never shipped)
    "Microsoft YaHei", "DengXian", "SimHei",
)
BUNDLED_FAMILY = "Noto Sans CJK SC"   # the Simplified Chinese face of the shipped collection
LATIN_FAMILY = "DejaVu Sans"          # shipped with matplotlib


def installed_families() -> set[str]:
    return {f.name for f in font_manager.fontManager.ttflist}


def bundled_font_path() -> str:
    """The path of the shipped Noto Sans CJK collection."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        raise MicrosimError("Chinese figures need the noto-cjk-sans-otc package (a dependency "
                            "of microsim: reinstall with pip install -e .) or a system CJK font; "
                            "use --lang en meanwhile") from None
    return str(FONT_PATH)


def chinese_font() -> str:
    """A Simplified Chinese font family the font manager can draw with: an installed system
    font first, else the shipped Noto Sans CJK (added to the font manager once)."""
    families = installed_families()
    for name in SYSTEM_FONTS:
        if name in families:
            return name
    font_manager.fontManager.addfont(bundled_font_path())
    if BUNDLED_FAMILY not in installed_families():
        raise MicrosimError(f"the font {bundled_font_path()} does not hold {BUNDLED_FAMILY!r}; "
                            "reinstall microsim's dependencies (pip install -e .)")
    return BUNDLED_FAMILY


def figure_fonts(lang: str) -> list[str]:
    """The font families of a figure: Chinese first in Chinese figures; in English figures
    Latin first with Chinese as fallback (they still name 惠民保 and the status groups)."""
    cjk = chinese_font()
    return [cjk, LATIN_FAMILY] if lang == "zh" else [LATIN_FAMILY, cjk]
