"""The matching service's read-only view of the register: the pool as engine arrays.

Reads only (its SELECTs are in `matching/repository.py`); the matching service writes only
its own tables.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import repository
from services.matching.engine.arrays import NO_PAIRS, Households, Pairs, Units
from services.matching.engine.encode import (
    ChildRecord,
    HouseholdRecord,
    Languages,
    households_from_records,
    units_from_children,
)
from services.register.models import need_column_name
from services.register.vocabulary import NEEDS, Ethnicity, Region, Religion

NEED_COLUMNS = [need_column_name(need) for need in NEEDS]


@dataclass(frozen=True)
class Scope:
    """Limit a run to some regions or agencies (of the children's LA or RAA, and of the
    households' approving agency). Empty means the national pool."""

    regions: tuple[Region, ...] = ()
    agency_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pool:
    units: Units
    households: Households
    group_ids: np.ndarray
    group_refs: list[str]
    household_ids: np.ndarray
    household_refs: list[str]
    declined: tuple[np.ndarray, np.ndarray]
    interests: Pairs = NO_PAIRS  # the household expressed interest in the unit
    counts: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of every input the engine sees, to tell whether two runs saw the same pool."""
        digest = hashlib.sha256()
        for arrays in (self.units, self.households):
            for value in vars(arrays).values():
                digest.update(np.ascontiguousarray(value).tobytes())
        digest.update(self.group_ids.tobytes() + self.household_ids.tobytes())
        for part in (*self.declined, self.interests.units, self.interests.households):
            digest.update(part.tobytes())
        return digest.hexdigest()


async def load_pool(
    session: AsyncSession, *, today: date, scope: Scope = Scope(), group_ids: list[int] | None = None
) -> Pool:
    """The waiting units and available households in scope (or just `group_ids`' units), as
    engine arrays, with the pairs never to propose again and the pairs of mutual interest."""
    groups = await repository.pool_groups(
        session, regions=scope.regions, agency_refs=scope.agency_refs, group_ids=group_ids
    )
    ids = [gid for gid, _ in groups]
    children = await repository.pool_children(session, ids)
    households = await repository.pool_households(session, regions=scope.regions, agency_refs=scope.agency_refs)
    by_group: dict[int, list[Any]] = {gid: [] for gid in ids}
    for child in children:
        by_group[child["sibling_group_id"]].append(child)
    kept = [(gid, ref) for gid, ref in groups if by_group[gid]]  # an empty group is never matched
    child_records = {c["id"]: child_record(c) for c in children}
    household_records = [household_record(h) for h in households]
    languages = Languages.of(child_records.values(), household_records)
    units = units_from_children([[child_records[c["id"]] for c in by_group[gid]] for gid, _ in kept], today, languages)
    group_index = {gid: i for i, (gid, _) in enumerate(kept)}
    household_index = {h.id: j for j, h in enumerate(households)}

    def as_indices(rows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        pairs = [(group_index[g], household_index[h]) for g, h in rows if g in group_index and h in household_index]
        return (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))

    # Pairs a family finder declined, and pairs a household's agency refused: never again.
    declined = as_indices(await repository.never_again_pairs(session))
    interested = as_indices(await repository.interest_pairs(session))
    return Pool(
        units=units,
        households=households_from_records(household_records, languages),
        group_ids=np.array([gid for gid, _ in kept], dtype=np.int64),
        group_refs=[ref for _, ref in kept],
        household_ids=np.array([h.id for h in households], dtype=np.int64),
        household_refs=[h.ref for h in households],
        declined=declined,
        interests=Pairs(*interested),
        counts={
            "units": len(kept),
            "children": sum(len(by_group[g]) for g, _ in kept),
            "households": len(households),
            "declined_pairs": len(declined[0]),
            "interest_pairs": len(interested[0]),
        },
    )


def child_record(child: Any) -> ChildRecord:
    """From a row of repository.POOL_CHILD_COLUMNS (an asyncpg Record, by column name: the
    driver gives enumerations as their text)."""
    return ChildRecord(
        date_of_birth=child["date_of_birth"],
        waiting_since=child["waiting_since"],
        needs=tuple(child[column] for column in NEED_COLUMNS),
        ethnicity=Ethnicity(child["ethnicity"]),
        religion=Religion(child["religion"]),
        languages=tuple(child["languages"]),
        latitude=child["latitude"],
        longitude=child["longitude"],
        contact_plan=child["contact_plan"],
        excluded_regions=tuple(Region(region) for region in child["excluded_regions"]),
        birth_family_latitude=child["birth_family_latitude"],
        birth_family_longitude=child["birth_family_longitude"],
        min_distance_km=child["min_distance_km"],
    )


def household_record(household: Any) -> HouseholdRecord:
    """From a Household, or a row of repository.POOL_HOUSEHOLD_COLUMNS."""
    return HouseholdRecord(
        approved_children=household.approved_children,
        age_min_years=household.age_min_years,
        age_max_years=household.age_max_years,
        can_meet=tuple(getattr(household, column) for column in NEED_COLUMNS),
        accepts_sibling_group=household.accepts_sibling_group,
        region=household.region,
        latitude=household.latitude,
        longitude=household.longitude,
        ethnicity=household.ethnicity,
        religion=household.religion,
        languages=tuple(household.languages),
        contact_openness=household.contact_openness,
    )
