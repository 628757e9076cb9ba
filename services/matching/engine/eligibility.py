"""Where eligibility is decided: the hard rules, as a boolean mask over units x households.

A pair is eligible only if every rule holds; nothing here is a preference. Vectorised over
a block of units against all households, so a national pool of any size is done in
blocks of bounded memory.
"""

import numpy as np

from services.matching.engine.arrays import N_NEEDS, Households, Units

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def eligibility_mask(
    units: Units,
    households: Households,
    rows: np.ndarray,
    declined: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    cols: np.ndarray | None = None,
    max_distance_km: float = 0,
) -> np.ndarray:
    """bool (len(rows), len(cols)): which of these households (all when `cols` is None)
    each of these units may be proposed."""
    if cols is not None:
        mask = eligibility_mask(units, households.take(cols), rows, max_distance_km=max_distance_km)
        _exclude_declined(mask, rows, cols, declined)
        return mask
    u = rows
    ok = units.available[u, None] & households.available[None, :]
    # The household takes the whole group, and only if approved for that many children.
    ok &= units.size[u, None] <= households.capacity[None, :]
    ok &= (units.size[u, None] == 1) | households.accepts_siblings[None, :]
    # Every child's age inside the household's approved range.
    ok &= units.age_min_months[u, None] >= households.age_min_months[None, :]
    ok &= units.age_max_months[u, None] <= households.age_max_months[None, :]
    # Every need of every child at or below what the household can meet.
    for need in range(N_NEEDS):
        ok &= units.needs[u, need][:, None] <= households.can_meet[None, :, need]
    # The child's placement restrictions: excluded areas, distance from the birth family.
    ok &= ~units.excluded_regions[u][:, households.region]
    restricted = units.min_distance_km[u] > 0
    if restricted.any():
        r = u[restricted]
        far = haversine_km(
            units.birth_latitude[r, None],
            units.birth_longitude[r, None],
            households.latitude[None, :],
            households.longitude[None, :],
        )
        ok[restricted] &= far >= units.min_distance_km[r, None]
    # The policy's cap on the distance for introductions, when it sets one.
    if max_distance_km > 0:
        ok &= (
            haversine_km(
                units.latitude[u, None],
                units.longitude[u, None],
                households.latitude[None, :],
                households.longitude[None, :],
            )
            <= max_distance_km
        )
    _exclude_declined(ok, u, np.arange(len(households)), declined)
    return ok


def _exclude_declined(
    mask: np.ndarray, rows: np.ndarray, cols: np.ndarray, declined: tuple[np.ndarray, np.ndarray] | None
) -> None:
    """Pairs a family finder declined are never proposed again."""
    if declined is None or not len(declined[0]):
        return
    row_at = {unit: k for k, unit in enumerate(rows.tolist())}
    col_at = {household: k for k, household in enumerate(cols.tolist())}
    for unit, household in zip(declined[0].tolist(), declined[1].tolist(), strict=True):
        if unit in row_at and household in col_at:
            mask[row_at[unit], col_at[household]] = False
