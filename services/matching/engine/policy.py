"""The scoring policy: every weight and threshold of the matching score, in one place.

Policies are stored versioned in the database as JSON (`to_dict`/`from_dict`); a run
records the version it used. The defaults below are the first version's values.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ScoringPolicy:
    # Compatibility: how comfortably the household meets the needs (levels of headroom).
    needs_points_per_level: int = 3
    needs_points_cap: int = 24
    # Age: full points when the children's ages sit in the middle of the approved range.
    age_fit_points: int = 12
    # Distance and the logistics of introductions: full points next door, half at this distance.
    distance_points: int = 20
    distance_half_points_km: int = 80
    # Contact: the household is open to at least the plan (a hard rule); more openness is comfort.
    contact_points: int = 8
    # The household has expressed interest in these children (and not withdrawn it).
    mutual_interest_points: int = 10
    # Soft preferences; their weight falls linearly to nothing at `soft_fade_days` of waiting,
    # so a child never waits because no household shares their background.
    culture_points: int = 12
    language_points: int = 6
    religion_points: int = 6
    soft_fade_days: int = 365
    # Priority points (depend on the unit only): the longest waiting and hardest to place first.
    wait_points_per_30_days: int = 3
    wait_points_cap: int = 72
    sibling_group_points: int = 20
    aged_five_plus_points: int = 15
    disability_points: int = 15
    minority_ethnic_points: int = 10
    aged_five_plus_months: int = 60
    # The lexicographic mode first matches as many units waiting at least this long as possible.
    long_wait_days: int = 548
    # A hard cap on the distance between a unit and a household, for introductions; 0 = none
    # (England's runs: the whole country is in reach). A continental pool sets it, which
    # also lets the engine look only at nearby households (a sparse formulation).
    max_distance_km: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{f.name} must be a whole number of at least 0, got {value!r}")
        if self.distance_half_points_km == 0 or self.soft_fade_days == 0:
            raise ValueError("distance_half_points_km and soft_fade_days must be positive")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ScoringPolicy":
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown policy settings: {', '.join(unknown)}")
        return cls(**values)
