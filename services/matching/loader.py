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

from services.matching.engine.arrays import N_NEEDS, NO_RELIGION, Households, Units
from services.matching.models import DeclinedPair
from services.register.links.models import Link
from services.register.models import Agency, Child, Household, SiblingGroup, need_column_name
from services.register.vocabulary import (
    ACTIVE_LINK_STATUSES,
    DISABILITY_NEEDS,
    DISABILITY_THRESHOLD,
    NEEDS,
    Ethnicity,
    HouseholdStatus,
    LinkStatus,
    Region,
    Religion,
    SiblingGroupStatus,
)

REGIONS = list(Region)
ETHNICITIES = list(Ethnicity)
RELIGIONS = [r for r in Religion if r is not Religion.NONE]
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


def months_between(born: date, today: date) -> int:
    return (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)


class Languages:
    """Languages as bits of a 32-bit mask, in alphabetical order (deterministic). Beyond 32
    languages bits are shared, which can only make two languages look shared: a soft
    preference, never a hard rule."""

    def __init__(self, names: set[str]) -> None:
        self.bit = {name: 1 << (i % 32) for i, name in enumerate(sorted(names))}

    def mask(self, names: list[str]) -> int:
        value = 0
        for name in names:
            value |= self.bit.get(name, 0)
        return value


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
    languages = Languages(
        {lang for c in children for lang in c.languages} | {lang for h in households for lang in h.languages}
    )
    units = units_from_children([by_group[gid] for gid, _ in kept], today, languages)
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
        households=households_from_records(households, languages),
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


def units_from_children(groups: list[list[Child]], today: date, languages: "Languages") -> Units:
    """One unit per group of children (register rows, or anything with the same attributes)."""
    n = len(groups)
    needs = np.zeros((n, N_NEEDS), dtype=np.int8)
    excluded = np.zeros((n, len(REGIONS)), dtype=bool)
    columns = [need_column_name(need) for need in NEEDS]
    disability = [NEEDS.index(need) for need in DISABILITY_NEEDS]
    ages, waits, birth_lat, birth_lon = [], [], [], []
    for i, children in enumerate(groups):
        for child in children:
            needs[i] = np.maximum(needs[i], [getattr(child, c) for c in columns])
            for region in child.excluded_regions:
                excluded[i, REGIONS.index(Region(region))] = True
        ages.append([months_between(c.date_of_birth, today) for c in children])
        waits.append(max((today - c.waiting_since).days for c in children))
        located = [c for c in children if c.birth_family_latitude is not None]
        birth_lat.append(np.mean([c.birth_family_latitude for c in located]) if located else np.nan)
        birth_lon.append(np.mean([c.birth_family_longitude for c in located]) if located else np.nan)
    first = [children[0] for children in groups]
    religion = [NO_RELIGION if c.religion is Religion.NONE else RELIGIONS.index(c.religion) for c in first]
    return Units(
        size=np.array([len(g) for g in groups], dtype=np.int16),
        age_min_months=np.array([min(a) for a in ages], dtype=np.int16),
        age_max_months=np.array([max(a) for a in ages], dtype=np.int16),
        needs=needs,
        days_waiting=np.array(waits, dtype=np.int32),
        disabled=(needs[:, disability] >= int(DISABILITY_THRESHOLD)).any(axis=1),
        minority_ethnic=np.array([any(c.ethnicity.is_minority for c in g) for g in groups], dtype=bool),
        latitude=np.array([np.mean([c.latitude for c in g]) for g in groups], dtype=np.float64),
        longitude=np.array([np.mean([c.longitude for c in g]) for g in groups], dtype=np.float64),
        excluded_regions=excluded,
        birth_latitude=np.array(birth_lat, dtype=np.float64),
        birth_longitude=np.array(birth_lon, dtype=np.float64),
        min_distance_km=np.array([max(c.min_distance_km for c in g) for g in groups], dtype=np.float64),
        ethnicity=np.array([ETHNICITIES.index(c.ethnicity) for c in first], dtype=np.int8),
        religion=np.array(religion, dtype=np.int8),
        languages=np.array(
            [languages.mask([lang for c in g for lang in c.languages]) for g in groups], dtype=np.uint32
        ),
        contact_plan=np.array([max(c.contact_plan for c in g) for g in groups], dtype=np.int8),
        available=np.ones(n, dtype=bool),
    )


def households_from_records(households: list[Household], languages: "Languages") -> Households:
    columns = [need_column_name(need) for need in NEEDS]
    religion = [NO_RELIGION if h.religion is Religion.NONE else RELIGIONS.index(h.religion) for h in households]
    return Households(
        available=np.ones(len(households), dtype=bool),
        capacity=np.array([h.approved_children for h in households], dtype=np.int16),
        age_min_months=np.array([h.age_min_years * 12 for h in households], dtype=np.int16),
        # "Approved up to 4" takes a child until their fifth birthday.
        age_max_months=np.array([h.age_max_years * 12 + 11 for h in households], dtype=np.int16),
        can_meet=np.array([[getattr(h, c) for c in columns] for h in households], dtype=np.int8).reshape(-1, N_NEEDS),
        accepts_siblings=np.array([h.accepts_sibling_group for h in households], dtype=bool),
        region=np.array([REGIONS.index(h.region) for h in households], dtype=np.int8),
        latitude=np.array([h.latitude for h in households], dtype=np.float64),
        longitude=np.array([h.longitude for h in households], dtype=np.float64),
        ethnicity=np.array([ETHNICITIES.index(h.ethnicity) for h in households], dtype=np.int8),
        religion=np.array(religion, dtype=np.int8),
        languages=np.array([languages.mask(h.languages) for h in households], dtype=np.uint32),
        contact_openness=np.array([h.contact_openness for h in households], dtype=np.int8),
    )
