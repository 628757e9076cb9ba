"""Plain records of children and households, encoded as the engine's arrays.

One encoder for every source of a pool: the database loader turns its rows into these
records, the simulation and the benchmarks make them directly. Pure: no database, no ORM,
only the register's vocabulary (whose enum order fixes the engine's codes).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from services.matching.engine.arrays import N_NEEDS, NO_RELIGION, Households, Units
from services.register.vocabulary import DISABILITY_NEEDS, DISABILITY_THRESHOLD, NEEDS, Ethnicity, Region, Religion

REGIONS = list(Region)
ETHNICITIES = list(Ethnicity)
RELIGIONS = [r for r in Religion if r is not Religion.NONE]


@dataclass(frozen=True)
class ChildRecord:
    """What the engine needs to know of one child. `needs` holds a level (0-3) per need, in
    the order of `vocabulary.NEEDS`."""

    date_of_birth: date
    waiting_since: date
    needs: tuple[int, ...]
    ethnicity: Ethnicity
    religion: Religion
    languages: tuple[str, ...]
    latitude: float
    longitude: float
    contact_plan: int
    excluded_regions: tuple[Region, ...] = ()
    birth_family_latitude: float | None = None
    birth_family_longitude: float | None = None
    min_distance_km: float = 0.0


@dataclass(frozen=True)
class HouseholdRecord:
    """What the engine needs to know of one approved household; `can_meet` as `needs` above."""

    approved_children: int
    age_min_years: int
    age_max_years: int
    can_meet: tuple[int, ...]
    accepts_sibling_group: bool
    region: Region
    latitude: float
    longitude: float
    ethnicity: Ethnicity
    religion: Religion
    languages: tuple[str, ...]
    contact_openness: int


def months_between(born: date, today: date) -> int:
    return (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)


class Languages:
    """Languages as bits of a 32-bit mask, in alphabetical order (deterministic). Beyond 32
    languages bits are shared, which can only make two languages look shared: a soft
    preference, never a hard rule."""

    def __init__(self, names: Iterable[str]) -> None:
        self.bit = {name: 1 << (i % 32) for i, name in enumerate(sorted(set(names)))}

    @classmethod
    def of(cls, children: Iterable[ChildRecord], households: Iterable[HouseholdRecord]) -> "Languages":
        return cls(
            {lang for c in children for lang in c.languages} | {lang for h in households for lang in h.languages}
        )

    def mask(self, names: Iterable[str]) -> int:
        value = 0
        for name in names:
            value |= self.bit.get(name, 0)
        return value


def units_from_children(groups: Sequence[Sequence[ChildRecord]], today: date, languages: Languages) -> Units:
    """One unit per group of children (a single child is a group of one); no group is empty."""
    n = len(groups)
    needs = np.zeros((n, N_NEEDS), dtype=np.int8)
    excluded = np.zeros((n, len(REGIONS)), dtype=bool)
    disability = [NEEDS.index(need) for need in DISABILITY_NEEDS]
    ages, waits = [], []
    # One column per restricted child: the widest group decides how many columns.
    restricted = [
        [c for c in children if c.min_distance_km > 0 and c.birth_family_latitude is not None] for children in groups
    ]
    k = max((len(r) for r in restricted), default=0) or 1
    birth_lat = np.full((n, k), np.nan)
    birth_lon = np.full((n, k), np.nan)
    min_km = np.zeros((n, k))
    for i, restricted_children in enumerate(restricted):
        for column, child in enumerate(restricted_children):
            birth_lat[i, column] = child.birth_family_latitude
            birth_lon[i, column] = child.birth_family_longitude
            min_km[i, column] = child.min_distance_km
    for i, children in enumerate(groups):
        for child in children:
            needs[i] = np.maximum(needs[i], child.needs)
            for region in child.excluded_regions:
                excluded[i, REGIONS.index(Region(region))] = True
        ages.append([months_between(c.date_of_birth, today) for c in children])
        waits.append(max((today - c.waiting_since).days for c in children))
    first = [children[0] for children in groups]
    religion = [NO_RELIGION if c.religion is Religion.NONE else RELIGIONS.index(c.religion) for c in first]
    return Units(
        size=np.array([len(g) for g in groups], dtype=np.int16),
        age_min_months=np.array([min(a) for a in ages], dtype=np.int16),
        age_max_months=np.array([max(a) for a in ages], dtype=np.int16),
        needs=needs,
        days_waiting=np.array(waits, dtype=np.int32),
        disabled=np.asarray((needs[:, disability] >= int(DISABILITY_THRESHOLD)).any(axis=1), dtype=bool),
        minority_ethnic=np.array([any(c.ethnicity.is_minority for c in g) for g in groups], dtype=bool),
        latitude=np.array([np.mean([c.latitude for c in g]) for g in groups], dtype=np.float64),
        longitude=np.array([np.mean([c.longitude for c in g]) for g in groups], dtype=np.float64),
        excluded_regions=excluded,
        birth_latitude=birth_lat,
        birth_longitude=birth_lon,
        min_distance_km=min_km,
        ethnicity=np.array([ETHNICITIES.index(c.ethnicity) for c in first], dtype=np.int8),
        religion=np.array(religion, dtype=np.int8),
        languages=np.array(
            [languages.mask([lang for c in g for lang in c.languages]) for g in groups], dtype=np.uint32
        ),
        contact_plan=np.array([max(c.contact_plan for c in g) for g in groups], dtype=np.int8),
        available=np.ones(n, dtype=bool),
    )


def households_from_records(households: Sequence[HouseholdRecord], languages: Languages) -> Households:
    religion = [NO_RELIGION if h.religion is Religion.NONE else RELIGIONS.index(h.religion) for h in households]
    return Households(
        available=np.ones(len(households), dtype=bool),
        capacity=np.array([h.approved_children for h in households], dtype=np.int16),
        age_min_months=np.array([h.age_min_years * 12 for h in households], dtype=np.int16),
        # "Approved up to 4" takes a child until their fifth birthday.
        age_max_months=np.array([h.age_max_years * 12 + 11 for h in households], dtype=np.int16),
        can_meet=np.array([h.can_meet for h in households], dtype=np.int8).reshape(-1, N_NEEDS),
        accepts_siblings=np.array([h.accepts_sibling_group for h in households], dtype=bool),
        region=np.array([REGIONS.index(h.region) for h in households], dtype=np.int8),
        latitude=np.array([h.latitude for h in households], dtype=np.float64),
        longitude=np.array([h.longitude for h in households], dtype=np.float64),
        ethnicity=np.array([ETHNICITIES.index(h.ethnicity) for h in households], dtype=np.int8),
        religion=np.array(religion, dtype=np.int8),
        languages=np.array([languages.mask(h.languages) for h in households], dtype=np.uint32),
        contact_openness=np.array([h.contact_openness for h in households], dtype=np.int8),
    )
