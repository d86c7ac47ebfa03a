"""Numbers as a policy office reads them: units in the report's language, sensible digits.

Takes: an indicator's `units` attribute (as the results file states it), the
report language's unit table (`labels.yaml`: label, scale, digits, unit of a
difference) and values. Gives: a `UnitDisplay` (label, scale, digits) and
formatted numbers, intervals and signed differences (ASCII signs, so that a
pasted table stays numeric in a spreadsheet). Chinese reports count
money in 亿元 and people in 万人, so a unit may carry a scale (billion yuan x 10
= 亿元); values are multiplied before they are formatted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PERCENT_UNITS = ("percent", "percent of persons", "percent of households", "percentage points",
                 "percent of the line")
NOT_AVAILABLE = {"en": "n/a", "zh": "—"}


@dataclass(frozen=True)
class UnitDisplay:
    label: str           # the unit as printed
    scale: float         # values are multiplied by this before printing
    digits: int | None   # None: 1 decimal from 10 up, 2 below (percentages)
    effect_label: str    # the unit of a difference of two values
    bounds: tuple[float, float] | None = None   # a level's range by definition (shares: 0-100)


def unit_display(units: str, table: dict) -> UnitDisplay:
    """How values in `units` are shown, from a language's unit table (unknown units as they are)."""
    if units.startswith("percentage points ("):       # differences of percentages (gaps)
        units = "percentage points"
    entry = table.get(units)
    if entry is None:
        return UnitDisplay(units, 1.0, 2, units)
    label = entry.get("label", units)
    bounds = entry.get("bounds")
    return UnitDisplay(label, float(entry.get("scale", 1.0)), entry.get("digits"),
                       entry.get("effect", label),
                       (float(bounds[0]), float(bounds[1])) if bounds else None)


def clip_interval(lower: float, upper: float, display: UnitDisplay) -> tuple[float, float, bool]:
    """An interval of a level kept inside the unit's range by definition (a share in [0, 100]);
    the last item says whether a bound was moved. Differences are never clipped (the caller
    clips levels only)."""
    if display.bounds is None or not (math.isfinite(lower) and math.isfinite(upper)):
        return lower, upper, False
    low, high = display.bounds
    clipped = (max(lower, low), min(upper, high))
    return clipped[0], clipped[1], clipped != (lower, upper)


MAX_DIGITS = 4   # decimals never grow past this to tell an interval's bounds apart


def _distinct(a: float, b: float, digits: int) -> bool:
    return f"{a:.{digits}f}" != f"{b:.{digits}f}"


NOISE = 1e-9   # relative differences below this are floating-point noise, not a width


def resolving_digits(triples, digits: int, max_digits: int = MAX_DIGITS) -> int:
    """Decimals, from `digits` up to `max_digits`, at which each (value, lower, upper) prints
    its bounds apart from each other and from the value wherever they really differ, so that
    [-33.24, -32.78] around -33.01 never prints as -33 [-33, -33]."""
    def resolved(d: int) -> bool:
        for t in triples:
            if not all(v is not None and math.isfinite(v) for v in t):
                continue
            m, lo, hi = t
            for a, b in ((lo, hi), (lo, m), (m, hi)):
                # a difference of rounding noise (an interval of replicates that all agree,
                # 60 +/- 1e-14) is no difference: it would ask for every decimal
                if abs(a - b) > NOISE * max(abs(a), abs(b), 1.0) and not _distinct(a, b, d):
                    return False
        return True

    d = digits
    while d < max(digits, max_digits) and not resolved(d):
        d += 1
    return d


def digits_for(display: UnitDisplay, values) -> int:
    """Decimals for a row of values: the unit's, or for percentages 1 from 10 up and 2 below."""
    if display.digits is not None:
        return int(display.digits)
    finite = [abs(v) * display.scale for v in values if v is not None and math.isfinite(v)]
    return 1 if finite and max(finite) >= 10 else 2


def number(value: float | None, digits: int, lang: str = "en", signed: bool = False) -> str:
    """`value` with thousands separators and `digits` decimals; `signed` puts "+" before a
    positive difference. A value that rounds to zero prints without a sign."""
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE.get(lang, "n/a")
    text = f"{abs(value):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return text
    if value < 0:
        return "-" + text
    return ("+" + text) if signed else text


def interval(lower: float, upper: float, digits: int, lang: str = "en", signed: bool = False) -> str:
    """"[lower, upper]", or "" when the interval does not exist (one replicate)."""
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return ""
    return f"[{number(lower, digits, lang, signed)}, {number(upper, digits, lang, signed)}]"


def compact(value: float) -> str:
    """A stated number (a target) without trailing zeros: 72, 87.5, 0.35, 1,000."""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".")
