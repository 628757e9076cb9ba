"""The matching service's read-only view of the register: the pool as engine arrays.

Only SELECTs over the register's tables; the matching service writes only its own tables.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import Exists, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from services.matching.engine.arrays import Households, Units
from services.matching.engine.encode import (
    ChildRecord,
    HouseholdRecord,
    Languages,
    households_from_records,
    units_from_children,
)
from services.matching.models import DeclinedPair
from services.register.links.models import Link
from services.register.models import Agency, Child, Household, SiblingGroup, need_column_name
from services.register.vocabulary import (
    ACTIVE_LINK_STATUSES,
    NEEDS,
    HouseholdStatus,
    LinkStatus,
    Region,
    SiblingGroupStatus,
)

NEED_COLUMNS = [need_column_name(need) for need in NEEDS]
LA = aliased(Agency, name="la")
RAA = aliased(Agency, name="raa")


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
    counts: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of every input the engine sees, to tell whether two runs saw the same pool."""
        digest = hashlib.sha256()
        for arrays in (self.units, self.households):
            for value in vars(arrays).values():
                digest.update(np.ascontiguousarray(value).tobytes())
        digest.update(self.group_ids.tobytes() + self.household_ids.tobytes())
        for part in self.declined:
            digest.update(part.tobytes())
        return digest.hexdigest()


def in_active_link(column: InstrumentedAttribute[int], key: InstrumentedAttribute[int]) -> Exists:
    """Units and households in an active link are out of the pool."""
    return exists().where(column == key, Link.status.in_(ACTIVE_LINK_STATUSES))


async def load_pool(
    session: AsyncSession, *, today: date, scope: Scope = Scope(), group_ids: list[int] | None = None
) -> Pool:
    group_query = (
        select(SiblingGroup.id, SiblingGroup.ref)
        .join(LA, SiblingGroup.la_id == LA.id)
        .join(RAA, LA.parent_raa_id == RAA.id)
        .where(
            SiblingGroup.status == SiblingGroupStatus.WAITING, ~in_active_link(Link.sibling_group_id, SiblingGroup.id)
        )
    )
    household_query = (
        select(Household, Agency.ref)
        .join(Agency, Household.approving_agency_id == Agency.id)
        .where(Household.status == HouseholdStatus.APPROVED, ~in_active_link(Link.household_id, Household.id))
    )
    if group_ids is not None:
        group_query = select(SiblingGroup.id, SiblingGroup.ref).where(SiblingGroup.id.in_(group_ids))
    if scope.regions:
        group_query = group_query.where(LA.region.in_(scope.regions))
        household_query = household_query.where(Household.region.in_(scope.regions))
    if scope.agency_refs:
        group_query = group_query.where((LA.ref.in_(scope.agency_refs)) | (RAA.ref.in_(scope.agency_refs)))
        household_query = household_query.where(Agency.ref.in_(scope.agency_refs))
    groups = (await session.execute(group_query.order_by(SiblingGroup.id))).all()
    ids = [g.id for g in groups]
    children = list(
        await session.scalars(
            select(Child).where(Child.sibling_group_id.in_(ids)).order_by(Child.sibling_group_id, Child.id)
        )
    )
    households = [h for h, _ in (await session.execute(household_query.order_by(Household.id))).all()]
    by_group: dict[int, list[Child]] = {gid: [] for gid in ids}
    for child in children:
        by_group[child.sibling_group_id].append(child)
    kept = [(g.id, g.ref) for g in groups if by_group[g.id]]  # an empty group is never matched
    child_records = {c.id: child_record(c) for c in children}
    household_records = [household_record(h) for h in households]
    languages = Languages.of(child_records.values(), household_records)
    units = units_from_children([[child_records[c.id] for c in by_group[gid]] for gid, _ in kept], today, languages)
    # Pairs a family finder declined, and pairs a household's agency refused: never again.
    declined_rows = (await session.execute(select(DeclinedPair.sibling_group_id, DeclinedPair.household_id))).all()
    declined_rows += (
        await session.execute(select(Link.sibling_group_id, Link.household_id).where(Link.status == LinkStatus.REFUSED))
    ).all()
    group_index = {gid: i for i, (gid, _) in enumerate(kept)}
    household_index = {h.id: j for j, h in enumerate(households)}
    pairs = [
        (group_index[g], household_index[h]) for g, h in declined_rows if g in group_index and h in household_index
    ]
    declined = (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))
    return Pool(
        units=units,
        households=households_from_records(household_records, languages),
        group_ids=np.array([gid for gid, _ in kept], dtype=np.int64),
        group_refs=[ref for _, ref in kept],
        household_ids=np.array([h.id for h in households], dtype=np.int64),
        household_refs=[h.ref for h in households],
        declined=declined,
        counts={
            "units": len(kept),
            "children": sum(len(by_group[g]) for g, _ in kept),
            "households": len(households),
            "declined_pairs": len(pairs),
        },
    )


def child_record(child: Child) -> ChildRecord:
    return ChildRecord(
        date_of_birth=child.date_of_birth,
        waiting_since=child.waiting_since,
        needs=tuple(getattr(child, column) for column in NEED_COLUMNS),
        ethnicity=child.ethnicity,
        religion=child.religion,
        languages=tuple(child.languages),
        latitude=child.latitude,
        longitude=child.longitude,
        contact_plan=child.contact_plan,
        excluded_regions=tuple(Region(region) for region in child.excluded_regions),
        birth_family_latitude=child.birth_family_latitude,
        birth_family_longitude=child.birth_family_longitude,
        min_distance_km=child.min_distance_km,
    )


def household_record(household: Household) -> HouseholdRecord:
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
