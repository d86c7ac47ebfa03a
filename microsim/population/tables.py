"""The population data contract: households and persons as struct of arrays.

Takes: nothing. Gives: `Households` and `Persons` dataclasses of numpy arrays
with fixed dtypes, documented codes (`microsim.codes`) and units (yuan per
year, nominal, of the simulated year). Persons of a household are contiguous;
`Households.first_person` is the CSR offset into persons and `Persons.hh`
points back at the household's row in the same chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

HOUSEHOLD_COLUMNS = {
    "hh_id": np.int64,        # globally unique household id
    "weight": np.float64,     # households represented by this one
    "region": np.int32,       # administrative division code (0 = national)
    "residence": np.int8,     # codes.RESIDENCE
    "size": np.int16,         # members
    "income": np.float64,     # annual household disposable income, yuan
    "consumption": np.float64,  # annual household consumption expenditure, yuan
    "food": np.float64,       # annual household food expenditure, yuan
    "status": np.int8,        # codes.STATUS
}

PERSON_COLUMNS = {
    "person_id": np.int64,    # globally unique person id
    "hh": np.int64,           # row of the person's household in this chunk
    "age": np.int16,          # years
    "sex": np.int8,           # codes.SEX
    "scheme": np.int8,        # codes.SCHEME
    "chronic": np.uint8,      # bit flags, codes.CHRONIC
    "disabled": np.bool_,     # severe disability (持证残疾人)
    "supplementary": np.bool_,  # enrolled voluntarily in city supplementary insurance
    "wage": np.float64,       # annual wage, yuan (contribution base of UEBMI employees)
}


@dataclass
class Households:
    hh_id: np.ndarray
    weight: np.ndarray
    region: np.ndarray
    residence: np.ndarray
    size: np.ndarray
    income: np.ndarray
    consumption: np.ndarray
    food: np.ndarray
    status: np.ndarray
    first_person: np.ndarray  # int64, length n + 1: persons of household h are first_person[h]:first_person[h+1]

    def __len__(self) -> int:
        return int(self.hh_id.size)

    @property
    def n_persons(self) -> int:
        return int(self.first_person[-1])


@dataclass
class Persons:
    person_id: np.ndarray
    hh: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    scheme: np.ndarray
    chronic: np.ndarray
    disabled: np.ndarray
    supplementary: np.ndarray
    wage: np.ndarray

    def __len__(self) -> int:
        return int(self.person_id.size)


def empty_households(n: int) -> Households:
    cols = {name: np.zeros(n, dtype=dt) for name, dt in HOUSEHOLD_COLUMNS.items()}
    return Households(**cols, first_person=np.zeros(n + 1, dtype=np.int64))


def empty_persons(n: int) -> Persons:
    return Persons(**{name: np.zeros(n, dtype=dt) for name, dt in PERSON_COLUMNS.items()})


def nbytes(table) -> int:
    """Memory held by a table's arrays."""
    return sum(getattr(table, f.name).nbytes for f in fields(table))
