"""Where eligibility is decided: the hard rules, as a boolean mask over units x households.

A pair is eligible only if every rule holds; nothing here is a preference. Each rule is a
named function in `RULES`, so a unit no household can take is explained rule by rule
(`ruled_out_by`). Vectorised over a block of units against all households, so a national
pool of any size is done in blocks of bounded memory. Every rule holds for every child of
a group: the group's arrays carry the youngest and oldest age, the highest level of each
need, the most demanding contact plan, every excluded region and each child's own distance
from their own birth family.
"""

from collections.abc import Callable

import numpy as np

from services.matching.engine.arrays import N_NEEDS, Households, Units

EARTH_RADIUS_KM = 6371.0

Rule = Callable[[Units, Households, np.ndarray], np.ndarray]


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _available(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    return u.available[rows, None] & h.available[None, :]


def _capacity(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    # The household takes the whole group, and only if approved for that many children.
    return u.size[rows, None] <= h.capacity[None, :]


def _sibling_group(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    return (u.size[rows, None] == 1) | h.accepts_siblings[None, :]


def _age(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    # Every child's age inside the household's approved range.
    return (u.age_min_months[rows, None] >= h.age_min_months[None, :]) & (
        u.age_max_months[rows, None] <= h.age_max_months[None, :]
    )


def _need(need: int) -> Rule:
    def rule(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
        # Every child's level of this need at or below what the household can meet.
        return u.needs[rows, need][:, None] <= h.can_meet[None, :, need]

    return rule


def _contact(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    # The household is open to at least the most demanding contact plan of the children.
    return u.contact_plan[rows, None] <= h.contact_openness[None, :]


def _excluded_region(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    return ~u.excluded_regions[rows][:, h.region]


def _birth_family_distance(u: Units, h: Households, rows: np.ndarray) -> np.ndarray:
    # Each restricted child at least their own minimum distance from their own birth family.
    ok = np.ones((len(rows), len(h)), dtype=bool)
    for column in range(u.min_distance_km.shape[1]):
        minimum = u.min_distance_km[rows, column]
        restricted = minimum > 0
        if not restricted.any():
            continue
        r = rows[restricted]
        far = haversine_km(
            u.birth_latitude[r, column, None],
            u.birth_longitude[r, column, None],
            h.latitude[None, :],
            h.longitude[None, :],
        )
        ok[restricted] &= far >= minimum[restricted, None]
    return ok


RULES: dict[str, Rule] = {
    "available": _available,
    "capacity": _capacity,
    "sibling_group": _sibling_group,
    "age": _age,
    **{f"needs.{need}": _need(need) for need in range(N_NEEDS)},
    "contact": _contact,
    "excluded_region": _excluded_region,
    "birth_family_distance": _birth_family_distance,
}


def _within_reach(u: Units, h: Households, rows: np.ndarray, max_distance_km: float) -> np.ndarray:
    """The policy's cap on the distance for introductions, when it sets one."""
    near = haversine_km(u.latitude[rows, None], u.longitude[rows, None], h.latitude[None, :], h.longitude[None, :])
    return near <= max_distance_km


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
    ok = np.ones((len(rows), len(households)), dtype=bool)
    for rule in RULES.values():
        ok &= rule(units, households, rows)
    if max_distance_km > 0:
        ok &= _within_reach(units, households, rows, max_distance_km)
    _exclude_declined(ok, rows, np.arange(len(households)), declined)
    return ok


def ruled_out_by(
    units: Units,
    households: Households,
    unit: int,
    declined: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    max_distance_km: float = 0,
    need_names: tuple[str, ...] = (),
) -> dict[str, int]:
    """For one unit: how many households each hard rule rules out (a household failing
    several rules counts under each), so the children no household can take are never left
    out silently. `need_names` turns `needs.<i>` into `needs.<name>`."""
    rows = np.array([unit])
    counts = {name: int((~rule(units, households, rows)[0]).sum()) for name, rule in RULES.items()}
    if max_distance_km > 0:
        counts["distance_cap"] = int((~_within_reach(units, households, rows, max_distance_km)[0]).sum())
    if declined is not None and len(declined[0]):
        counts["declined_or_refused"] = int((declined[0] == unit).sum())
    named = {}
    for name, count in counts.items():
        if count:
            index = name.removeprefix("needs.")
            named[f"needs.{need_names[int(index)]}" if index != name and need_names else name] = count
    return named


def _exclude_declined(
    mask: np.ndarray, rows: np.ndarray, cols: np.ndarray, declined: tuple[np.ndarray, np.ndarray] | None
) -> None:
    """Pairs a family finder declined (or a household's agency refused) are never proposed again."""
    if declined is None or not len(declined[0]):
        return
    row_at = {unit: k for k, unit in enumerate(rows.tolist())}
    col_at = {household: k for k, household in enumerate(cols.tolist())}
    for unit, household in zip(declined[0].tolist(), declined[1].tolist(), strict=True):
        if unit in row_at and household in col_at:
            mask[row_at[unit], col_at[household]] = False
