"""Funds carried over: each simulated year opens with the previous year's closing balance.

Takes: the indicators of every (scenario, year, replicate) as arrays shaped
(scenario, year, replicate, residence, quintile, status), in the units of the
catalogue (billion yuan for fund flows). Gives: the same arrays with the carried
indicators filled in, for each basic-insurance fund and for medical assistance:

    closing(y) = opening(y) + revenue(y) - expenditure(y)      to the cent
    opening(y) = closing(y - 1)                                 after the first year
    reserve months(y) = closing(y) / (expenditure(y) / 12)
    expenditure growth(y) = expenditure(y) / expenditure(y - 1) - 1
    assistance balance share(y) = closing(y) / financing(y)

The first year's opening balance is the policy's stated one (per insured person,
or per resident for medical assistance, times persons), computed with the other
indicators. Amounts are added as whole cents (float64 holds every whole number
of cents below 2**53, 90 trillion yuan, exactly), so the identity holds to the
cent in every year. A fund is carried whole: later years' carried values sit in
the all/all/all cell, and the group cells of those years are NaN.
"""

from __future__ import annotations

import numpy as np

FUNDS = ("uebmi", "urrbmi")
ALL = (2, 5, 5)          # the all/all/all cell of (residence, quintile, status)
CENTS = 1e11             # cents per billion yuan
YEAR_AXIS = 1


def _cents(billion: np.ndarray) -> np.ndarray:
    return np.round(billion * CENTS)


def _carry(opening0: np.ndarray, revenue: np.ndarray, expenditure: np.ndarray):
    """(opening, closing) in billion yuan, (scenario, year, replicate), carried in cents."""
    rev, exp = _cents(revenue), _cents(expenditure)
    opening = np.empty_like(rev)
    closing = np.empty_like(rev)
    opening[:, 0] = _cents(opening0)
    for y in range(rev.shape[YEAR_AXIS]):
        if y:
            opening[:, y] = closing[:, y - 1]
        closing[:, y] = opening[:, y] + rev[:, y] - exp[:, y]
    return opening / CENTS, closing / CENTS


def _set(values: dict[str, np.ndarray], name: str, whole: np.ndarray) -> None:
    """Put a whole-fund path into the all cell; a later year's group cells become NaN."""
    if name not in values:
        return
    arr = values[name]
    arr[:, 1:] = np.nan
    arr[(slice(None), slice(None), slice(None)) + ALL] = whole


def carry_funds(values: dict[str, np.ndarray]) -> None:
    """Fill the carried fund indicators of `values` in place (any number of years)."""
    def whole(name: str) -> np.ndarray:
        return values[name][(slice(None), slice(None), slice(None)) + ALL]

    for fund in FUNDS:
        if f"fund_revenue_{fund}" not in values:
            continue
        revenue, expenditure = whole(f"fund_revenue_{fund}"), whole(f"fund_expenditure_{fund}")
        opening, closing = _carry(whole(f"fund_opening_balance_{fund}")[:, 0], revenue,
                                  expenditure)
        with np.errstate(divide="ignore", invalid="ignore"):
            months = np.where(expenditure != 0, closing / (expenditure / 12.0), np.nan)
            growth = np.full_like(expenditure, np.nan)
            previous = expenditure[:, :-1]
            growth[:, 1:] = np.where(previous != 0,
                                     (expenditure[:, 1:] / np.where(previous != 0, previous, 1)
                                      - 1.0) * 100.0, np.nan)
        _set(values, f"fund_opening_balance_{fund}", opening)
        _set(values, f"fund_closing_balance_{fund}", closing)
        _set(values, f"reserve_months_{fund}", months)
        if f"fund_expenditure_growth_{fund}" in values:
            values[f"fund_expenditure_growth_{fund}"][...] = np.nan
            _set(values, f"fund_expenditure_growth_{fund}", growth)
    if "assistance_financing" in values:
        financing, spending = whole("assistance_financing"), whole("assistance_expenditure")
        opening, closing = _carry(whole("assistance_opening_balance")[:, 0], financing, spending)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(financing != 0, closing / financing * 100.0, np.nan)
        _set(values, "assistance_opening_balance", opening)
        _set(values, "assistance_closing_balance", closing)
        _set(values, "assistance_balance_share", share)
