"""Demography: who dies and who is born from one simulated year to the next.

Takes: a `populations/demography/*.yaml` file (annual probabilities of dying by
age band and sex, births per woman by age band, the male share at birth).
Gives: `DemographyParams`, the same by single year of age, for the ageing
kernel (`ageing.py`).

    mortality:
      ages: [0, 1, 5, ...]         # lower edges of the bands, the first 0
      male: [...]                  # annual probability of dying in each band
      female: [...]
    fertility:
      ages: [15, 20, ..., 50]      # band edges: rates[i] applies to ages [ages[i], ages[i+1])
      rates: [...]                 # births per woman per year
      male_share_at_birth: 0.53
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NamedTuple

import numpy as np
from pydantic import Field, model_validator

from microsim.schema import Share, Strict, validate_tree
from microsim.yamltree import load_tree

Age = Annotated[int, Field(ge=0, le=120)]
MAX_AGE = 120


class Mortality(Strict):
    """A life table: the probability of dying within a year by age band and sex."""

    ages: Annotated[list[Age], Field(min_length=1)]
    """Lower edges of the age bands in years, ascending from 0."""
    male: list[Share]
    """Men's probability of dying within a year, by age band."""
    female: list[Share]
    """Women's probability of dying within a year, by age band."""

    @model_validator(mode="after")
    def _bands(self):
        if self.ages[0] != 0 or any(a >= b for a, b in zip(self.ages, self.ages[1:])):
            raise ValueError("mortality.ages are ascending lower edges starting at 0")
        for sex in ("male", "female"):
            if len(getattr(self, sex)) != len(self.ages):
                raise ValueError(f"mortality.{sex} needs one probability per age band "
                                 f"({len(self.ages)}), got {len(getattr(self, sex))}")
        return self


class Fertility(Strict):
    """Births per woman by age band."""

    ages: Annotated[list[Age], Field(min_length=2)]
    """Edges of the fertility age bands in years, ascending."""
    rates: list[Share]
    """Births per woman and year in each band between the edges."""
    male_share_at_birth: Share
    """Share of births that are boys."""

    @model_validator(mode="after")
    def _bands(self):
        if any(a >= b for a, b in zip(self.ages, self.ages[1:])):
            raise ValueError("fertility.ages are ascending band edges")
        if len(self.rates) != len(self.ages) - 1:
            raise ValueError(f"fertility.rates needs one rate per band between the edges "
                             f"({len(self.ages) - 1}), got {len(self.rates)}")
        return self


class DemographyFile(Strict):
    """The life table and fertility that age a population in a projection (docs/years.md)."""

    name: str
    """The file's name."""
    description: str = ""
    """Where the life table and fertility come from."""
    mortality: Mortality
    """The life table by sex."""
    fertility: Fertility
    """Fertility by age."""


class DemographyParams(NamedTuple):
    """By single year of age 0..MAX_AGE: q[sex, age] the probability of dying within a year
    (codes.SEX order: male, female), births[age] per woman per year, and the male share at
    birth."""

    q: np.ndarray          # float64 (2, MAX_AGE + 1)
    births: np.ndarray     # float64 (MAX_AGE + 1,)
    male_at_birth: float


@dataclass(frozen=True)
class Demography:
    path: Path
    data: DemographyFile

    def params(self, max_age: int) -> DemographyParams:
        """The tables by single age; nobody lives past the population's `max_age`."""
        ages = np.arange(MAX_AGE + 1)
        m = self.data.mortality
        band = np.searchsorted(np.asarray(m.ages), ages, side="right") - 1
        q = np.stack([np.asarray(m.male)[band], np.asarray(m.female)[band]]).astype(np.float64)
        q[:, max_age:] = 1.0
        f = self.data.fertility
        births = np.zeros(MAX_AGE + 1)
        for lo, hi, rate in zip(f.ages, f.ages[1:], f.rates):
            births[lo:hi] = rate
        return DemographyParams(q=q, births=births, male_at_birth=float(f.male_share_at_birth))


def load_demography(path: str | Path) -> Demography:
    """Load and validate a demography file."""
    tree = load_tree(path, "demography")
    return Demography(Path(tree.files[-1]), validate_tree(DemographyFile, tree, "demography"))
