"""Where a match is scored: integer points, component by component, for any set of pairs.

`pair_components` is the one definition of the score. The solver's weights are its row
sums, and an explanation is its row for one pair, so an explanation can never disagree
with what the solver optimised.
"""

from collections.abc import Iterator

import numpy as np

from services.matching.engine.arrays import NO_PAIRS, NO_RELIGION, Households, Pairs, Units
from services.matching.engine.eligibility import EARTH_RADIUS_KM
from services.matching.engine.policy import ScoringPolicy

COMPATIBILITY = (
    "needs_comfort",
    "age_fit",
    "distance",
    "contact",
    "mutual_interest",
    "culture",
    "language",
    "religion",
)
PRIORITY = ("waiting_time", "sibling_group", "aged_five_plus", "disability", "minority_ethnic")
COMPONENTS = COMPATIBILITY + PRIORITY


def soft_weight(days_waiting: np.ndarray, policy: ScoringPolicy) -> np.ndarray:
    """1 for a child who has just started waiting, falling to 0 at `soft_fade_days`."""
    return np.clip(1.0 - days_waiting / policy.soft_fade_days, 0.0, 1.0)


def priority_points(units: Units, policy: ScoringPolicy, rows: np.ndarray) -> np.ndarray:
    """int32 (len(rows), 5): the points a unit brings to any household."""
    wait = np.minimum(units.days_waiting[rows] // 30 * policy.wait_points_per_30_days, policy.wait_points_cap)
    return np.stack(
        [
            wait,
            np.where(units.size[rows] > 1, policy.sibling_group_points, 0),
            np.where(units.age_max_months[rows] >= policy.aged_five_plus_months, policy.aged_five_plus_points, 0),
            np.where(units.disabled[rows], policy.disability_points, 0),
            np.where(units.minority_ethnic[rows], policy.minority_ethnic_points, 0),
        ],
        axis=1,
    ).astype(np.int32)


def pair_distance_km(units: Units, households: Households, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Equirectangular distance: within 0.5% of the great circle below 500 km, where the
    distance score is not negligible, and a fraction of the trigonometry per pair."""
    lat1, lat2 = units.latitude[rows], households.latitude[cols]
    x = (households.longitude[cols] - units.longitude[rows]) * np.cos(np.radians((lat1 + lat2) / 2))
    return EARTH_RADIUS_KM * np.radians(np.hypot(x, lat2 - lat1))


def compatibility(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    rows: np.ndarray,
    cols: np.ndarray,
    interests: Pairs = NO_PAIRS,
) -> Iterator[np.ndarray]:
    """The compatibility components for the pairs, one array each, in COMPATIBILITY order."""
    headroom = np.zeros(len(rows), dtype=np.int16)
    can_meet, needs = households.can_meet.T.astype(np.int16), units.needs.T.astype(np.int16)  # contiguous columns
    for need in range(len(can_meet)):
        headroom += np.maximum(can_meet[need][cols] - needs[need][rows], 0)
    yield np.minimum(headroom.astype(np.int32) * policy.needs_points_per_level, policy.needs_points_cap)

    hh_mid = ((households.age_min_months + households.age_max_months) / 2.0)[cols]
    hh_half = ((households.age_max_months - households.age_min_months) / 2.0 + 6.0)[cols]
    unit_mid = ((units.age_min_months + units.age_max_months) / 2.0)[rows]
    yield np.rint(policy.age_fit_points * np.clip(1.0 - np.abs(unit_mid - hh_mid) / hh_half, 0.0, 1.0))

    km = pair_distance_km(units, households, rows, cols)
    yield np.rint(policy.distance_points * np.exp2(-km / policy.distance_half_points_km))

    # Open to the plan: half the points; open to more than it: all of them.
    spare = households.contact_openness[cols].astype(np.int32) - units.contact_plan[rows]
    yield np.where(spare >= 0, policy.contact_points * (1 + np.minimum(spare, 1)) // 2, 0)

    yield np.where(interests.contains(rows, cols), policy.mutual_interest_points, 0)

    fade = soft_weight(units.days_waiting, policy)
    yield np.rint(policy.culture_points * fade)[rows] * (units.ethnicity[rows] == households.ethnicity[cols])
    yield np.rint(policy.language_points * fade)[rows] * ((units.languages[rows] & households.languages[cols]) != 0)
    same_faith = (units.religion[rows] != NO_RELIGION) & (units.religion[rows] == households.religion[cols])
    yield np.rint(policy.religion_points * fade)[rows] * same_faith


def pair_components(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    rows: np.ndarray,
    cols: np.ndarray,
    interests: Pairs = NO_PAIRS,
) -> np.ndarray:
    """int32 (len(rows), len(COMPONENTS)) for the pairs (rows[k], cols[k])."""
    parts = np.stack(
        [part.astype(np.int32) for part in compatibility(units, households, policy, rows, cols, interests)], axis=1
    )
    return np.concatenate([parts, priority_points(units, policy, rows)], axis=1)


def pair_scores(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    rows: np.ndarray,
    cols: np.ndarray,
    interests: Pairs = NO_PAIRS,
) -> np.ndarray:
    """The row sums of `pair_components`, without building the matrix (the solver's weights)."""
    total = np.zeros(len(rows), dtype=np.int64)
    for part in compatibility(units, households, policy, rows, cols, interests):
        total += part.astype(np.int64)
    unit_priority = priority_points(units, policy, np.arange(len(units))).sum(axis=1, dtype=np.int64)
    return total + unit_priority[rows]


def explain(
    units: Units,
    households: Households,
    policy: ScoringPolicy,
    unit: int,
    household: int,
    interests: Pairs = NO_PAIRS,
) -> dict[str, int]:
    row = pair_components(units, households, policy, np.array([unit]), np.array([household]), interests)[0]
    return {name: int(points) for name, points in zip(COMPONENTS, row, strict=True)}
