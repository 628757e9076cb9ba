"""The scoring policy: every weight and threshold of the matching score, in one place.

Policies are stored versioned in the database as JSON (`to_dict`/`from_dict`); a run
records the version it used. The defaults below are the first version's values.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

# The range each setting may take: (least, most). Wide enough for any sensible policy, narrow
# enough that no score, sum or solver weight can overflow (the API states these ranges).
POINTS = (0, 1_000)
BOUNDS: dict[str, tuple[int, int]] = {
    "needs_points_per_level": POINTS,
    "needs_points_cap": (0, 10_000),
    "age_fit_points": POINTS,
    "distance_points": POINTS,
    "distance_half_points_km": (1, 2_000),
    "contact_points": POINTS,
    "mutual_interest_points": POINTS,
    "culture_points": POINTS,
    "language_points": POINTS,
    "religion_points": POINTS,
    "soft_fade_days": (1, 3_650),
    "wait_points_per_30_days": POINTS,
    "wait_points_cap": (0, 10_000),
    "sibling_group_points": POINTS,
    "aged_five_plus_points": POINTS,
    "disability_points": POINTS,
    "minority_ethnic_points": POINTS,
    "aged_five_plus_months": (0, 216),
    "long_wait_days": (0, 3_650),
    "max_distance_km": (0, 2_000),
}
# Scores are summed in int32 component by component; the solver needs exact float64 sums.
MAX_PAIR_SCORE = 2**20


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
            least, most = BOUNDS[f.name]
            if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
                raise ValueError(f"{f.name} must be a whole number from {least} to {most}, got {value!r}")
        if self.max_pair_score() > MAX_PAIR_SCORE:
            raise ValueError(f"the weights allow a score of {self.max_pair_score()}, above {MAX_PAIR_SCORE}")

    def max_pair_score(self) -> int:
        """The highest score any pair could get: every component at its maximum."""
        return (
            self.needs_points_cap
            + self.age_fit_points
            + self.distance_points
            + self.contact_points
            + self.mutual_interest_points
            + self.culture_points
            + self.language_points
            + self.religion_points
            + self.wait_points_cap
            + self.sibling_group_points
            + self.aged_five_plus_points
            + self.disability_points
            + self.minority_ethnic_points
        )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ScoringPolicy":
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown policy settings: {', '.join(unknown)}")
        return cls(**values)
