"""All SQL for placements."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.errors import NotFound
from services.register.models import Agency, Child, Household, Placement, SiblingGroup

ChildAgency = aliased(Agency, name="child_agency")
HouseholdAgency = aliased(Agency, name="household_agency")


@dataclass(frozen=True)
class PlacementRow:
    placement: Placement
    sibling_group_ref: str
    household_ref: str
    child_agency_ref: str
    household_agency_ref: str


def _rows() -> Select:
    return (
        select(Placement, SiblingGroup.ref, Household.ref, ChildAgency.ref, HouseholdAgency.ref)
        .join(SiblingGroup, Placement.sibling_group_id == SiblingGroup.id)
        .join(Household, Placement.household_id == Household.id)
        .join(ChildAgency, Placement.child_agency_id == ChildAgency.id)
        .join(HouseholdAgency, Placement.household_agency_id == HouseholdAgency.id)
    )


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> PlacementRow:
    query = _rows().where(Placement.ref == ref)
    if for_update:
        query = query.with_for_update(of=Placement)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No placement {ref}.")
    return PlacementRow(*row)


async def list_placements(
    session: AsyncSession,
    *,
    agency_ref: str | None,
    placed_from: date | None,
    placed_to: date | None,
    after_id: int | None,
    limit: int,
) -> list[PlacementRow]:
    query = _rows()
    if agency_ref:
        query = query.where(or_(ChildAgency.ref == agency_ref, HouseholdAgency.ref == agency_ref))
    if placed_from:
        query = query.where(Placement.placed_on >= placed_from)
    if placed_to:
        query = query.where(Placement.placed_on <= placed_to)
    if after_id is not None:
        query = query.where(Placement.id > after_id)
    rows = await session.execute(query.order_by(Placement.id).limit(limit))
    return [PlacementRow(*r) for r in rows.all()]


async def accountable_agency(session: AsyncSession, agency: Agency) -> Agency:
    """The agency that pays or is paid for a placement: a local authority's RAA, otherwise
    the agency itself (an RAA or a voluntary adoption agency)."""
    if agency.parent_raa_id is None:
        return agency
    return (await session.scalars(select(Agency).where(Agency.id == agency.parent_raa_id))).one()


async def get_by_id(session: AsyncSession, placement_id: int, *, for_update: bool = False) -> Placement:
    query = select(Placement).where(Placement.id == placement_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one()


async def children_placed_without_order(session: AsyncSession, household_id: int) -> int:
    """Children living with the household whose adoption order is not yet made."""
    count = await session.scalar(
        select(func.count(Child.id))
        .select_from(Placement)
        .join(Child, Child.sibling_group_id == Placement.sibling_group_id)
        .where(
            Placement.household_id == household_id,
            Placement.ended_on.is_(None),
            Placement.adoption_order_on.is_(None),
        )
    )
    return int(count or 0)
