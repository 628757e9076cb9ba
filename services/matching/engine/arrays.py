"""The engine's inputs: one array per attribute, one row per unit (sibling group) or household.

The database loader (`services/matching/loader.py`) fills these; tests and benchmarks make
them directly. Codes follow `services/register/vocabulary.py`: needs and contact levels
0-3, regions, ethnicities and religions by their position in the enum, languages as a
bitmask.
"""

from dataclasses import dataclass, fields

import numpy as np

N_NEEDS = 8
N_REGIONS = 9
NO_RELIGION = -1


@dataclass(frozen=True)
class Units:
    """Sibling groups (a single child is a group of one)."""

    size: np.ndarray  # int16: children placed together
    age_min_months: np.ndarray  # int16: the youngest child's age
    age_max_months: np.ndarray  # int16: the oldest child's age
    needs: np.ndarray  # int8 (n, 8): per need, the highest level among the children
    days_waiting: np.ndarray  # int32: since the earliest placement order in the group
    disabled: np.ndarray  # bool: a child with a disability need at medium or more
    minority_ethnic: np.ndarray  # bool
    latitude: np.ndarray  # float64
    longitude: np.ndarray  # float64
    excluded_regions: np.ndarray  # bool (n, 9): regions a household must not be in
    # Each child's minimum distance from their own birth family, one column per child with
    # such a restriction (rows padded with 0 km / NaN): a hard rule holds for every child,
    # never for the group's average.
    birth_latitude: np.ndarray  # float64 (n, k), NaN where no restriction
    birth_longitude: np.ndarray  # float64 (n, k)
    min_distance_km: np.ndarray  # float64 (n, k): 0 = no restriction
    ethnicity: np.ndarray  # int8
    religion: np.ndarray  # int8, NO_RELIGION when none stated
    languages: np.ndarray  # uint32 bitmask
    contact_plan: np.ndarray  # int8: the most demanding plan among the children
    available: np.ndarray  # bool: legally able to be matched (waiting)

    def __post_init__(self) -> None:
        k = self.min_distance_km.shape[1] if self.min_distance_km.ndim == 2 else -1
        _check(
            self,
            {
                "needs": (N_NEEDS,),
                "excluded_regions": (N_REGIONS,),
                "birth_latitude": (k,),
                "birth_longitude": (k,),
                "min_distance_km": (k,),
            },
        )

    def __len__(self) -> int:
        return len(self.size)


@dataclass(frozen=True)
class Households:
    available: np.ndarray  # bool: approved and not linked, matched, on hold or withdrawn
    capacity: np.ndarray  # int16: approved number of children
    age_min_months: np.ndarray  # int16
    age_max_months: np.ndarray  # int16: inclusive (approved "up to 4" = up to 59 months)
    can_meet: np.ndarray  # int8 (m, 8): the highest level of each need it can meet
    accepts_siblings: np.ndarray  # bool
    region: np.ndarray  # int8
    latitude: np.ndarray  # float64
    longitude: np.ndarray  # float64
    ethnicity: np.ndarray  # int8
    religion: np.ndarray  # int8
    languages: np.ndarray  # uint32
    contact_openness: np.ndarray  # int8: the most contact it is open to

    def __post_init__(self) -> None:
        _check(self, {"can_meet": (N_NEEDS,)})

    def __len__(self) -> int:
        return len(self.capacity)

    def take(self, index: np.ndarray) -> "Households":
        """The households at these positions, in this order."""
        return Households(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class Pairs:
    """A set of (unit, household) index pairs, for fast membership tests of many pairs at
    once: declined pairs, or pairs where the household expressed interest in the unit."""

    units: np.ndarray  # int64
    households: np.ndarray  # int64

    @staticmethod
    def _keys(units: np.ndarray, households: np.ndarray) -> np.ndarray:
        return (units.astype(np.int64) << 32) | households.astype(np.int64)

    def contains(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """bool (len(rows),): whether each (rows[k], cols[k]) is in the set."""
        known = np.sort(self._keys(self.units, self.households))
        if not len(known):
            return np.zeros(len(rows), dtype=bool)
        wanted = self._keys(rows, cols)
        at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
        return known[at] == wanted


NO_PAIRS = Pairs(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))


def _check(arrays: object, extra_dims: dict[str, tuple[int, ...]]) -> None:
    length = None
    for f in fields(arrays):  # type: ignore[arg-type]
        value = getattr(arrays, f.name)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{f.name} must be a numpy array")
        if length is None:
            length = value.shape[0]
        expected = (length, *extra_dims.get(f.name, ()))
        if value.shape != expected:
            raise ValueError(f"{f.name} has shape {value.shape}, expected {expected}")
