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


def unit_display(units: str, table: dict) -> UnitDisplay:
    """How values in `units` are shown, from a language's unit table (unknown units as they are)."""
    if units.startswith("percentage points ("):       # differences of percentages (gaps)
        units = "percentage points"
    entry = table.get(units)
    if entry is None:
        return UnitDisplay(units, 1.0, 2, units)
    label = entry.get("label", units)
    return UnitDisplay(label, float(entry.get("scale", 1.0)), entry.get("digits"),
                       entry.get("effect", label))


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
